package main

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/directory/ldaptest"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// root is the bridge's address without the SCIM path.
func (d *demo) root() string { return strings.TrimSuffix(d.scim, "/scim/v2") }

// readyz reads /readyz: status code, status and reasons joined by "; ".
func (d *demo) readyz(t *testing.T) (int, string, string) {
	t.Helper()
	status, m := d.request(t, "GET", d.root()+"/readyz", "")
	var reasons []string
	rs, _ := m["reasons"].([]any)
	for _, r := range rs {
		reasons = append(reasons, fmt.Sprint(r))
	}
	return status, fmt.Sprint(m["status"]), strings.Join(reasons, "; ")
}

// waitReady waits until /readyz answers code and status with a reason
// containing reason.
func (d *demo) waitReady(t *testing.T, code int, status, reason string) string {
	t.Helper()
	var got string
	waitForWithin(t, 30*time.Second, fmt.Sprintf("/readyz %d %s (%q)", code, status, reason), func() error {
		c, s, r := d.readyz(t)
		got = r
		if c != code || s != status || !strings.Contains(r, reason) || (status == "ready" && r != "") {
			return fmt.Errorf("got %d %s %q", c, s, r)
		}
		return nil
	})
	t.Logf("/readyz: %d %s %q", code, status, got)
	return got
}

// metric reads one sample from /metrics (0 when absent).
func (d *demo) metric(t *testing.T, series string) float64 {
	t.Helper()
	resp, err := http.Get(d.root() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	return 0
}

// check returns one check of GET /admin/v1/status.
func (d *demo) check(t *testing.T, name string) map[string]any {
	t.Helper()
	status, m := d.request(t, "GET", d.root()+"/admin/v1/status", "")
	if status != 200 {
		t.Fatalf("GET /admin/v1/status: %d %v", status, m)
	}
	cs, _ := m["checks"].([]any)
	for _, c := range cs {
		if c := c.(map[string]any); c["name"] == name {
			return c
		}
	}
	t.Fatalf("GET /admin/v1/status has no %s check: %v", name, m)
	return nil
}

func readErrors(cause string) string {
	return `scimbridge_directory_read_errors_total{cause="` + cause + `"}`
}

// directoryConfig is the serve configuration for a test directory: short
// timeouts, frequent health checks, no incremental polls (so that an admin
// run never finds one in progress).
func directoryConfig(srv *ldaptest.Server, bindDN, password, base string) string {
	return fmt.Sprintf(`directory:
  type: ldap
  ldap:
    urls: [%s]
    bind_dn: %q
    bind_password: %q
    bases: [%q]
    timeout: 1s
reconcile:
  poll_interval: -1s
`, srv.URL(), bindDN, password, base)
}

const fastHealth = "  health_interval: 100ms\n"

// reconcileError runs POST /admin/v1/reconcile and checks that it answers
// status with the cause in the SCIM error's detail.
func (d *demo) reconcileError(t *testing.T, status int, cause string) {
	t.Helper()
	var got int
	var m map[string]any
	waitFor(t, "an admin reconcile run", func() error {
		got, m = d.request(t, "POST", d.root()+"/admin/v1/reconcile", "")
		if got == 409 { // the start-up run still going
			return fmt.Errorf("%d %v", got, m)
		}
		return nil
	})
	t.Logf("POST /admin/v1/reconcile: %d %v", got, m)
	detail, _ := m["detail"].(string)
	schemas, _ := m["schemas"].([]any)
	if got != status || m["status"] != strconv.Itoa(status) || len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" ||
		!strings.Contains(detail, "(cause "+cause+")") {
		t.Fatalf("POST /admin/v1/reconcile: %d %v, want %d with cause %s", got, m, status, cause)
	}
}

// TestReadyzDirectoryFaults runs serve against a real slapd and breaks the
// directory: stopped (unreachable: 503 from an admin run), frozen with
// SIGSTOP (timeout: 504), its bind account's password changed (bind
// refused: 502). /readyz stays 200 "degraded" with the cause throughout
// (SCIM writes are still taken) and scimbridge_directory_read_errors_total
// counts each cause.
func TestReadyzDirectoryFaults(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.WithLDIFFile("../../directory/testdata/otds.ldif"))
	const account = "cn=svc-scimbridge," + ldaptest.Suffix
	srv.Add(account, map[string][]string{
		"objectClass":  {"organizationalRole", "simpleSecurityObject"},
		"cn":           {"svc-scimbridge"},
		"userPassword": {"first-password-0123"},
	})
	d := startServeWith(t, fastHealth, "", directoryConfig(srv, account, "first-password-0123", ldaptest.Suffix))
	d.waitReady(t, 200, "ready", "")
	// The background check may not have run yet when /readyz first
	// answers ready.
	waitFor(t, "the first directory check", func() error {
		if c := d.check(t, "directory"); c["status"] != "ok" || c["lastSuccess"] == nil {
			return fmt.Errorf("directory check while healthy: %v", c)
		}
		return nil
	})
	// The start-up run has finished once an admin run is not refused as busy.
	waitFor(t, "the start-up reconcile", func() error {
		if status, m := d.request(t, "POST", d.root()+"/admin/v1/reconcile?dryRun=true", ""); status != 200 {
			return fmt.Errorf("%d %v", status, m)
		}
		return nil
	})
	// A SCIM write still works whatever the directory does; check it at
	// the end of each case.
	writes := 0
	scimWrite := func() {
		t.Helper()
		writes++
		status, m := d.request(t, "POST", "/Users", fmt.Sprintf(`{"userName":"writer%d@example.com"}`, writes))
		if status != 201 {
			t.Fatalf("SCIM write while the directory is down: %d %v", status, m)
		}
	}

	t.Run("unreachable", func(t *testing.T) {
		before := d.metric(t, readErrors("unreachable"))
		srv.Stop()
		reason := d.waitReady(t, 200, "degraded", "directory: unreachable: ")
		if !strings.Contains(reason, "connection refused") {
			t.Errorf("reason %q does not say the connection was refused", reason)
		}
		d.reconcileError(t, 503, "unreachable")
		if after := d.metric(t, readErrors("unreachable")); after <= before {
			t.Errorf("%s did not move: %v then %v", readErrors("unreachable"), before, after)
		}
		c := d.check(t, "directory")
		detail, _ := c["detail"].(map[string]any)
		if c["status"] != "down" || c["since"] == nil || c["lastSuccess"] == nil || detail["lastErrorCause"] != "unreachable" || detail["lastSuccess"] == nil {
			t.Errorf("directory check: %v", c)
		}
		scimWrite()
		srv.Restart()
		d.waitReady(t, 200, "ready", "")
	})

	t.Run("frozen", func(t *testing.T) {
		if !srv.Real() {
			t.Skip("needs slapd")
		}
		before := d.metric(t, readErrors("timeout"))
		srv.Freeze()
		defer srv.Thaw()
		d.reconcileError(t, 504, "timeout")
		d.waitReady(t, 200, "degraded", "directory: timeout: ")
		if after := d.metric(t, readErrors("timeout")); after <= before {
			t.Errorf("%s did not move: %v then %v", readErrors("timeout"), before, after)
		}
		scimWrite()
		srv.Thaw()
		d.waitReady(t, 200, "ready", "")
	})

	t.Run("bind refused", func(t *testing.T) {
		if !srv.Real() {
			t.Skip("needs slapd's password checks")
		}
		before := d.metric(t, readErrors("bind_refused"))
		srv.Modify(account, map[string][]string{"userPassword": {"second-password-0123"}})
		// The bridge's open connection stays bound; a restart makes every
		// read bind again.
		srv.Restart()
		d.waitReady(t, 200, "degraded", "directory: bind_refused: ")
		d.reconcileError(t, 502, "bind_refused")
		if after := d.metric(t, readErrors("bind_refused")); after <= before {
			t.Errorf("%s did not move: %v then %v", readErrors("bind_refused"), before, after)
		}
		scimWrite()
	})
}

// TestReadyzBaseDNMissing: a configuration whose base DN does not exist
// opens (the bind works) but every read fails: an admin run answers 502
// with the cause, /readyz says degraded.
func TestReadyzBaseDNMissing(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.WithLDIFFile("../../directory/testdata/otds.ldif"))
	d := startServeWith(t, fastHealth, "", directoryConfig(srv, srv.BindDN(), srv.Password(), "ou=Nowhere,"+ldaptest.Suffix))
	reason := d.waitReady(t, 200, "degraded", "directory: base_dn_missing: ")
	if !strings.Contains(reason, "ou=Nowhere") {
		t.Errorf("reason %q does not name the base", reason)
	}
	before := d.metric(t, readErrors("base_dn_missing"))
	d.reconcileError(t, 502, "base_dn_missing")
	if after := d.metric(t, readErrors("base_dn_missing")); after <= before {
		t.Errorf("%s did not move: %v then %v", readErrors("base_dn_missing"), before, after)
	}
}

// hubspotSimConfig is the serve configuration for a simulator.
func hubspotSimConfig(sim *hubspotsim.Server) string {
	return fmt.Sprintf(`hubspot:
  base_url: %s
  token: %s
  max_retries: 1
  timeout: 2s
provisioning:
  wait: 1s
`, sim.URL, hubspotsim.DemoToken)
}

// TestReadyzHubSpotDown stops the HubSpot simulator under a running
// bridge: once its calls fail, /readyz is 200 "degraded" with the reason,
// SCIM writes are still taken (and queued), and the status page shows the
// client's health and limiter state.
func TestReadyzHubSpotDown(t *testing.T) {
	sim, err := hubspotsim.Start(hubspotsim.Config{Seed: hubspotsim.DefaultSeed()}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	d := startServe(t, hubspotSimConfig(sim))
	d.waitReady(t, 200, "ready", "")
	if status, m := d.request(t, "POST", "/Users", `{"userName":"before@example.com","emails":[{"value":"before@example.com"}]}`); status != 201 {
		t.Fatalf("create: %d %v", status, m)
	}
	sim.Close()
	// Writes keep coming while HubSpot is away: they are stored and queued.
	for i := range 3 {
		body := fmt.Sprintf(`{"userName":"during%d@example.com","emails":[{"value":"during%d@example.com"}]}`, i, i)
		if status, m := d.request(t, "POST", "/Users", body); status != 201 {
			t.Fatalf("create while HubSpot is down: %d %v", status, m)
		}
	}
	reason := d.waitReady(t, 200, "degraded", "hubspot: ")
	if !strings.Contains(reason, "connection refused") {
		t.Errorf("reason %q does not say why", reason)
	}
	c := d.check(t, "hubspot")
	t.Logf("hubspot check: %v", c)
	detail, _ := c["detail"].(map[string]any)
	window, _ := detail["rateWindow"].(map[string]any)
	daily, _ := detail["daily"].(map[string]any)
	if c["status"] != "degraded" || c["impact"] != "degrades" || detail["lastError"] == nil || detail["lastSuccess"] == nil ||
		window["limit"] == nil || daily["remaining"] == nil {
		t.Fatalf("hubspot check: %v", c)
	}
	if c := d.check(t, "provisioning"); c["detail"].(map[string]any)["counts"].(map[string]any)["_pending"].(float64) < 3 {
		t.Fatalf("provisioning check: %v", c)
	}
}

// TestReadyzDailyBudgetSpent gives the simulator a tiny daily budget: once
// the bridge has spent it, writes pause until the reset and /readyz is 200
// "degraded" saying so.
func TestReadyzDailyBudgetSpent(t *testing.T) {
	sim, err := hubspotsim.Start(hubspotsim.Config{Seed: hubspotsim.DefaultSeed(), Limits: hubspotsim.Limits{Daily: 15}}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	d := startServe(t, hubspotSimConfig(sim))
	for i := 0; ; i++ {
		if _, s, _ := d.readyz(t); s == "degraded" {
			break
		}
		if i == 30 {
			t.Fatal("the daily budget was never spent")
		}
		body := fmt.Sprintf(`{"userName":"user%d@example.com","emails":[{"value":"user%d@example.com"}]}`, i, i)
		if status, m := d.request(t, "POST", "/Users", body); status != 201 {
			t.Fatalf("create %d: %d %v", i, status, m)
		}
	}
	_, _, reason := d.readyz(t)
	t.Logf("/readyz: degraded %q", reason)
	if status, _, _ := d.readyz(t); status != 200 || !strings.Contains(reason, "hubspot: ") || !strings.Contains(reason, "daily") {
		t.Fatalf("/readyz with the daily budget spent: %d %q", status, reason)
	}
	c := d.check(t, "hubspot")
	daily, _ := c["detail"].(map[string]any)["daily"].(map[string]any)
	if daily["pausedUntil"] == nil || daily["remaining"].(float64) > 1 {
		t.Fatalf("hubspot check: %v", c)
	}
}
