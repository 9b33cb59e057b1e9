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

// With 10% 5xx answers, latency, a 429 storm, timeouts and writes whose
// answer is lost after HubSpot committed them, creating 500 users and
// deactivating 100 converges exactly: no duplicate, no leftover, nobody
// missing.
func TestConvergesUnderFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	e := newEnv(t, func(c *envCfg) {
		c.engine.Wait = -1 // bulk: do not hold the writers
		c.engine.Workers = 8
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
		Storm: 1500 * time.Millisecond, LostAnswerRate: 0.05, TimeoutRate: 0.01, TimeoutHold: 2 * time.Second,
		NestedErrorRate: 0.2,
	})
	const n, leavers = 500, 100
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 16 {
				u, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{
					UserName: fmt.Sprintf("u%03d", i),
					Emails:   []schemas.MultiValue{{Value: fmt.Sprintf("u%03d@example.com", i), Type: "work"}},
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
	for i := range leavers {
		if _, err := e.patchUser(ids[i], func(u *schemas.User) { f := false; u.Active = &f }); err != nil {
			t.Fatalf("deactivate: %v", err)
		}
	}
	e.eventuallyWithin(2*time.Minute, "HubSpot converges", func() error {
		counts, err := e.st.ProvisioningCounts(context.Background())
		if err != nil {
			return err
		}
		if counts["_pending"] > 0 {
			return fmt.Errorf("%d users pending (%v)", counts["_pending"], counts)
		}
		return nil
	})
	seen := map[string]int{}
	for _, u := range e.sim.State().Users {
		seen[strings.ToLower(u.Email)]++
	}
	for i := range n {
		email := fmt.Sprintf("u%03d@example.com", i)
		want := 1
		if i < leavers {
			want = 0
		}
		if seen[email] != want {
			t.Errorf("%s: %d HubSpot users, want %d", email, seen[email], want)
		}
		delete(seen, email)
	}
	delete(seen, "admin@example.com")
	if len(seen) > 0 {
		t.Errorf("unexpected HubSpot users: %v", seen)
	}
	st := e.sim.Stats()
	t.Logf("per second: %v", st.PerSecond)
	t.Logf("converged in %s; HubSpot calls %d, rate limited %d, aborted %d, by status %v", time.Since(start).Round(time.Millisecond), st.Total, st.RateLimited, st.Aborted, st.ByStatus)
}
