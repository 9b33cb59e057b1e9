package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// TestPostgresStandbyTakesOver runs two `scimbridge serve` on one
// PostgreSQL database (a real server, started by the test) and one HubSpot
// that loses answers: the second waits for the database's owner lock
// while the first serves; the first is killed with SIGKILL in the middle
// of 300 SCIM creates and 30 deactivations; the second takes over and
// finishes. HubSpot ends with exactly one account per active user, no
// leaver and no duplicate.
func TestPostgresStandbyTakesOver(t *testing.T) {
	if testing.Short() {
		t.Skip("long: -short")
	}
	// The server trusts local connections; the password is there to show
	// it never reaches a log.
	dsn := strings.Replace(pg.Database(t), "postgres@", "postgres:s3cret@", 1)
	if !strings.Contains(dsn, "s3cret") {
		t.Fatalf("no password put in %s", dsn)
	}
	sim, err := hubspotsim.Start(hubspotsim.Config{
		Seed:   hubspotsim.DefaultSeed(),
		Limits: hubspotsim.Limits{TenSecondly: 100000, Interval: 10 * time.Second, Daily: 10_000_000},
		Faults: hubspotsim.Faults{Seed: 5, LostAnswerRate: 0.03, ErrorRate: 0.02, Latency: time.Millisecond, LatencyJitter: 3 * time.Millisecond},
	}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	const token = "failover-token-0123456789"
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	cfg := fmt.Sprintf(`server:
  listen: 127.0.0.1:0
store:
  driver: postgres
  dsn: %q
auth:
  tokens:
    - name: failover
      token: %s
      scopes: [scim.read, scim.write, admin]
hubspot:
  base_url: %s
  token: %s
  rate_limit: 100000
  daily_limit: 10000000
  timeout: 1s
provisioning:
  workers: 8
  wait: 50ms
  verify_removal_after: 3s
log:
  format: json
`, dsn, token, sim.URL, hubspotsim.DemoToken)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	active := startBridge(t, cfgPath)
	defer active.kill()
	standby, serving := launchBridge(t, cfgPath)
	defer standby.kill()
	waitForLine(t, standby, "waiting for the store")
	for _, b := range []*bridgeProc{active, standby} {
		if log := b.log.String(); strings.Contains(log, "s3cret") || !strings.Contains(log, "postgres:xxxxx@") {
			t.Fatalf("the store's name in the log is not the redacted connection string:\n%s", log)
		}
	}

	l := newLifecycleLoad(token, "failover", 300)
	killed := make(chan time.Time, 1)
	go func() {
		for l.count(l.created) < 100 {
			time.Sleep(5 * time.Millisecond)
		}
		active.kill()
		killed <- time.Now()
	}()
	l.run(active.base)
	at := <-killed
	select {
	case <-serving:
		t.Logf("the standby served %s after the kill (%d creates and %d deactivations answered before it)",
			time.Since(at).Round(time.Millisecond), l.count(l.created), l.count(l.left))
	case <-time.After(30 * time.Second):
		t.Fatalf("the standby did not take over:\n%s", standby.log.String())
	}
	l.run(standby.base)
	l.converged(t, sim, standby.base)
}

// waitForLine waits up to 20 s for b to log a line containing s.
func waitForLine(t *testing.T, b *bridgeProc, s string) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(b.log.String(), s) {
			return
		}
	}
	t.Fatalf("no %q in the log:\n%s", s, b.log.String())
}
