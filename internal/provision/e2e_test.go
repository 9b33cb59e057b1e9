package provision_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// A joiner gets a HubSpot user at once (the SCIM call waits for it), with
// the role and teams the groups map to; a mover's role and teams follow the
// groups; a leaver loses access; re-activation restores it.
func TestJoinerMoverLeaver(t *testing.T) {
	e := newEnv(t)
	ada := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")

	// Joiner: the answer already carries the HubSpot state.
	if ada.HubSpot == nil || ada.HubSpot.ProvisioningState != provision.StateSynced || ada.HubSpot.HubSpotUserID == "" {
		t.Fatalf("create answered with HubSpot state %+v", ada.HubSpot)
	}
	h := e.hub("ada@example.com")
	if h == nil || h.FirstName != "Ada" || h.LastName != "Lovelace" || e.roleName(h.RoleID) != "Sales Representative" {
		t.Fatalf("HubSpot user after create: %+v", h)
	}
	if ada.HubSpot.Role != "Sales Representative" || ada.HubSpot.HubSpotUserID != h.ID {
		t.Fatalf("HubSpot extension %+v does not describe %+v", ada.HubSpot, h)
	}

	// Groups → role and teams (explicit team rule absent: group named like a team).
	managers := e.group("Sales Managers", ada.ID)
	emea := e.group("EMEA Sales", ada.ID)
	h = e.hub("ada@example.com")
	if e.roleName(h.RoleID) != "Sales Manager" {
		t.Fatalf("role after joining Sales Managers: %s", e.roleName(h.RoleID))
	}
	if primary, _ := e.teamNames(h); primary != "EMEA Sales" {
		t.Fatalf("main team after joining EMEA Sales: %q", primary)
	}
	na := e.group("NA Sales", ada.ID)
	if primary, secondary := e.teamNames(e.hub("ada@example.com")); primary != "EMEA Sales" || !slices.Equal(secondary, []string{"NA Sales"}) {
		t.Fatalf("teams with two team groups: %q %v", primary, secondary)
	}

	// Mover: leaves Sales Managers and EMEA → default role, NA Sales main team.
	e.setMembers(managers)
	e.setMembers(emea)
	h = e.hub("ada@example.com")
	if primary, secondary := e.teamNames(h); e.roleName(h.RoleID) != "Sales Representative" || primary != "NA Sales" || len(secondary) != 0 {
		t.Fatalf("after moving: role %s teams %q %v", e.roleName(h.RoleID), primary, secondary)
	}
	u, err := e.svc.GetUser(context.Background(), ada.ID, true)
	if err != nil || u.HubSpot.PrimaryTeam != "NA Sales" {
		t.Fatalf("extension after move: %+v %v", u.HubSpot, err)
	}

	// Leaver: deactivated → removed from HubSpot (delete policy).
	u, err = e.patchUser(ada.ID, func(u *schemas.User) { f := false; u.Active = &f })
	if err != nil {
		t.Fatal(err)
	}
	if e.hub("ada@example.com") != nil {
		t.Fatal("deactivated user still in HubSpot")
	}
	if u.HubSpot.ProvisioningState != provision.StateRemoved || u.HubSpot.HubSpotUserID != "" {
		t.Fatalf("extension after leaving: %+v", u.HubSpot)
	}

	// Re-activation restores access, re-creating the user.
	if _, err = e.patchUser(ada.ID, func(u *schemas.User) { tr := true; u.Active = &tr }); err != nil {
		t.Fatal(err)
	}
	if h = e.hub("ada@example.com"); h == nil {
		t.Fatal("re-activated user not re-created")
	} else if primary, _ := e.teamNames(h); primary != "NA Sales" {
		t.Fatalf("re-activated user's team: %q", primary)
	}

	// Deleting the group leaves no team; deleting the user removes them.
	if err := e.svc.DeleteGroup(context.Background(), e.actor, na.ID, 0); err != nil {
		t.Fatal(err)
	}
	if h = e.hub("ada@example.com"); h.PrimaryTeamID != "" {
		t.Fatalf("team left after group delete: %+v", h)
	}
	if err := e.svc.DeleteUser(context.Background(), e.actor, ada.ID, 0); err != nil {
		t.Fatal(err)
	}
	if e.hub("ada@example.com") != nil {
		t.Fatal("deleted user still in HubSpot")
	}
}

func TestRestrictPolicy(t *testing.T) {
	e := newEnv(t, withRules(func(r *provision.Rules) {
		r.LeaverPolicy, r.RestrictedRole = provision.LeaverRestrict, "Restricted"
	}))
	grace := e.createUser("grace", "grace@example.com", "Grace", "Hopper")
	e.group("Support", grace.ID)
	if primary, _ := e.teamNames(e.hub("grace@example.com")); primary != "Support" {
		t.Fatalf("team: %q", primary)
	}
	if _, err := e.patchUser(grace.ID, func(u *schemas.User) { f := false; u.Active = &f }); err != nil {
		t.Fatal(err)
	}
	h := e.hub("grace@example.com")
	if h == nil || e.roleName(h.RoleID) != "Restricted" || h.PrimaryTeamID != "" || len(h.SecondaryTeamIDs) != 0 {
		t.Fatalf("restricted leaver: %+v", h)
	}
	// Deleting keeps the restricted account too.
	if err := e.svc.DeleteUser(context.Background(), e.actor, grace.ID, 0); err != nil {
		t.Fatal(err)
	}
	if h := e.hub("grace@example.com"); h == nil || e.roleName(h.RoleID) != "Restricted" {
		t.Fatalf("deleted leaver under restrict: %+v", h)
	}
}

// Super admins are linked but never written; an existing HubSpot user with
// the same email is adopted, never duplicated.
func TestSuperAdminAndAdoption(t *testing.T) {
	seed := hubspotsim.DefaultSeed()
	seed.Users = append(seed.Users, hubspotsim.SeedUser{ID: "10000002", Email: "Existing@Example.com", FirstName: "Old", LastName: "Name"})
	e := newEnv(t, func(c *envCfg) { c.seed = seed })

	admin := e.createUser("admin", "admin@example.com", "Someone", "Else")
	if admin.HubSpot.ProvisioningState != provision.StateSkipped || !admin.HubSpot.SuperAdmin || admin.HubSpot.HubSpotUserID != "10000001" {
		t.Fatalf("super admin: %+v", admin.HubSpot)
	}
	if h := e.hub("admin@example.com"); h.FirstName != "Ada" {
		t.Fatalf("super admin was modified: %+v", h)
	}
	if _, err := e.patchUser(admin.ID, func(u *schemas.User) { f := false; u.Active = &f }); err != nil {
		t.Fatal(err)
	}
	if e.hub("admin@example.com") == nil {
		t.Fatal("super admin was deleted")
	}

	ex := e.createUser("existing", "existing@example.com", "New", "Name")
	h := e.hub("existing@example.com")
	if ex.HubSpot.HubSpotUserID != "10000002" || h.FirstName != "New" {
		t.Fatalf("adoption: ext %+v, HubSpot %+v", ex.HubSpot, h)
	}
	// A second bridge user with the same address must not take it over.
	_, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{UserName: "dup",
		Emails: []schemas.MultiValue{{Value: "EXISTING@example.com", Primary: true}}})
	if errorCode(err) != schemas.EREFUSED {
		t.Fatalf("duplicate identity: %v", err)
	}
	if _, err := e.svc.GetUser(context.Background(), ex.ID, false); err != nil {
		t.Fatalf("the first user is affected: %v", err)
	}
}

// HubSpot cannot change an email. keep (the default) stores the change
// and keeps the HubSpot user linked and managed, showing the difference
// until an admin recreates it; reject refuses the SCIM change; recreate
// replaces the HubSpot user.
func TestEmailChange(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	u := e.createUser("lin", "lin@example.com", "Lin", "Wu")
	old := e.hub("lin@example.com")
	got, err := e.patchUser(u.ID, func(u *schemas.User) { u.Emails[0].Value = "lin.wu@example.com"; u.Title = "Engineer" })
	if err != nil {
		t.Fatalf("email change under keep: %v", err)
	}
	if got.Emails[0].Value != "lin.wu@example.com" || got.HubSpot == nil || got.HubSpot.HubSpotEmail != "lin@example.com" ||
		got.HubSpot.HubSpotUserID != old.ID || got.HubSpot.ProvisioningState != provision.StateSynced {
		t.Fatalf("after the change: emails %+v, extension %+v", got.Emails, got.HubSpot)
	}
	// Still managed by id: a group change reaches the same HubSpot user.
	mgrs := e.group("Sales Managers")
	if _, err := e.svc.PatchGroup(ctx, e.actor, mgrs.ID, 0, func(g *schemas.Group) ([]string, error) {
		g.Members = append(g.Members, schemas.Member{Value: u.ID})
		return []string{"members"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if h := e.hub("lin@example.com"); h == nil || h.ID != old.ID || e.roleName(h.RoleID) != "Sales Manager" {
		t.Fatalf("HubSpot user after a group change: %+v", h)
	}
	if e.hub("lin.wu@example.com") != nil {
		t.Fatal("a second HubSpot user was made for the new address")
	}
	st, err := e.engine.ProvisioningStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s := st; s.EmailDiffers != 1 || len(s.EmailDifferences) != 1 ||
		s.EmailDifferences[0] != (provision.EmailDifference{UserID: u.ID, UserName: "lin", Email: "lin.wu@example.com", HubSpotID: old.ID, HubSpotEmail: "lin@example.com"}) {
		t.Fatalf("status: %+v", s)
	}
	// The admin's choice: recreate this one user under the new address.
	res, err := e.engine.Recreate(ctx, e.actor, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	rec := res
	now := e.hub("lin.wu@example.com")
	if e.hub("lin@example.com") != nil || now == nil || now.ID == old.ID || rec.HubSpotID != now.ID ||
		rec.ReplacedHubSpotID != old.ID || e.roleName(now.RoleID) != "Sales Manager" {
		t.Fatalf("recreate: %+v, HubSpot now %+v", rec, now)
	}
	if got, _ := e.svc.GetUser(ctx, u.ID, false); got.HubSpot.HubSpotEmail != "" || got.HubSpot.HubSpotUserID != now.ID {
		t.Fatalf("extension after recreate: %+v", got.HubSpot)
	}
	if _, err := e.engine.Recreate(ctx, e.actor, u.ID); errorCode(err) != schemas.EINVALID {
		t.Fatalf("recreating a matching user: %v", err)
	}

	e1 := newEnv(t, withRules(func(r *provision.Rules) { r.EmailChange = provision.EmailReject }))
	u = e1.createUser("lin", "lin@example.com", "Lin", "Wu")
	_, err = e1.patchUser(u.ID, func(u *schemas.User) { u.Emails[0].Value = "lin.wu@example.com" })
	if errorCode(err) != schemas.EMUTABILITY {
		t.Fatalf("email change under reject: %v", err)
	}
	if got, _ := e1.svc.GetUser(ctx, u.ID, false); got.Emails[0].Value != "lin@example.com" {
		t.Fatalf("refused change was stored: %+v", got.Emails)
	}

	e2 := newEnv(t, withRules(func(r *provision.Rules) { r.EmailChange = provision.EmailRecreate }))
	u = e2.createUser("lin", "lin@example.com", "Lin", "Wu")
	old = e2.hub("lin@example.com")
	if _, err := e2.patchUser(u.ID, func(u *schemas.User) { u.Emails[0].Value = "lin.wu@example.com" }); err != nil {
		t.Fatal(err)
	}
	if e2.hub("lin@example.com") != nil || e2.hub("lin.wu@example.com") == nil || e2.hub("lin.wu@example.com").ID == old.ID {
		t.Fatal("recreate did not replace the HubSpot user")
	}
}

// A permanent refusal is a clear error, and a refused create is taken back.
func TestRefusals(t *testing.T) {
	seed := hubspotsim.DefaultSeed()
	seed.Tokens = append(seed.Tokens, hubspotsim.SeedToken{Token: "no-billing-token", App: "limited",
		Scopes: []string{hubspotsim.ScopeUsersRead, hubspotsim.ScopeUsersWrite, hubspotsim.ScopeTeamsRead}})
	e := newEnv(t, func(c *envCfg) {
		c.seed, c.token = seed, "no-billing-token"
		c.rules.Roles = append(c.rules.Roles, provision.RoleRule{Group: "Seats", Role: "Sales Hub Professional Seat"})
	})
	// Mapping problem: a role HubSpot lacks.
	ok := e.createUser("ok", "ok@example.com", "O", "K")
	seats := e.group("Seats")
	_, err := e.svc.PatchGroup(context.Background(), e.actor, seats.ID, 0, func(g *schemas.Group) ([]string, error) {
		g.Members = append(g.Members, schemas.Member{Value: ok.ID})
		return []string{"members"}, nil
	})
	if errorCode(err) != schemas.EREFUSED {
		t.Fatalf("paid-seat role without the billing scope: %v", err)
	}
	p := e.state(ok.ID)
	if p.State != provision.StateFailed || p.LastError == "" {
		t.Fatalf("state after refusal: %+v", p)
	}
	// The user keeps their previous HubSpot access meanwhile.
	if h := e.hub("ok@example.com"); e.roleName(h.RoleID) != "Sales Representative" {
		t.Fatalf("refused change altered HubSpot: %+v", h)
	}
	// An unchanged PATCH still reports the standing refusal.
	_, err = e.patchUser(ok.ID, func(u *schemas.User) {})
	if errorCode(err) != schemas.EREFUSED {
		t.Fatalf("standing refusal: %v", err)
	}
	// Leaving the group resolves it.
	e.setMembers(seats)
	if p := e.state(ok.ID); p.State != provision.StateSynced {
		t.Fatalf("after leaving the seat group: %+v", p)
	}
}

func TestRefusedCreateIsTakenBack(t *testing.T) {
	seed := hubspotsim.DefaultSeed()
	seed.Tokens = append(seed.Tokens, hubspotsim.SeedToken{Token: "no-billing-token", App: "limited",
		Scopes: []string{hubspotsim.ScopeUsersRead, hubspotsim.ScopeUsersWrite, hubspotsim.ScopeTeamsRead}})
	e := newEnv(t, func(c *envCfg) {
		c.seed, c.token = seed, "no-billing-token"
		c.rules.DefaultRole = "Sales Hub Professional Seat"
	})
	_, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{UserName: "seat@example.com"})
	if errorCode(err) != schemas.EREFUSED {
		t.Fatalf("create with a paid-seat role and no billing scope: %v", err)
	}
	total, users, err := e.svc.QueryUsers(context.Background(), schemas.Query{StartIndex: 1, Count: 10})
	if err != nil || total != 0 || len(users) != 0 {
		t.Fatalf("refused create left %d users (%v)", total, err)
	}
	if e.hub("seat@example.com") != nil {
		t.Fatal("refused user exists in HubSpot")
	}
}

// A leaver the bridge holds no link for is looked up by email: an account
// re-created by hand in HubSpot is removed, and under the restrict policy
// no account is created just to be restricted.
func TestUnlinkedLeaver(t *testing.T) {
	e := newEnv(t)
	client, err := hubspot.New(hubspot.Config{BaseURL: e.url, Token: hubspotsim.DemoToken})
	if err != nil {
		t.Fatal(err)
	}
	lin := e.createUser("lin", "lin@example.com", "Lin", "Wu")
	if _, err := e.patchUser(lin.ID, func(u *schemas.User) { f := false; u.Active = &f }); err != nil {
		t.Fatal(err)
	}
	if e.hub("lin@example.com") != nil {
		t.Fatal("leaver kept their account")
	}
	// Someone re-creates the account in HubSpot: the row links nothing.
	again, err := client.CreateUser(context.Background(), hubspot.UserCreate{Email: "LIN@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var touched bool
	err = e.st.Update(context.Background(), func(tx store.Tx) error {
		var err error
		touched, err = tx.TouchProvisioningOf(lin.ID)
		return err
	})
	if err != nil || !touched {
		t.Fatalf("touch: %v %v", touched, err)
	}
	e.eventually("re-created account removed", func() error {
		if h := e.hub("lin@example.com"); h != nil {
			return fmt.Errorf("HubSpot user %s still there", again.ID)
		}
		if p := e.state(lin.ID); p.State != provision.StateRemoved || p.AppliedVersion != p.DesiredVersion {
			return fmt.Errorf("state %+v", p)
		}
		return nil
	})

	r := newEnv(t, withRules(func(r *provision.Rules) {
		r.LeaverPolicy, r.RestrictedRole = provision.LeaverRestrict, "Restricted"
	}))
	f := false
	u, err := r.svc.CreateUser(context.Background(), r.actor, &schemas.User{UserName: "never", Active: &f,
		Emails: []schemas.MultiValue{{Value: "never@example.com", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if h := r.hub("never@example.com"); h != nil {
		t.Fatalf("an inactive user got a restricted account: %+v", h)
	}
	if u.HubSpot == nil || u.HubSpot.ProvisioningState != provision.StateRemoved {
		t.Fatalf("inactive, never provisioned: shown as %+v", u.HubSpot)
	}
	r.eventually("removal verified", func() error {
		if p := r.state(u.ID); p.State != provision.StateRemoved {
			return fmt.Errorf("inactive, never provisioned: state %q", p.State)
		}
		return nil
	})
}
