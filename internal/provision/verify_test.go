package provision_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

// A HubSpot create that commits after the client gave up comes back after
// the user was deactivated and removed: the removal's verification, once
// the window in which such a call can commit has passed, finds the leaver
// back and removes them again.
func TestLateCommitLeaverRemovedAgain(t *testing.T) {
	const (
		clientTimeout = 2 * time.Second
		hold          = 4 * time.Second // the first create commits 4 s after HubSpot got it
		window        = clientTimeout + 3*time.Second
	)
	e := newEnv(t, func(c *envCfg) {
		c.timeout = clientTimeout
		c.engine.VerifyRemovalAfter = window
	})
	e.eventually("catalogue loaded", func() error {
		if e.engine.Catalog() == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	// The first create is held past the client's timeout, then applied.
	e.sim.SetFaults(hubspotsim.Faults{Seed: 1, TimeoutRate: 1, TimeoutHold: hold, TimeoutAnswer: true,
		Methods: []string{"POST"}, Paths: []string{"/settings/users/"}})
	created := make(chan *schemas.User, 1)
	start := time.Now()
	go func() {
		created <- e.createUser("late", "late@example.com", "Late", "Commit")
	}()
	e.eventually("the first create reached HubSpot", func() error {
		if e.sim.Stats().Total == 0 {
			return fmt.Errorf("no call yet")
		}
		return nil
	})
	time.Sleep(100 * time.Millisecond)
	e.sim.SetFaults(hubspotsim.Faults{}) // the retry goes through
	u := <-created
	if u.HubSpot == nil || u.HubSpot.ProvisioningState != provision.StateSynced {
		t.Fatalf("created: %+v", u.HubSpot)
	}
	if time.Since(start) >= hold {
		t.Fatalf("the create took %s: the retry did not beat the held call, the test shows nothing", time.Since(start))
	}
	// The leaver: removed, HubSpot empty, while the first create is
	// still being held.
	f := false
	left, err := e.patchUser(u.ID, func(u *schemas.User) { u.Active = &f })
	if err != nil {
		t.Fatal(err)
	}
	if left.HubSpot == nil || left.HubSpot.ProvisioningState != provision.StateRemoved {
		t.Fatalf("deactivated: %+v", left.HubSpot)
	}
	if h := e.hub("late@example.com"); h != nil {
		t.Fatalf("deactivated but in HubSpot: %+v", h)
	}
	if p := e.state(u.ID); p.State != provision.StateVerifying {
		t.Fatalf("removed row: state %q, want %q until verified", p.State, provision.StateVerifying)
	}
	// The held create commits: the leaver is back.
	e.eventuallyWithin(hold+time.Second, "the late create commits", func() error {
		if e.hub("late@example.com") == nil {
			return fmt.Errorf("not back yet")
		}
		return nil
	})
	resurrected := time.Now()
	// Verification removes them again within the window.
	e.eventuallyWithin(window+5*time.Second, "the leaver removed again", func() error {
		if h := e.hub("late@example.com"); h != nil {
			return fmt.Errorf("HubSpot user %s still there", h.ID)
		}
		return nil
	})
	t.Logf("leaver back in HubSpot for %s", time.Since(resurrected).Round(100*time.Millisecond))
	e.eventuallyWithin(window+5*time.Second, "the second removal verified", func() error {
		if p := e.state(u.ID); p.State != provision.StateRemoved || p.AppliedVersion != p.DesiredVersion {
			return fmt.Errorf("row %+v", p)
		}
		return nil
	})
	if h := e.hub("late@example.com"); h != nil {
		t.Fatalf("HubSpot user %s back after verification", h.ID)
	}
	if got := e.metric("scimbridge_removal_verifications_total", "outcome", "removed_again"); got != 1 {
		t.Errorf("removed_again verifications = %v, want 1", got)
	}
	if got := e.metric("scimbridge_removal_verifications_total", "outcome", "gone"); got != 1 {
		t.Errorf("gone verifications = %v, want 1", got)
	}
	got, err := e.st.GetUser(context.Background(), u.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.HubSpot == nil || got.HubSpot.ProvisioningState != provision.StateRemoved || got.HubSpot.HubSpotUserID != "" {
		t.Errorf("shown as %+v", got.HubSpot)
	}
}

// A deleted SCIM user's row stays until its removal is verified, then
// goes.
func TestDeletedUserRemovalVerified(t *testing.T) {
	e := newEnv(t, func(c *envCfg) { c.engine.VerifyRemovalAfter = time.Second })
	u := e.createUser("gone", "gone@example.com", "Gone", "Soon")
	if err := e.svc.DeleteUser(context.Background(), e.actor, u.ID, 0); err != nil {
		t.Fatal(err)
	}
	if h := e.hub("gone@example.com"); h != nil {
		t.Fatalf("deleted but in HubSpot: %+v", h)
	}
	if p := e.row(u.ID); p == nil || p.State != provision.StateVerifying {
		t.Fatalf("deleted user's row: %+v, want it verifying", p)
	}
	e.eventually("row gone once verified", func() error {
		if p := e.row(u.ID); p != nil {
			return fmt.Errorf("row %+v", p)
		}
		return nil
	})
}
