package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

const demoPartition = "ou=Root,ou=Example,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"

// The demo reconciles its sample OTDS directory at start-up: joiners appear
// in HubSpot; an LDAP change (mover, leaver) reaches HubSpot within seconds
// through the incremental polls; sync --dry-run against the running demo
// prints a readable plan.
func TestDemoDirectory(t *testing.T) {
	d := startDemo(t)
	ldapURL, _, _ := strings.Cut(d.directory, " ")
	// Joiners: everyone in "HubSpot Users" and enabled (42 people).
	waitFor(t, "directory joiners in HubSpot", func() error {
		if h := d.hubspotUser(t, "margaret.holloway@example.com"); h == nil || h["roleId"] != "3000001" {
			return fmt.Errorf("Margaret Holloway (Sales Managers) in HubSpot: %v", h)
		}
		if n := d.hubspotCount(t); n != 43 { // 42 people and the seeded super admin
			return fmt.Errorf("%d HubSpot users", n)
		}
		return nil
	})
	if h := d.hubspotUser(t, "daniel.kowalski@example.com"); h == nil || h["primaryTeamId"] != "5000001" {
		t.Fatalf("Daniel Kowalski's main team should be EMEA Sales: %v", h)
	}
	// Profile attributes on his users-object record.
	waitFor(t, "Daniel's profile in HubSpot", func() error {
		p := d.crmProfile(t, "daniel.kowalski@example.com")
		if p["department"] != "Sales EMEA" || p["manager"] != "oliver.bennett@example.com" || p["location"] != "Warszawa" || p["hs_job_title"] != "Sales Development Rep" {
			return fmt.Errorf("profile %v", p)
		}
		return nil
	})

	// Mover and leaver, as an OTDS administrator would make them.
	conn, err := goldap.DialURL(ldapURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Bind(demoBindDN, demoBindPassword); err != nil {
		t.Fatal(err)
	}
	daniel, oliver := "cn=Daniel Kowalski,"+demoPartition, "cn=Oliver Bennett,"+demoPartition
	group := func(name string) string { return "cn=" + name + ",ou=groups," + demoPartition }
	mods := []*goldap.ModifyRequest{}
	m := goldap.NewModifyRequest(daniel, nil)
	m.Replace("sn", []string{"Kowalski-Nowak"})
	m.Replace("oTDepartment", []string{"Sales NA"})
	m.Replace("manager", []string{"cn=Jessica Morgan," + demoPartition})
	m.Delete("oTMemberOf", []string{group("EMEA Sales")})
	m.Add("oTMemberOf", []string{group("NA Sales")})
	mods = append(mods, m)
	m = goldap.NewModifyRequest(group("EMEA Sales"), nil)
	m.Delete("oTMember", []string{daniel})
	mods = append(mods, m)
	m = goldap.NewModifyRequest(group("NA Sales"), nil)
	m.Add("oTMember", []string{daniel})
	mods = append(mods, m)
	m = goldap.NewModifyRequest(oliver, nil)
	m.Delete("oTMemberOf", []string{group("HubSpot Users")})
	mods = append(mods, m)
	m = goldap.NewModifyRequest(group("HubSpot Users"), nil)
	m.Delete("oTMember", []string{oliver})
	mods = append(mods, m)
	// Daniel has signed in to HubSpot, so accepted its invitation: HubSpot
	// takes name changes only after that.
	if resp, err := http.Post(d.hubspot+"/_sim/accept", "application/json", strings.NewReader(`{"email":"daniel.kowalski@example.com"}`)); err != nil || resp.StatusCode >= 300 {
		t.Fatalf("accepting the invitation: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	for _, m := range mods {
		if err := conn.Modify(m); err != nil {
			t.Fatalf("modify %s: %v", m.DN, err)
		}
	}
	start := time.Now()
	waitFor(t, "the mover and the leaver in HubSpot", func() error {
		h := d.hubspotUser(t, "daniel.kowalski@example.com")
		if h == nil || h["lastName"] != "Kowalski-Nowak" || h["primaryTeamId"] != "5000002" {
			return fmt.Errorf("mover: %v", h)
		}
		if h := d.hubspotUser(t, "oliver.bennett@example.com"); h != nil {
			return fmt.Errorf("leaver still in HubSpot: %v", h)
		}
		if p := d.crmProfile(t, "daniel.kowalski@example.com"); p["department"] != "Sales NA" || p["manager"] != "jessica.morgan@example.com" {
			return fmt.Errorf("mover's profile: %v", p)
		}
		return nil
	})
	t.Logf("directory change reached HubSpot in %s", time.Since(start).Round(time.Millisecond))

	// sync --dry-run against the running demo: nothing left to do.
	var out, errOut strings.Builder
	if code := run(context.Background(), []string{"sync", "--config", d.config, "--dry-run"}, &out, &errOut); code != 0 {
		t.Fatalf("sync --dry-run: %d\n%s\n%s", code, out.String(), errOut.String())
	}
	if !strings.Contains(out.String(), "Dry run: nothing was changed.") || !strings.Contains(out.String(), "Summary: no changes") {
		t.Fatalf("sync --dry-run printed:\n%s", out.String())
	}
	// A real sync would be a second reconciler on the serve's store: it is
	// refused, naming the serve and what to do instead.
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), []string{"sync", "--config", d.config}, &out, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "in use by scimbridge serve (pid ") || !strings.Contains(errOut.String(), "POST /admin/v1/reconcile") {
		t.Fatalf("sync beside a running serve: exit %d\n%s\n%s", code, out.String(), errOut.String())
	}
	// Through the admin API instead: dryRun takes the usual spellings of
	// true, and anything that is not a boolean is refused, never run.
	admin := func(query string) (int, map[string]any) {
		return d.request(t, "POST", strings.TrimSuffix(d.scim, "/scim/v2")+"/admin/v1/reconcile"+query, "")
	}
	if code, m := admin("?dryRun=TRUE"); code != 200 || m["plan"] == nil {
		t.Fatalf("dryRun=TRUE: %d %v", code, m)
	}
	if code, m := admin("?dryRun=maybe"); code != 400 || m["scimType"] != "invalidValue" {
		t.Fatalf("dryRun=maybe: %d %v", code, m)
	}
}

// crmProfile reads a user's users-object properties from the demo's
// simulator (nil when there is no record).
func (d *demo) crmProfile(t *testing.T, email string) map[string]string {
	t.Helper()
	resp, err := http.Get(d.hubspot + "/_sim/crm-users")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Users []struct {
			Properties map[string]string `json:"properties"`
		} `json:"users"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	for _, u := range body.Users {
		if strings.EqualFold(u.Properties["hs_email"], email) {
			return u.Properties
		}
	}
	return nil
}

func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	waitForWithin(t, 20*time.Second, what, cond)
}

func waitForWithin(t *testing.T, limit time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
