package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory/ldapmem"
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// Two HubSpot tokens of one portal: the first lacks settings.billing.write
// (paid-seat roles are refused), the second is the same app after an
// administrator granted it.
const (
	reviewTokenNoBilling = "pat-review-no-billing-0001"
	reviewTokenFull      = "pat-review-full-scopes-0002"
)

// reviewScenario is a portal, a directory and a bridge store with one
// problem of every kind the review reports.
type reviewScenario struct {
	sim    *hubspotsim.Server
	dir    *ldapmem.Server
	cfg    *config.Config
	config string // path of the configuration (the no-billing token)
	hs     *hubspot.Client
}

func (sc *reviewScenario) writeConfig(t *testing.T, token string) string {
	t.Helper()
	sc.cfg.HubSpot.Token = token
	path := filepath.Join(filepath.Dir(sc.cfg.Store.Path), "config-"+token[:10]+".yaml")
	if err := writeEffectiveConfig(sc.cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func (sc *reviewScenario) ldap(t *testing.T) *goldap.Conn {
	t.Helper()
	conn, err := goldap.DialURL(sc.dir.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.Bind(demoBindDN, demoBindPassword); err != nil {
		t.Fatal(err)
	}
	return conn
}

func demoGroupDN(name string) string { return "cn=" + name + ",ou=groups," + demoPartition }

// addPerson adds an OTDS-shaped person in groups (and the groups' member
// values, as OTDS keeps both sides).
func addPerson(t *testing.T, conn *goldap.Conn, given, sn, login string, groups ...string) {
	t.Helper()
	dn := "cn=" + given + " " + sn + "," + demoPartition
	a := goldap.NewAddRequest(dn, nil)
	a.Attribute("objectClass", []string{"top", "person", "organizationalPerson", "inetOrgPerson", "oTPerson"})
	a.Attribute("cn", []string{given + " " + sn})
	a.Attribute("givenName", []string{given})
	a.Attribute("sn", []string{sn})
	a.Attribute("displayName", []string{given + " " + sn})
	a.Attribute("mail", []string{login + "@example.com"})
	a.Attribute("oTExternalID1", []string{login})
	a.Attribute("oTExternalID3", []string{login + "@example.com"})
	a.Attribute("accountDisabled", []string{"false"})
	var member []string
	for _, g := range groups {
		member = append(member, demoGroupDN(g))
	}
	a.Attribute("oTMemberOf", member)
	if err := conn.Add(a); err != nil {
		t.Fatalf("add %s: %v", dn, err)
	}
	for _, g := range groups {
		m := goldap.NewModifyRequest(demoGroupDN(g), nil)
		m.Add("oTMember", []string{dn})
		if err := conn.Modify(m); err != nil {
			t.Fatalf("add %s to %s: %v", dn, g, err)
		}
	}
}

func newReviewScenario(t *testing.T) *reviewScenario {
	t.Helper()
	seed := hubspotsim.DefaultSeed()
	var scopes []string
	for _, s := range seed.Tokens[0].Scopes {
		if s != hubspotsim.ScopeBillingWrite {
			scopes = append(scopes, s)
		}
	}
	seed.Tokens = []hubspotsim.SeedToken{
		{Token: reviewTokenNoBilling, App: "scimbridge", Scopes: scopes},
		{Token: reviewTokenFull, App: "scimbridge", Scopes: seed.Tokens[0].Scopes},
	}
	// A contractor someone added by hand in HubSpot: in no directory.
	seed.Users = append(seed.Users, hubspotsim.SeedUser{Email: "contractor@partner-agency.net", FirstName: "Casey", LastName: "Contractor", Role: "3000002", PrimaryTeam: "5000001"})
	sim, err := hubspotsim.Start(hubspotsim.Config{Seed: seed}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sim.Close() })
	dir, err := ldapmem.New(bytes.NewReader(ldapmem.DemoLDIF), ldapmem.WithBind(demoBindDN, demoBindPassword))
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Stop() })

	cfg, err := config.Load("", nil)
	if err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	cfg.Store.Path = filepath.Join(data, "scimbridge.db")
	cfg.Auth.Tokens = []auth.Token{{Name: "ops", Token: "review-scenario-token-0123456789", Scopes: []string{schemas.ScopeAdmin}}}
	cfg.Auth.OAuth.Clients = nil
	cfg.HubSpot.BaseURL = sim.URL
	cfg.Mapping = demoMapping()
	// A paid seat for the people in "Seat Holders".
	cfg.Mapping.Roles = append([]provision.RoleRule{{Group: "Seat Holders", Role: "Sales Hub Professional Seat"}}, cfg.Mapping.Roles...)
	cfg.Directory = config.Directory{Type: config.DirectoryLDAP}
	cfg.Directory.LDAP.URLs = []string{dir.URL()}
	cfg.Directory.LDAP.BindDN, cfg.Directory.LDAP.BindPassword = demoBindDN, demoBindPassword
	cfg.Reconcile.ScopeGroups = []string{"HubSpot Users"}
	// The directory may take over what an IdP pushed (the duplicate
	// identity's link fix needs it).
	cfg.Reconcile.Adopt = true
	cfg.Review.VerifiedDomains = []string{"example.com"}
	cfg.Log.Level = "warn"
	cfg.SetDefaults()
	hs, err := hubspot.New(hubspot.Config{BaseURL: sim.URL, Token: reviewTokenFull})
	if err != nil {
		t.Fatal(err)
	}
	sc := &reviewScenario{sim: sim, dir: dir, cfg: cfg, hs: hs}
	sc.config = sc.writeConfig(t, reviewTokenNoBilling)
	return sc
}

func runCLI(t *testing.T, want int, args ...string) string {
	t.Helper()
	var out, errOut strings.Builder
	if code := run(context.Background(), args, &out, &errOut); code != want {
		t.Fatalf("scimbridge %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errOut.String())
	}
	return out.String()
}

func reviewJSON(t *testing.T, config string) *review.Report {
	t.Helper()
	var rep review.Report
	if err := json.Unmarshal([]byte(runCLI(t, 0, "review", "--config", config, "--format", "json")), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// findingSet is "category severity subject [fix action via]" per finding.
func findingSet(rep *review.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		s := fmt.Sprintf("%s %s %s", f.Category, f.Severity, f.Subject)
		if f.Fix != nil {
			s += fmt.Sprintf(" [%s via %s]", f.Fix.Action, f.Fix.Via)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// The seeded scenario: a portal, the sample OTDS directory and the bridge,
// with one problem of every kind. The review reports exactly the expected
// findings; `review --fix all` shows the plan and changes nothing; with
// --apply --provision it fixes what the bridge can, and a second review
// holds only what needs a person.
func TestReviewScenario(t *testing.T) {
	sc := newReviewScenario(t)
	ctx := context.Background()
	conn := sc.ldap(t)

	// Ava Thompson holds a paid seat, which the bridge's token cannot
	// assign: her provisioning fails.
	ava := "cn=Ava Thompson," + demoPartition
	g := goldap.NewAddRequest(demoGroupDN("Seat Holders"), nil)
	g.Attribute("objectClass", []string{"top", "oTGroup"})
	g.Attribute("cn", []string{"Seat Holders"})
	g.Attribute("oTMember", []string{ava})
	if err := conn.Add(g); err != nil {
		t.Fatal(err)
	}
	m := goldap.NewModifyRequest(ava, nil)
	m.Add("oTMemberOf", []string{demoGroupDN("Seat Holders")})
	if err := conn.Modify(m); err != nil {
		t.Fatal(err)
	}
	// A user an IdP pushed over SCIM before the directory knew them.
	func() {
		cat, err := schemas.Load()
		if err != nil {
			t.Fatal(err)
		}
		st, err := sqlite.Open(ctx, sqlite.Config{Path: sc.cfg.Store.Path}, cat)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		client, _ := newHubSpotClient(sc.cfg, zerolog.Nop())
		engine, err := newEngine(sc.cfg, st, client, zerolog.Nop(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := engine.LoadCatalog(ctx); err != nil {
			t.Fatal(err)
		}
		svc := provision.New(st, engine, zerolog.Nop()).NoWait()
		tr := true
		if _, err := svc.CreateUser(ctx, schemas.Actor{Name: "okta"}, &schemas.User{
			UserName: "sam.rivera@example.com", ExternalID: "00u1okta42", Active: &tr,
			Name:   &schemas.Name{GivenName: "Sam", FamilyName: "Rivera"},
			Emails: []schemas.MultiValue{{Value: "sam.rivera@example.com", Primary: true, Type: "work"}},
		}); err != nil {
			t.Fatal(err)
		}
	}()
	runCLI(t, 0, "sync", "--config", sc.config, "--provision")

	// Drift behind the bridge's back, and directory changes not yet
	// reconciled.
	if _, err := sc.hs.UpdateUser(ctx, hubspotID(t, sc, "margaret.holloway@example.com"), hubspot.UserUpdate{RoleID: ptr("3000004")}); err != nil {
		t.Fatal(err)
	}
	if _, err := sc.hs.UpdateUser(ctx, hubspotID(t, sc, "daniel.kowalski@example.com"), hubspot.UserUpdate{PrimaryTeamID: ptr("5000002"), SecondaryTeamIDs: []string{}}); err != nil {
		t.Fatal(err)
	}
	oliver := "cn=Oliver Bennett," + demoPartition // leaves the provisioning scope
	for _, m := range []*goldap.ModifyRequest{goldap.NewModifyRequest(oliver, nil), goldap.NewModifyRequest(demoGroupDN("HubSpot Users"), nil)} {
		if m.DN == oliver {
			m.Delete("oTMemberOf", []string{demoGroupDN("HubSpot Users")})
		} else {
			m.Delete("oTMember", []string{oliver})
		}
		if err := conn.Modify(m); err != nil {
			t.Fatal(err)
		}
	}
	// A joiner someone already created in HubSpot by hand.
	addPerson(t, conn, "Zoe", "Turner", "zoe.turner", "HubSpot Users", "EMEA Sales")
	if _, err := sc.hs.CreateUser(ctx, hubspot.UserCreate{Email: "zoe.turner@example.com", RoleID: "3000002"}); err != nil {
		t.Fatal(err)
	}
	// The directory now has the SCIM-pushed person, under its own id.
	addPerson(t, conn, "Sam", "Rivera", "sam.rivera", "HubSpot Users", "NA Sales")
	// Logins: everyone yesterday, except a dormant user (75 days ago), a
	// recent joiner who never logged in, and the contractor.
	now := time.Now()
	users, err := sc.hs.AllUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		switch u.Email {
		case "emma.schmidt@example.com":
			sc.sim.Sim.RecordLogin(u.Email, now.Add(-75*24*time.Hour), true)
		case "tyler.brooks@example.com", "contractor@partner-agency.net":
		default:
			sc.sim.Sim.RecordLogin(u.Email, now.Add(-24*time.Hour), true)
		}
	}

	rep := reviewJSON(t, sc.config)
	want := []string{
		"dormant medium emma.schmidt@example.com",
		"duplicate-identity medium sam.rivera@example.com [link via relink]",
		"never-logged-in low tyler.brooks@example.com",
		"never-logged-in medium contractor@partner-agency.net",
		"orphaned high contractor@partner-agency.net [remove via hubspot]",
		"provisioning-failure medium ava.thompson@example.com [retry via provisioning]",
		"role-drift high margaret.holloway@example.com [set-role via provisioning]",
		"should-be-gone critical oliver.bennett@example.com [remove via reconcile]",
		"sso-readiness medium contractor@partner-agency.net",
		"super-admin info admin@example.com",
		"team-drift medium daniel.kowalski@example.com [set-teams via provisioning]",
		"unmanaged medium zoe.turner@example.com [link via reconcile]",
	}
	if got := findingSet(rep); !slices.Equal(got, want) {
		t.Fatalf("findings:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, c := range review.Categories() {
		if rep.Counts[c] == 0 {
			t.Errorf("category %s has no finding in the scenario", c)
		}
	}

	// The other formats of the same review.
	out := runCLI(t, 0, "review", "--config", sc.config)
	for _, s := range []string{"should-be-gone", "oliver.bennett@example.com", "Findings: 12"} {
		if !strings.Contains(out, s) {
			t.Errorf("table report lacks %q:\n%s", s, out)
		}
	}
	html := filepath.Join(t.TempDir(), "review.html")
	runCLI(t, 0, "review", "--config", sc.config, "--format", "html", "--out", html)
	if b, err := os.ReadFile(html); err != nil || !bytes.Contains(b, []byte("contractor@partner-agency.net")) {
		t.Errorf("HTML report: %v", err)
	}

	// The dry run shows the plan and changes nothing.
	before := sc.sim.Sim.State()
	out = runCLI(t, 0, "review", "--config", sc.config, "--fix", "all")
	for _, s := range []string{"Fix plan for", "7 changes, 5 findings need a person", "Dry run: nothing was changed", "contractor@partner-agency.net", "A full directory reconcile runs first"} {
		if !strings.Contains(out, s) {
			t.Errorf("dry run lacks %q:\n%s", s, out)
		}
	}
	if after := sc.sim.Sim.State(); len(after.Users) != len(before.Users) {
		t.Fatalf("the dry run changed HubSpot: %d users, then %d", len(before.Users), len(after.Users))
	}
	// As JSON: the plan alone on the output, a document a script reads.
	var planDoc struct {
		Plan    review.FixPlan     `json:"plan"`
		Outcome *review.FixOutcome `json:"outcome"`
	}
	if err := json.Unmarshal([]byte(runCLI(t, 0, "review", "--config", sc.config, "--fix", "all", "--format", "json")), &planDoc); err != nil ||
		len(planDoc.Plan.Steps) != 7 || len(planDoc.Plan.Manual) != 5 || planDoc.Outcome != nil {
		t.Fatalf("dry run as JSON: %+v, %v", planDoc, err)
	}
	runCLI(t, 2, "review", "--config", sc.config, "--fix", "nonsense")
	if again := reviewJSON(t, sc.config); !slices.Equal(findingSet(again), want) {
		t.Fatalf("the dry run changed the findings: %v", findingSet(again))
	}

	// The administrator grants the paid-seat scope; then the fix.
	full := sc.writeConfig(t, reviewTokenFull)
	out = runCLI(t, 0, "review", "--config", full, "--fix", "all", "--apply", "--provision")
	t.Logf("review --fix all --apply --provision:\n%s", out)
	for _, s := range []string{"Applied 4, failed 0.", "ok: directory reconcile: 1 users created, 1 updated, 1 deactivated", "ok: removed contractor@partner-agency.net", "Reviewed again: 9 findings resolved, 1 new; 4 left"} {
		if !strings.Contains(out, s) {
			t.Errorf("apply output lacks %q", s)
		}
	}
	after := reviewJSON(t, full)
	wantAfter := []string{
		"dormant medium emma.schmidt@example.com",
		"never-logged-in low ava.thompson@example.com", // created now
		"never-logged-in low tyler.brooks@example.com",
		"super-admin info admin@example.com",
	}
	if got := findingSet(after); !slices.Equal(got, wantAfter) {
		t.Fatalf("after the fix:\n  %s\nwant:\n  %s\napply printed:\n%s", strings.Join(got, "\n  "), strings.Join(wantAfter, "\n  "), out)
	}
	// What the fix did, as HubSpot shows it.
	if u, _ := sc.hs.GetUserByEmail(ctx, "contractor@partner-agency.net"); u != nil {
		t.Errorf("the orphan is still in HubSpot: %+v", u)
	}
	if u, _ := sc.hs.GetUserByEmail(ctx, "oliver.bennett@example.com"); u != nil {
		t.Errorf("the leaver is still in HubSpot: %+v", u)
	}
	if u, err := sc.hs.GetUserByEmail(ctx, "margaret.holloway@example.com"); err != nil || u.RoleID != "3000001" {
		t.Errorf("Margaret's role: %+v, %v", u, err)
	}
	if u, err := sc.hs.GetUserByEmail(ctx, "daniel.kowalski@example.com"); err != nil || u.PrimaryTeamID != "5000001" {
		t.Errorf("Daniel's main team: %+v, %v", u, err)
	}
	if u, err := sc.hs.GetUserByEmail(ctx, "ava.thompson@example.com"); err != nil || u.RoleID != "3000006" {
		t.Errorf("Ava's paid seat: %+v, %v", u, err)
	}
	if u, err := sc.hs.GetUserByEmail(ctx, "zoe.turner@example.com"); err != nil || u.PrimaryTeamID != "5000001" {
		t.Errorf("Zoe (adopted, EMEA Sales): %+v, %v", u, err)
	}
	n := 0
	for _, u := range sc.sim.Sim.State().Users {
		if strings.EqualFold(u.Email, "sam.rivera@example.com") || strings.EqualFold(u.Email, "zoe.turner@example.com") {
			n++
		}
	}
	if n != 2 {
		t.Errorf("Sam and Zoe should have one HubSpot user each, found %d", n)
	}
}

func ptr[T any](v T) *T { return &v }

func hubspotID(t *testing.T, sc *reviewScenario, email string) string {
	t.Helper()
	u, err := sc.hs.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("%s: %v", email, err)
	}
	return u.ID
}

// GET /admin/v1/review on the running demo: JSON by default, CSV and HTML
// on request, a bad format refused; a scheduled review is kept and served
// at /admin/v1/review/latest; `scimbridge review` against the demo's
// configuration gives the same counts.
func TestReviewAdminEndpoint(t *testing.T) {
	t.Setenv("SCIMBRIDGE_REVIEW_INTERVAL", "1m")
	d := startDemo(t)
	base := strings.TrimSuffix(d.scim, "/scim/v2")
	// Everyone provisioned and nothing queued, so that the endpoint's
	// review and the CLI's below see the same state.
	d.waitProvisioned(t)
	waitFor(t, "the demo's joiners in HubSpot", func() error {
		if n := d.hubspotCount(t); n != 43 {
			return fmt.Errorf("%d HubSpot users", n)
		}
		return nil
	})
	get := func(path, token string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, body
	}
	code, h, body := get("/admin/v1/review", d.token)
	var rep review.Report
	if code != 200 || h.Get("Content-Type") != "application/json" || json.Unmarshal(body, &rep) != nil {
		t.Fatalf("GET /admin/v1/review: %d %s\n%s", code, h.Get("Content-Type"), body)
	}
	if rep.Summary.HubSpotUsers != 43 || rep.Summary.BridgeUsers != 42 || rep.Summary.DirectoryUsers != 50 || !rep.Summary.LoginsKnown || rep.Counts[review.CatSuperAdmin] != 1 {
		t.Errorf("summary: %+v counts %v", rep.Summary, rep.Counts)
	}
	if code, h, body := get("/admin/v1/review?format=csv", d.token); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !bytes.HasPrefix(body, []byte("severity,")) {
		t.Errorf("csv: %d %s %.80s", code, h.Get("Content-Type"), body)
	}
	if code, h, body := get("/admin/v1/review?format=html", d.token); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !bytes.Contains(body, []byte("<!DOCTYPE html>")) {
		t.Errorf("html: %d %s %.80s", code, h.Get("Content-Type"), body)
	}
	if code, _, body := get("/admin/v1/review?format=pdf", d.token); code != 400 || !bytes.Contains(body, []byte(`"scimType":"invalidValue"`)) {
		t.Errorf("bad format: %d %s", code, body)
	}
	if code, _, _ := get("/admin/v1/review", "not-a-token"); code != 401 {
		t.Errorf("without a credential: %d", code)
	}
	waitFor(t, "the scheduled review", func() error {
		code, _, body := get("/admin/v1/review/latest", d.token)
		if code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		var s review.Stored
		if err := json.Unmarshal(body, &s); err != nil || s.Report == nil || len(s.New) != s.Report.Summary.Findings || !s.Previous.IsZero() {
			return fmt.Errorf("stored review: %v %s", err, body)
		}
		return nil
	})

	var cli review.Report
	if err := json.Unmarshal([]byte(runCLI(t, 0, "review", "--config", d.config, "--format", "json")), &cli); err != nil {
		t.Fatal(err)
	}
	if cli.Summary.HubSpotUsers != rep.Summary.HubSpotUsers || cli.Summary.Findings != rep.Summary.Findings {
		t.Errorf("CLI review %+v, endpoint %+v", cli.Summary, rep.Summary)
	}
}
