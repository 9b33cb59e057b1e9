package provision_test

import (
	"context"
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
	want := map[string]string{"hs_job_title": "Account Executive", "department": "Sales", "location": "London", "manager": "boss@example.com", "business_unit": "EMEA"}
	got := e.crm("ann@example.com")
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("CRM %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	// Mover: department and manager change; only those are sent.
	patchesBefore := e.crmPatches()
	if _, err := e.patchUser(u.ID, func(u *schemas.User) {
		u.Enterprise.Department = "Customer Success"
		u.Enterprise.Manager = &schemas.Manager{Value: other.ID}
	}); err != nil {
		t.Fatal(err)
	}
	got = e.crm("ann@example.com")
	if got["department"] != "Customer Success" || got["manager"] != "other@example.com" || got["hs_job_title"] != "Account Executive" {
		t.Fatalf("after the move: %v", got)
	}
	if n := e.crmPatches() - patchesBefore; n != 1 {
		t.Fatalf("%d CRM updates for one change", n)
	}
	// A change that touches no profile property sends nothing to the CRM.
	patchesBefore = e.crmPatches()
	if _, err := e.patchUser(u.ID, func(u *schemas.User) { u.NickName = "Annie" }); err != nil {
		t.Fatal(err)
	}
	if n := e.crmPatches() - patchesBefore; n != 0 {
		t.Fatalf("%d CRM updates for an unrelated change", n)
	}
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
	// The Settings user is created (access works); the refused profile
	// write shows on the user, naming the property to create.
	u, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{UserName: "x@example.com",
		Enterprise: &schemas.EnterpriseExt{Department: "Sales"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if e.hub("x@example.com") == nil || u.HubSpot == nil || u.HubSpot.ProvisioningState != provision.StateFailed ||
		!strings.Contains(u.HubSpot.LastError, "hs_department_x") {
		t.Fatalf("user after a refused profile write: %+v", u.HubSpot)
	}
	// A later change reports the standing refusal to the client.
	_, err = e.patchUser(u.ID, func(u *schemas.User) { u.Title = "x" })
	if errorCode(err) != schemas.EREFUSED || !strings.Contains(err.Error(), "hs_department_x") {
		t.Fatalf("update: %v", err)
	}

}
