package provision_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

const adminToken = "pat-na1-admin-working-by-hand"

// roleID is the id of a role of the simulator's catalogue.
func (e *env) roleID(name string) string {
	e.t.Helper()
	roles, err := e.client.Roles(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range roles {
		if r.Name == name {
			return r.ID
		}
	}
	e.t.Fatalf("no role %q", name)
	return ""
}

func (e *env) deactivate(id string) {
	e.t.Helper()
	f := false
	if _, err := e.patchUser(id, func(u *schemas.User) { u.Active = &f }); err != nil {
		e.t.Fatal(err)
	}
}

// The sweep finds what people changed in HubSpot by hand: a managed user
// given another role, a removed leaver re-created, a bridge user's
// account made by hand; it makes them due again and the workers fix
// them. Accounts no bridge user claims are left alone.
func TestSweepFixesHandMadeDrift(t *testing.T) {
	e := newEnv(t, func(c *envCfg) {
		c.engine.SweepInterval = -1
		c.rules.Roles = append(c.rules.Roles, provision.RoleRule{Group: "Pros", Role: "Sales Hub Professional Seat"})
		// The bridge's token may not assign paid seats; the admin's,
		// working by hand, may.
		admin := c.seed.Tokens[0]
		admin.Token, admin.App = adminToken, "admin-by-hand"
		c.seed.Tokens[0].Scopes = slices.DeleteFunc(slices.Clone(c.seed.Tokens[0].Scopes), func(s string) bool { return s == hubspotsim.ScopeBillingWrite })
		c.seed.Tokens = append(c.seed.Tokens, admin)
	})
	byHand, err := hubspot.New(hubspot.Config{BaseURL: e.url, Token: adminToken})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ada := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
	bob := e.createUser("bob", "bob@example.com", "Bob", "Leaver")
	e.deactivate(bob.ID)
	adaHubSpotID := e.hub("ada@example.com").ID
	e.eventually("bob's removal verified", func() error {
		if p := e.state(bob.ID); p.State != provision.StateRemoved {
			return fmt.Errorf("state %q", p.State)
		}
		return nil
	})
	// Cy's account is deleted in HubSpot and made again by hand (HubSpot
	// gives an address its old user id back), without a role.
	e.createUser("cy", "cy@example.com", "Cy", "Again")
	if err := e.client.DeleteUser(ctx, e.hub("cy@example.com").ID); err != nil {
		t.Fatal(err)
	}
	// Dan is to hold a paid seat, which the bridge's token may not
	// assign (no billing scope): HubSpot refuses the create and the
	// bridge holds no link. An admin then makes the account by hand, seat
	// included.
	f := false
	dan, err := e.svc.CreateUser(ctx, e.actor, &schemas.User{UserName: "dan", Active: &f,
		Emails: []schemas.MultiValue{{Value: "dan@example.com", Primary: true}}})
	if err != nil {
		t.Fatal(err)
	}
	e.group("Pros", dan.ID)
	_, _ = e.patchUser(dan.ID, func(u *schemas.User) { u.Active = nil }) // refused: answers an error
	e.eventually("dan refused", func() error {
		if p := e.state(dan.ID); p.State != provision.StateFailed || p.HubSpotID != "" {
			return fmt.Errorf("dan: %+v", p)
		}
		return nil
	})
	// By hand, in HubSpot: Ada becomes a Sales Manager, Bob is back, an
	// account for an outside contractor appears, Cy and Dan get accounts.
	manager := e.roleID("Sales Manager")
	if _, err := byHand.UpdateUser(ctx, adaHubSpotID, hubspot.UserUpdate{RoleID: &manager}); err != nil {
		t.Fatal(err)
	}
	seat := e.roleID("Sales Hub Professional Seat")
	for _, in := range []hubspot.UserCreate{{Email: "bob@example.com", RoleID: manager}, {Email: "contractor@example.com"},
		{Email: "cy@example.com"}, {Email: "dan@example.com", RoleID: seat}} {
		if _, err := byHand.CreateUser(ctx, in); err != nil {
			t.Fatalf("create %s by hand: %v", in.Email, err)
		}
	}
	hubspotUsers := len(e.sim.State().Users)

	// A dry run reports without fixing.
	dry, err := e.engine.Sweep(ctx, provision.SweepOptions{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if dry.Outcome != provision.SweepDryRun || dry.Requeued != 0 || dry.Differences[provision.DiffLeaverPresent] != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	if e.hub("bob@example.com") == nil {
		t.Fatal("a dry run removed a user")
	}

	res, err := e.engine.Sweep(ctx, provision.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{provision.DiffLeaverPresent: 1, provision.DiffWrongAccess: 2, provision.DiffUnmanagedMatch: 1}
	for k, n := range want {
		if res.Differences[k] != n {
			t.Errorf("differences[%s] = %d, want %d (%+v)", k, res.Differences[k], n, res)
		}
	}
	if res.Outcome != provision.SweepOK || res.Requeued != 4 || res.HubSpotUsers != hubspotUsers || res.Calls != 1 {
		t.Errorf("sweep: %+v", res)
	}
	// The super admin and the contractor are HubSpot's own.
	if res.Unmanaged != 2 {
		t.Errorf("unmanaged = %d, want 2 (admin, contractor)", res.Unmanaged)
	}
	e.eventually("HubSpot fixed", func() error {
		if h := e.hub("bob@example.com"); h != nil {
			return fmt.Errorf("leaver bob still in HubSpot")
		}
		a := e.hub("ada@example.com")
		if a == nil || e.roleName(a.RoleID) != "Sales Representative" || a.ID != adaHubSpotID {
			return fmt.Errorf("ada: %+v", a)
		}
		if p := e.state(ada.ID); p.State != provision.StateSynced {
			return fmt.Errorf("ada: row %+v", p)
		}
		// Cy has not accepted the new invitation: the role is back, the
		// names wait (deferred).
		if c := e.hub("cy@example.com"); c == nil || e.roleName(c.RoleID) != "Sales Representative" {
			return fmt.Errorf("cy: %+v", c)
		}
		// Dan's hand-made account is adopted: linked, and as wanted.
		d := e.hub("dan@example.com")
		if p := e.state(dan.ID); d == nil || p.HubSpotID != d.ID || p.State != provision.StateSynced {
			return fmt.Errorf("dan's account not adopted: row %+v", p)
		}
		return nil
	})
	if e.hub("contractor@example.com") == nil {
		t.Error("the sweep removed an account no bridge user claims")
	}
	for k, n := range want {
		if got := e.metric("scimbridge_sweep_differences_total", "kind", k); got != float64(n) {
			t.Errorf("scimbridge_sweep_differences_total{kind=%q} = %v, want %d", k, got, n)
		}
	}
	if got := e.metric("scimbridge_sweep_runs_total", "outcome", "ok"); got != 1 {
		t.Errorf("ok sweeps = %v", got)
	}
	if got := e.metric("scimbridge_sweep_last_run_timestamp_seconds", "outcome", "ok"); got < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last sweep at %v", got)
	}

	// Once fixed, a sweep finds nothing.
	again, err := e.engine.Sweep(ctx, provision.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k, n := range again.Differences {
		if n != 0 {
			t.Errorf("after the fixes the sweep still finds %d %s: %+v", n, k, again.Found)
		}
	}
	st, err := e.engine.SweepStatus(ctx)
	if err != nil || st.Last == nil || st.Last.Outcome != provision.SweepOK || st.Interval != "off" {
		t.Errorf("status %+v %v", st, err)
	}
}

// Many leavers back at once go through the deletion guard: their
// removal waits for a forced sweep, while other fixes go ahead.
func TestSweepGuardsMassRemovals(t *testing.T) {
	e := newEnv(t, func(c *envCfg) {
		c.engine.SweepInterval = -1
		c.engine.SweepGuard = provision.SweepGuard{MaxPercent: 10, MaxCount: 2}
	})
	ctx := context.Background()
	var leavers []string
	for i := range 3 {
		email := fmt.Sprintf("l%d@example.com", i)
		u := e.createUser(fmt.Sprintf("l%d", i), email, "L", fmt.Sprint(i))
		e.deactivate(u.ID)
		leavers = append(leavers, email)
	}
	ada := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
	e.eventually("removals verified", func() error {
		n, err := e.st.ProvisioningCounts(ctx)
		if err != nil || n[provision.StateRemoved] != 3 {
			return fmt.Errorf("counts %v %v", n, err)
		}
		return nil
	})
	manager := e.roleID("Sales Manager")
	for _, email := range leavers {
		if _, err := e.client.CreateUser(ctx, hubspot.UserCreate{Email: email}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.UpdateUser(ctx, e.hub("ada@example.com").ID, hubspot.UserUpdate{RoleID: &manager}); err != nil {
		t.Fatal(err)
	}
	res, err := e.engine.Sweep(ctx, provision.SweepOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Outcome != provision.SweepGuarded || res.Guarded == "" || res.Requeued != 1 {
		t.Fatalf("sweep: %+v", res)
	}
	held := 0
	for _, f := range res.Found {
		if f.Held {
			held++
		}
	}
	if held != 3 {
		t.Errorf("%d differences held, want 3: %+v", held, res.Found)
	}
	if got := e.metric("scimbridge_sweep_guarded", "", ""); got != 1 {
		t.Errorf("scimbridge_sweep_guarded = %v", got)
	}
	e.eventually("ada fixed while the removals are held", func() error {
		if a := e.hub("ada@example.com"); a == nil || e.roleName(a.RoleID) != "Sales Representative" {
			return fmt.Errorf("ada: %+v", a)
		}
		return nil
	})
	time.Sleep(300 * time.Millisecond)
	for _, email := range leavers {
		if e.hub(email) == nil {
			t.Fatalf("%s removed although the guard held", email)
		}
	}
	if p := e.state(ada.ID); p.State != provision.StateSynced {
		t.Errorf("ada: %+v", p)
	}
	forced, err := e.engine.Sweep(ctx, provision.SweepOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if forced.Outcome != provision.SweepOK || forced.Requeued != 3 {
		t.Fatalf("forced sweep: %+v", forced)
	}
	e.eventually("leavers removed", func() error {
		for _, email := range leavers {
			if e.hub(email) != nil {
				return fmt.Errorf("%s still in HubSpot", email)
			}
		}
		return nil
	})
	if got := e.metric("scimbridge_sweep_guarded", "", ""); got != 0 {
		t.Errorf("scimbridge_sweep_guarded = %v after a forced sweep", got)
	}
}

// The periodic sweep, alone, removes a leaver an admin made again by hand;
// each run reads HubSpot 100 users per call.
func TestSweepRunsOnItsInterval(t *testing.T) {
	e := newEnv(t, func(c *envCfg) { c.engine.SweepInterval = 300 * time.Millisecond })
	ctx := context.Background()
	u := e.createUser("eve", "eve@example.com", "Eve", "Left")
	e.deactivate(u.ID)
	e.eventually("removal verified", func() error {
		if p := e.state(u.ID); p.State != provision.StateRemoved {
			return fmt.Errorf("state %q", p.State)
		}
		return nil
	})
	// 249 more accounts, made outside the bridge: 251 with the admin.
	for i := range 249 {
		if _, err := e.client.CreateUser(ctx, hubspot.UserCreate{Email: fmt.Sprintf("x%03d@example.com", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.client.CreateUser(ctx, hubspot.UserCreate{Email: "eve@example.com"}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the periodic sweep removed the leaver", func() error {
		if e.hub("eve@example.com") != nil {
			return fmt.Errorf("still there")
		}
		return nil
	})
	st, err := e.engine.SweepStatus(ctx)
	if err != nil || st.Last == nil {
		t.Fatalf("status %+v %v", st, err)
	}
	// The last sweep read 251 accounts (252 with the leaver, if it ran
	// before her removal): 3 pages of 100.
	if n := st.Last.HubSpotUsers; (n != 251 && n != 252) || st.Last.Calls != 3 {
		t.Errorf("%d HubSpot users read in %d calls, want 251 or 252 in 3", n, st.Last.Calls)
	}
	if st.Next == nil {
		t.Error("no next sweep")
	}
}

// Two bridge users whose addresses differ only by width are one HubSpot
// identity: the second is refused, never given an account of its own.
func TestWidthVariantAddressesAreOneHubSpotIdentity(t *testing.T) {
	e := newEnv(t)
	ada := e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
	_, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{UserName: "ada-wide",
		Emails: []schemas.MultiValue{{Value: "ａｄａ@example.com", Primary: true}}})
	if err == nil || !strings.Contains(err.Error(), "two bridge users share one HubSpot identity") {
		t.Fatalf("a second bridge user with the same address: %v", err)
	}
	n := 0
	for _, u := range e.sim.State().Users {
		if strings.EqualFold(u.Email, "ada@example.com") || strings.Contains(u.Email, "ａ") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d HubSpot accounts for ada@example.com and its width variant", n)
	}
	if p := e.state(ada.ID); p.State != provision.StateSynced {
		t.Errorf("the first user: %+v", p)
	}
}
