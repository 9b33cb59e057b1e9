package provision_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

func (e *env) crm(email string) map[string]string {
	e.t.Helper()
	h := e.hub(email)
	if h == nil {
		return nil
	}
	rec, ok := e.sim.CRMUserOf(h.ID)
	if !ok {
		return nil
	}
	return rec.Properties
}

// Profile attributes (title, department, location, manager, business unit)
// reach HubSpot's CRM users object, only changed properties are sent, and
// a manager change follows.
func TestProfileAttributes(t *testing.T) {
	e := newEnv(t, func(c *envCfg) {
		c.engine.Profile = provision.ProfileConfig{Properties: map[string]string{
			"title": "hs_job_title", "department": "department", "location": "location",
			"manager": "manager", "business_unit": "business_unit",
		}}
	})
	ctx := context.Background()
	boss := e.createUser("boss", "boss@example.com", "Bo", "Ss")
	other := e.createUser("other", "other@example.com", "Ot", "Her")
	u, err := e.svc.CreateUser(ctx, e.actor, &schemas.User{
		UserName: "ann@example.com", Title: "Account Executive",
		Emails:     []schemas.MultiValue{{Value: "ann@example.com", Type: "work"}},
		Addresses:  []schemas.Address{{Type: "work", Locality: "London"}},
		Enterprise: &schemas.EnterpriseExt{Department: "Sales", Division: "EMEA", Manager: &schemas.Manager{Value: boss.ID}},
	})
	if err != nil {
		t.Fatal(err)
	}
	// The answer comes once the Settings user is in place; the profile
	// follows through the profile writer, once HubSpot has made the CRM
	// record.
	want := map[string]string{"hs_job_title": "Account Executive", "department": "Sales", "location": "London", "manager": "boss@example.com", "business_unit": "EMEA"}
	e.profileIs("ann@example.com", want)
	// Mover: department and manager change; only those are sent.
	patchesBefore := e.crmPatches()
	if _, err := e.patchUser(u.ID, func(u *schemas.User) {
		u.Enterprise.Department = "Customer Success"
		u.Enterprise.Manager = &schemas.Manager{Value: other.ID}
	}); err != nil {
		t.Fatal(err)
	}
	e.profileIs("ann@example.com", map[string]string{"department": "Customer Success", "manager": "other@example.com", "hs_job_title": "Account Executive"})
	e.eventually("the user settled", func() error {
		if p := e.state(u.ID); p.State != provision.StateSynced {
			return fmt.Errorf("%s %s", p.State, p.LastError)
		}
		return nil
	})
	if n := e.crmPatches() - patchesBefore; n != 1 {
		t.Fatalf("%d CRM updates for one change", n)
	}
	// A change that touches no profile property sends nothing to the CRM.
	patchesBefore = e.crmPatches()
	if _, err := e.patchUser(u.ID, func(u *schemas.User) { u.NickName = "Annie" }); err != nil {
		t.Fatal(err)
	}
	e.eventually("the user settled", func() error {
		if p := e.state(u.ID); p.State != provision.StateSynced || p.AppliedVersion < p.DesiredVersion {
			return fmt.Errorf("%s %s", p.State, p.LastError)
		}
		return nil
	})
	if n := e.crmPatches() - patchesBefore; n != 0 {
		t.Fatalf("%d CRM updates for an unrelated change", n)
	}
}

// profileIs waits until email's CRM record holds want.
func (e *env) profileIs(email string, want map[string]string) {
	e.t.Helper()
	e.eventually(email+"'s profile", func() error {
		got := e.crm(email)
		for k, v := range want {
			if got[k] != v {
				return fmt.Errorf("CRM %s = %q, want %q (all: %v)", k, got[k], v, got)
			}
		}
		return nil
	})
}

func (e *env) crmPatches() int64 {
	var n int64
	for key, ep := range e.sim.Stats().Endpoints {
		if strings.HasPrefix(key, "PATCH") && strings.Contains(key, "objects") {
			for _, c := range ep.ByStatus {
				n += c
			}
		}
	}
	return n
}

// A property the portal lacks is reported by name, at start-up and as the
// user's refusal.
func TestProfilePropertyMissing(t *testing.T) {
	e := newEnv(t, func(c *envCfg) {
		c.engine.Profile = provision.ProfileConfig{Properties: map[string]string{"department": "hs_department_x"}}
	})
	problems, err := e.engine.LoadCatalog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 1 || !strings.Contains(problems[0].Error(), `no property "hs_department_x"`) {
		t.Fatalf("start-up problems: %v", problems)
	}
	// The Settings user is created (access works) and the create answers
	// once it is; the refused profile write then shows on the user, naming
	// the property to create.
	u, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{UserName: "x@example.com",
		Enterprise: &schemas.EnterpriseExt{Department: "Sales"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if e.hub("x@example.com") == nil || u.HubSpot == nil || u.HubSpot.HubSpotUserID == "" {
		t.Fatalf("user after the create: %+v", u.HubSpot)
	}
	e.eventually("the refusal shows", func() error {
		got, err := e.svc.GetUser(context.Background(), u.ID, false)
		if err != nil {
			return err
		}
		if x := got.HubSpot; x == nil || x.ProvisioningState != provision.StateFailed || !strings.Contains(x.LastError, "hs_department_x") {
			return fmt.Errorf("extension %+v", x)
		}
		return nil
	})
	// A later change that leaves the profile alone reports the standing
	// refusal to the client.
	_, err = e.patchUser(u.ID, func(u *schemas.User) { u.NickName = "x" })
	if errorCode(err) != schemas.EREFUSED || !strings.Contains(err.Error(), "hs_department_x") {
		t.Fatalf("update: %v", err)
	}

}

// A report's manager property is their manager's email, so it follows the
// manager: a manager created after their reports, a manager's new address
// and a manager who is deleted all reach the reports' CRM records, without
// the reports themselves changing.
func TestManagerFollowsTheManager(t *testing.T) {
	e := newEnv(t, withRules(func(r *provision.Rules) { r.EmailChange = provision.EmailRecreate }), func(c *envCfg) {
		c.engine.Profile = provision.ProfileConfig{Properties: map[string]string{"manager": "manager", "department": "department"}}
	})
	ctx := context.Background()
	report := func(name string) *schemas.User {
		u, err := e.svc.CreateUser(ctx, e.actor, &schemas.User{
			UserName: name + "@example.com", Emails: []schemas.MultiValue{{Value: name + "@example.com", Type: "work"}},
			Enterprise: &schemas.EnterpriseExt{Department: "Sales", Manager: &schemas.Manager{Value: "lead-1"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	managerOf := func(email, want string) {
		t.Helper()
		e.eventually(email+"'s manager property "+want, func() error {
			if got := e.crm(email); got == nil || got["manager"] != want || got["department"] != "Sales" {
				return fmt.Errorf("CRM record of %s: %v", email, got)
			}
			return nil
		})
	}
	// Reports first, naming a manager the bridge does not hold yet.
	ann := report("ann")
	report("bob")
	managerOf("ann@example.com", "")
	managerOf("bob@example.com", "")
	annVersion := e.state(ann.ID).DesiredVersion

	lead, err := e.svc.CreateUser(ctx, e.actor, &schemas.User{ID: "lead-1", UserName: "lead@example.com",
		Emails: []schemas.MultiValue{{Value: "lead@example.com", Type: "work"}}})
	if err != nil || lead.ID != "lead-1" {
		t.Fatalf("creating the manager: %v (id %q)", err, lead.ID)
	}
	managerOf("ann@example.com", "lead@example.com")
	managerOf("bob@example.com", "lead@example.com")

	// The manager's new address (recreated in HubSpot under email_change:
	// recreate) reaches the reports.
	if _, err := e.patchUser(lead.ID, func(u *schemas.User) {
		u.UserName = "team.lead@example.com"
		u.Emails = []schemas.MultiValue{{Value: "team.lead@example.com", Type: "work"}}
	}); err != nil {
		t.Fatal(err)
	}
	managerOf("ann@example.com", "team.lead@example.com")
	managerOf("bob@example.com", "team.lead@example.com")

	// A change that leaves the manager's email alone computes no report again.
	before := e.state(ann.ID).DesiredVersion
	if _, err := e.patchUser(lead.ID, func(u *schemas.User) { u.Title = "Head of Sales" }); err != nil {
		t.Fatal(err)
	}
	if v := e.state(ann.ID).DesiredVersion; v != before {
		t.Fatalf("a report's desired state was computed again (version %d → %d) for a title change of the manager", before, v)
	}

	// The manager leaves: the reports no longer name them.
	if err := e.svc.DeleteUser(ctx, e.actor, lead.ID, 0); err != nil {
		t.Fatal(err)
	}
	managerOf("ann@example.com", "")
	managerOf("bob@example.com", "")
	if v := e.state(ann.ID).DesiredVersion; v <= annVersion {
		t.Fatalf("ann's desired version %d, want above %d", v, annVersion)
	}
}
