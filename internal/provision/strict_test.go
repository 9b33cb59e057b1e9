package provision_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

// createMany creates n users user%03d@domain in parallel and returns their
// ids in order.
func (e *env) createMany(n int, prefix string, mod func(i int, u *schemas.User)) []string {
	e.t.Helper()
	ids := make([]string, n)
	errs := make([]error, n)
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			email := fmt.Sprintf("%s%03d@example.com", prefix, i)
			u := &schemas.User{UserName: email, Name: &schemas.Name{GivenName: "Given", FamilyName: fmt.Sprintf("Family%03d", i)},
				Emails: []schemas.MultiValue{{Value: email, Type: "work", Primary: true}}}
			if mod != nil {
				mod(i, u)
			}
			got, err := e.svc.CreateUser(context.Background(), e.actor, u)
			if err == nil {
				ids[i] = got.ID
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			e.t.Fatalf("create user %d: %v", i, err)
		}
	}
	return ids
}

// HubSpot refuses a name change of a user who has not accepted the
// invitation (USER_NOT_ON_ANY_HUBS), and the simulator's users are pending
// until they accept. 200 joiners are moved (role, main team, name) before
// accepting: the role and team reach HubSpot at once, the names wait as
// deferred (never failed), and land once the invitations are accepted.
func TestMoversBeforeAcceptingInvitations(t *testing.T) {
	const n = 200
	e := newEnv(t, func(c *envCfg) {
		c.engine.Workers = 8
		c.engine.RetryDeferredAfter = 2 * time.Second
	})
	ctx := context.Background()
	ids := e.createMany(n, "mover", nil)
	e.setMembers(e.group("Sales Managers"), ids...) // role
	e.setMembers(e.group("EMEA Sales"), ids...)     // main team, named like it
	for i, id := range ids {
		got, err := e.svc.PatchUser(ctx, e.actor, id, 0, func(u *schemas.User) ([]string, error) {
			u.Name.GivenName = "Renamed"
			return []string{"name"}, nil
		})
		if err != nil {
			t.Fatalf("rename %d before acceptance: %v", i, err)
		}
		if st := got.HubSpot.ProvisioningState; st != provision.StateDeferred || got.HubSpot.NextAttemptAt == nil {
			t.Fatalf("rename %d: extension %+v, want deferred with the next attempt", i, got.HubSpot)
		}
	}
	for i, id := range ids {
		email := fmt.Sprintf("mover%03d@example.com", i)
		h := e.hub(email)
		if h == nil || e.roleName(h.RoleID) != "Sales Manager" || h.FirstName != "Given" {
			t.Fatalf("%s in HubSpot: %+v", email, h)
		}
		if primary, _ := e.teamNames(h); primary != "EMEA Sales" {
			t.Fatalf("%s: main team %q", email, primary)
		}
		if p := e.state(id); p.State != provision.StateDeferred || p.AttemptedVersion < p.DesiredVersion {
			t.Fatalf("%s: row %+v, want deferred", email, p)
		}
	}
	counts, err := e.st.ProvisioningCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[provision.StateFailed] != 0 || counts[provision.StateDeferred] != n {
		t.Fatalf("states %v: want %d deferred, none failed", counts, n)
	}
	// They accept; the deferred names follow within RetryDeferredAfter.
	for i := range n {
		e.sim.AcceptInvite(fmt.Sprintf("mover%03d@example.com", i))
	}
	e.eventuallyWithin(60*time.Second, "every deferred name reached HubSpot", func() error {
		for i, id := range ids {
			email := fmt.Sprintf("mover%03d@example.com", i)
			if h := e.hub(email); h.FirstName != "Renamed" {
				return fmt.Errorf("%s still named %q", email, h.FirstName)
			}
			if p := e.state(id); p.State != provision.StateSynced {
				return fmt.Errorf("%s: %s %s", email, p.State, p.LastError)
			}
		}
		return nil
	})
}

// Profile attributes of 500 joiners land on CRM records HubSpot makes some
// time after each user, found with batched searches under the search
// limit of 4 a second, and no search ever pauses user provisioning.
func TestProfileAttributesBulk(t *testing.T) {
	const n = 500
	e := newEnv(t, func(c *envCfg) {
		c.engine.Workers = 8
		c.engine.Wait = -1 // a bulk load: nobody waits for HubSpot
		c.engine.Profile = provision.ProfileConfig{Properties: map[string]string{"title": "hs_job_title", "department": "department"}}
	})
	ids := e.createMany(n, "bulk", func(i int, u *schemas.User) {
		u.Title = fmt.Sprintf("Title %d", i)
		u.Enterprise = &schemas.EnterpriseExt{Department: "Sales"}
	})
	e.eventuallyWithin(3*time.Minute, "every profile written", func() error {
		counts, err := e.st.ProvisioningCounts(context.Background())
		if err != nil {
			return err
		}
		if counts["_pending"] != 0 || counts[provision.StateSynced] != n {
			return fmt.Errorf("states %v", counts)
		}
		return nil
	})
	for i := range ids {
		email := fmt.Sprintf("bulk%03d@example.com", i)
		if got := e.crm(email); got["hs_job_title"] != fmt.Sprintf("Title %d", i) || got["department"] != "Sales" {
			t.Fatalf("%s: CRM record %v", email, got)
		}
	}
	st := e.sim.Stats()
	searches := st.Calls("POST /crm/objects/{version}/users/search", 0)
	t.Logf("%d users: %d HubSpot calls, %d CRM searches, %d batch reads, %d batch updates, %d single updates", n, st.Total, searches,
		st.Calls("POST /crm/objects/{version}/users/batch/read", 0), st.Calls("POST /crm/objects/{version}/users/batch/update", 0),
		st.Calls("PATCH /crm/objects/{version}/users/{userId}", 0))
	// A create is one call; the profile part costs a search, a batch read
	// and a batch update per batch of users, not calls per user.
	if st.Total > n*110/100 {
		t.Errorf("%d HubSpot calls for %d users with profiles, want at most 1.1 a user", st.Total, n)
	}
	// Batching holds however the users arrive (docs/benchmarks.md has the
	// figures of a bulk load: about one search per 100 users): never a
	// search a user.
	if searches == 0 || searches > 4*n/100 {
		t.Errorf("%d CRM searches for %d profile writes, want at most %d", searches, n, 4*n/100)
	}
	if limited := st.Calls("POST /crm/objects/{version}/users/search", http.StatusTooManyRequests); limited != 0 {
		t.Errorf("%d searches answered 429", limited)
	}
	if b := e.client.Limiter().State().Blocks; b != 0 {
		t.Errorf("user provisioning was paused %d times by a 429", b)
	}
	failed, err := e.st.ProvisioningCounts(context.Background())
	if err != nil || failed[provision.StateFailed] != 0 {
		t.Errorf("failed users: %v %v", failed, err)
	}
}

// A create whose wait runs out answers with the HubSpot extension saying
// pending, and after transient trouble with the error and the next try.
func TestTimedOutCreateShowsPending(t *testing.T) {
	e := newEnv(t, func(c *envCfg) { c.engine.Wait = 300 * time.Millisecond; c.retries = 1 })
	e.sim.SetFaults(hubspotsim.Faults{Latency: 2 * time.Second, Methods: []string{"POST"}, Paths: []string{"/settings/users/"}})
	u := e.createUser("slow", "slow@example.com", "Slow", "Create")
	if u.HubSpot == nil || u.HubSpot.ProvisioningState != provision.StatePending {
		t.Fatalf("create answered with extension %+v, want pending", u.HubSpot)
	}
	got, err := e.svc.GetUser(context.Background(), u.ID, false)
	if err != nil || got.HubSpot == nil || got.HubSpot.ProvisioningState != provision.StatePending {
		t.Fatalf("GET while the create is under way: %+v %v", got, err)
	}
	e.eventually("the slow create finished", func() error {
		got, err := e.svc.GetUser(context.Background(), u.ID, false)
		if err != nil || got.HubSpot.ProvisioningState != provision.StateSynced || got.HubSpot.HubSpotUserID == "" {
			return fmt.Errorf("%+v %v", got.HubSpot, err)
		}
		return nil
	})

	// HubSpot answering 503s: still pending, with why and when next.
	e.sim.SetFaults(hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}, Methods: []string{"POST"}, Paths: []string{"/settings/users/"}})
	u = e.createUser("troubled", "troubled@example.com", "Trou", "Bled")
	e.eventually("the failed attempt shows", func() error {
		got, err := e.svc.GetUser(context.Background(), u.ID, false)
		if err != nil {
			return err
		}
		x := got.HubSpot
		if x == nil || x.ProvisioningState != provision.StatePending || x.LastError == "" || x.NextAttemptAt == nil {
			return fmt.Errorf("extension %+v", x)
		}
		return nil
	})
	e.sim.SetFaults(hubspotsim.Faults{})
	e.eventually("the troubled create finished", func() error {
		if p := e.state(u.ID); p.State != provision.StateSynced {
			return fmt.Errorf("%s %s", p.State, p.LastError)
		}
		return nil
	})
}

// HubSpot may refuse a whole batch update for one bad record; the writer
// then writes the records one by one, so each user shows its own reason.
func TestProfileBatchRefused(t *testing.T) {
	e := newEnv(t, func(c *envCfg) {
		c.engine.Profile = provision.ProfileConfig{Properties: map[string]string{"department": "hs_department_x"}}
	})
	ids := e.createMany(3, "refused", func(i int, u *schemas.User) { u.Enterprise = &schemas.EnterpriseExt{Department: "Sales"} })
	e.eventually("every refusal shows", func() error {
		for _, id := range ids {
			got, err := e.svc.GetUser(context.Background(), id, false)
			if err != nil {
				return err
			}
			if x := got.HubSpot; x == nil || x.ProvisioningState != provision.StateFailed || !strings.Contains(x.LastError, "hs_department_x") {
				return fmt.Errorf("%s: extension %+v", id, x)
			}
		}
		return nil
	})
	st := e.sim.Stats()
	if n := st.Calls("PATCH /crm/objects/{version}/users/{userId}", http.StatusBadRequest); n != 3 {
		t.Errorf("%d single updates refused, want one a user", n)
	}
	if n := st.Calls("POST /crm/objects/{version}/users/batch/update", 0); n > 1 {
		t.Errorf("%d batch updates", n)
	}
}
