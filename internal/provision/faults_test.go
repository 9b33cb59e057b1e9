package provision_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/schemas"
)

// With 10% 5xx answers, latency, a 429 storm, timeouts, writes whose
// answer is lost after HubSpot committed them and writes that commit after
// the client gave up, creating 1,000 users and deactivating 100 converges
// exactly: HubSpot holds one account per active user, with the role it
// should have, no duplicate, no leaver, nobody missing.
func TestConvergesUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	const clientTimeout = time.Second
	e := newEnv(t, func(c *envCfg) {
		c.engine.Wait = -1 // bulk: do not hold the writers
		c.engine.Workers = 8
		c.timeout = clientTimeout
		// Late commits land 4 s after the client gave up; removals are
		// verified after 5 s.
		c.engine.VerifyRemovalAfter = clientTimeout + 5*time.Second
	})
	e.eventually("catalogue loaded", func() error {
		if e.engine.Catalog() == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	start := time.Now()
	e.sim.SetFaults(hubspotsim.Faults{
		Seed: 7, ErrorRate: 0.10, Latency: time.Millisecond, LatencyJitter: 4 * time.Millisecond,
		Storm: 1500 * time.Millisecond, LostAnswerRate: 0.05, TimeoutRate: 0.02, TimeoutHold: clientTimeout + 4*time.Second,
		TimeoutAnswer: true, NestedErrorRate: 0.2,
	})
	const n, leavers = 1000, 100
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				u, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{
					UserName: fmt.Sprintf("u%04d", i),
					Emails:   []schemas.MultiValue{{Value: fmt.Sprintf("u%04d@example.com", i), Type: "work"}},
				})
				if err != nil {
					errs <- err
					return
				}
				ids[i] = u.ID
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("create: %v", err)
	}
	// Each leaver is deactivated as soon as the bridge has tried to create
	// their account: a create that timed out may commit after the removal.
	left := make([]bool, leavers)
	for remaining := leavers; remaining > 0; {
		for i := range leavers {
			if left[i] {
				continue
			}
			if p := e.state(ids[i]); p.AttemptedVersion == 0 && p.AppliedVersion == 0 {
				continue
			}
			if _, err := e.patchUser(ids[i], func(u *schemas.User) { f := false; u.Active = &f }); err != nil {
				t.Fatalf("deactivate: %v", err)
			}
			left[i] = true
			remaining--
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.eventuallyWithin(3*time.Minute, "HubSpot converges", func() error {
		counts, err := e.st.ProvisioningCounts(context.Background())
		if err != nil {
			return err
		}
		if counts["_pending"] > 0 {
			return fmt.Errorf("%d users pending (%v)", counts["_pending"], counts)
		}
		return nil
	})
	// Exact equality: every active user has one account with the default
	// role; no leaver, nobody else but the super admin.
	seen := map[string]int{}
	role := map[string]string{}
	for _, u := range e.sim.State().Users {
		seen[strings.ToLower(u.Email)]++
		role[strings.ToLower(u.Email)] = e.roleName(u.RoleID)
	}
	leftover, dup, missing := 0, 0, 0
	for i := range n {
		email := fmt.Sprintf("u%04d@example.com", i)
		want := 1
		if i < leavers {
			want = 0
		}
		switch got := seen[email]; {
		case got > 1:
			dup++
		case got > want:
			leftover++
		case got < want:
			missing++
		case want == 1 && role[email] != "Sales Representative":
			t.Errorf("%s has role %q", email, role[email])
		}
		delete(seen, email)
	}
	if leftover+dup+missing > 0 {
		t.Errorf("%d leavers in HubSpot, %d duplicates, %d missing", leftover, dup, missing)
	}
	delete(seen, "admin@example.com")
	if len(seen) > 0 {
		t.Errorf("unexpected HubSpot users: %v", seen)
	}
	st := e.sim.Stats()
	t.Logf("per second: %v", st.PerSecond)
	t.Logf("converged in %s; HubSpot calls %d, rate limited %d, aborted %d, by status %v; removals verified: %v gone, %v removed again",
		time.Since(start).Round(time.Millisecond), st.Total, st.RateLimited, st.Aborted, st.ByStatus,
		e.metric("scimbridge_removal_verifications_total", "outcome", "gone"), e.metric("scimbridge_removal_verifications_total", "outcome", "removed_again"))
}
