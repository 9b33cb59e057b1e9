package provision_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// The queue's gauges follow the store: rows by state, the rows with work
// left, and the age of the oldest pending one, which grows while HubSpot
// fails and drops to 0 once the work is done.
func TestQueueMetrics(t *testing.T) {
	e := newEnv(t, func(c *envCfg) {
		c.engine.Wait = -1
		c.retries = 0
	})
	e.eventually("catalogue loaded", func() error {
		if e.engine.Catalog() == nil {
			return fmt.Errorf("not yet")
		}
		return nil
	})
	if got := e.metric("scimbridge_provisioning_oldest_pending_age_seconds", "", ""); got != 0 {
		t.Fatalf("oldest pending age %v with nothing queued", got)
	}
	if got := e.metric("scimbridge_provisioning_queue", "state", "pending"); got != 0 {
		t.Fatalf("pending %v with nothing queued", got)
	}
	e.sim.SetFaults(hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}})
	e.createUser("ada", "ada@example.com", "Ada", "Lovelace")
	e.createUser("bob", "bob@example.com", "Bob", "Builder")
	time.Sleep(1500 * time.Millisecond)
	e.eventually("queue metrics show the stuck work", func() error {
		if got := e.metric("scimbridge_provisioning_queue", "state", "pending"); got != 2 {
			return fmt.Errorf("pending %v", got)
		}
		if got := e.metric("scimbridge_provisioning_queued", "", ""); got != 2 {
			return fmt.Errorf("queued %v", got)
		}
		if got := e.metric("scimbridge_provisioning_oldest_pending_age_seconds", "", ""); got < 1 {
			return fmt.Errorf("oldest pending age %v", got)
		}
		return nil
	})
	e.sim.SetFaults(hubspotsim.Faults{})
	e.eventually("queue metrics show the work done", func() error {
		if got := e.metric("scimbridge_provisioning_queue", "state", "synced"); got != 2 {
			return fmt.Errorf("synced %v", got)
		}
		if got := e.metric("scimbridge_provisioning_oldest_pending_age_seconds", "", ""); got != 0 {
			return fmt.Errorf("oldest pending age %v", got)
		}
		if got := e.metric("scimbridge_provisioning_queued", "", ""); got != 0 {
			return fmt.Errorf("queued %v", got)
		}
		return nil
	})
}
