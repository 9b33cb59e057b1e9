package hubspot_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// closedURL is a loopback address nobody listens on: connection refused.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

// requests reads scimbridge_hubspot_requests_total from reg.
func requests(t *testing.T, reg *prometheus.Registry, endpoint, method, class string) float64 {
	t.Helper()
	return series(t, reg, "scimbridge_hubspot_requests_total", map[string]string{"endpoint": endpoint, "method": method, "status_class": class})
}

// series is the value of the series name{labels} in reg (a counter, a
// gauge, or a histogram's sample count); 0 when absent.
func series(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			got := map[string]string{}
			for _, lp := range m.GetLabel() {
				got[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if got[k] != v {
					continue metric
				}
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func TestMetricsRequests(t *testing.T) {
	clk := newFakeClock()
	srv := startSim(t, clk, hubspotsim.Faults{})
	reg := prometheus.NewPedanticRegistry()
	c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.Metrics = reg; cfg.MaxRetries = 1 })
	ctx := context.Background()
	const user = "/settings/users/2026-03/{userId}"

	if _, err := c.GetUser(ctx, "10000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUserByEmail(ctx, "nobody@example.com"); !hubspot.IsNotFound(err) {
		t.Fatalf("lookup of an unknown address: %v", err)
	}
	srv.Sim.SetFaults(hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}, Methods: []string{"GET"}})
	if _, err := c.GetUser(ctx, "10000002"); err == nil {
		t.Fatal("GetUser succeeded against 503s")
	}
	srv.Sim.SetFaults(hubspotsim.Faults{})
	if _, err := c.Roles(ctx); err != nil {
		t.Fatal(err)
	}
	// Another client of the same registry, HubSpot unreachable: no answer.
	down := newClient(t, closedURL(t), clk, func(cfg *hubspot.Config) { cfg.Metrics = reg; cfg.MaxRetries = 2 })
	if err := down.DeleteUser(ctx, "10000003"); err == nil {
		t.Fatal("DeleteUser succeeded against a closed port")
	}

	for _, tt := range []struct {
		endpoint, method, class string
		want                    float64
	}{
		{user, "GET", "2xx", 1},
		{user, "GET", "4xx", 1},
		{user, "GET", "5xx", 2}, // the call and its retry
		{"/settings/users/2026-03/roles", "GET", "2xx", 1},
		{user, "DELETE", "error", 3},
	} {
		if got := requests(t, reg, tt.endpoint, tt.method, tt.class); got != tt.want {
			t.Errorf("requests{%s %s %s} = %v, want %v", tt.method, tt.endpoint, tt.class, got, tt.want)
		}
	}
	if got := series(t, reg, "scimbridge_hubspot_request_duration_seconds", map[string]string{"endpoint": user, "method": "GET"}); got != 4 {
		t.Errorf("GET %s durations observed %v times, want 4", user, got)
	}
	// Endpoint × method series only, never one per id or query.
	if n := testutil.CollectAndCount(reg, "scimbridge_hubspot_request_duration_seconds"); n != 3 {
		t.Errorf("%d duration series, want 3 (GET and DELETE user, GET roles)", n)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v := lp.GetValue(); strings.Contains(v, "1000000") || strings.Contains(v, "@") || strings.Contains(v, "?") {
					t.Errorf("%s has label %s=%q", mf.GetName(), lp.GetName(), v)
				}
			}
		}
	}
	problems, err := testutil.GatherAndLint(reg)
	if err != nil || len(problems) > 0 {
		t.Errorf("lint: %v %+v", err, problems)
	}
}

func TestMetricsRateLimited(t *testing.T) {
	clk := newFakeClock()
	srv := startCRMSim(t, clk, 3, hubspotsim.Faults{})
	reg := prometheus.NewPedanticRegistry()
	// The client allows more searches a second than HubSpot does, so the
	// simulator's search limit answers 429 without a policy.
	c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.Metrics = reg; cfg.SearchRate = 50 })
	ctx := context.Background()
	limited := func(policy string) float64 {
		return series(t, reg, "scimbridge_hubspot_rate_limited_total", map[string]string{"policy": policy})
	}

	for i := range 6 {
		if _, err := c.FindCRMUser(ctx, hubspot.DefaultCRMLinkProperty, "20000001", nil); err != nil {
			t.Fatalf("search %d: %v", i, err)
		}
	}
	if got := limited("unknown"); got < 1 {
		t.Errorf("rate_limited{policy=unknown} = %v after a burst of searches, want ≥ 1", got)
	}

	srv.Sim.SetFaults(hubspotsim.Faults{Storm: 2 * time.Second})
	if _, err := c.GetUser(ctx, "20000000"); err != nil {
		t.Fatal(err)
	}
	if got := limited(hubspot.PolicyTenSecondly); got != 1 {
		t.Errorf("rate_limited{policy=TEN_SECONDLY_ROLLING} = %v, want 1", got)
	}
	srv.Sim.SetFaults(hubspotsim.Faults{})

	if got := series(t, reg, "scimbridge_hubspot_daily_paused", nil); got != 0 {
		t.Errorf("daily_paused = %v before the DAILY 429", got)
	}
	srv.Sim.SetLimits(hubspotsim.Limits{Daily: 1}) // another process spent the day
	_, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "late@example.com"})
	if rle, ok := hubspot.IsRateLimited(err); !ok || rle.PolicyName != hubspot.PolicyDaily {
		t.Fatalf("create: %v, want a DAILY 429", err)
	}
	if got := limited(hubspot.PolicyDaily); got != 1 {
		t.Errorf("rate_limited{policy=DAILY} = %v, want 1", got)
	}
	if got := series(t, reg, "scimbridge_hubspot_daily_paused", nil); got != 1 {
		t.Errorf("daily_paused = %v after a DAILY 429, want 1", got)
	}
	if got := series(t, reg, "scimbridge_hubspot_daily_remaining", nil); got != 0 {
		t.Errorf("daily_remaining = %v after a DAILY 429, want 0", got)
	}
}

func TestMetricsLimiterGauges(t *testing.T) {
	clk := newFakeClock()
	srv := startCRMSim(t, clk, 3, hubspotsim.Faults{})
	srv.Sim.SetLimits(hubspotsim.Limits{TenSecondly: 20, Interval: 2 * time.Second, Daily: 5000})
	reg := prometheus.NewPedanticRegistry()
	c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.Metrics = reg })
	ctx := context.Background()
	window := func(name, limiter string) float64 {
		return series(t, reg, name, map[string]string{"limiter": limiter})
	}
	if got := window("scimbridge_hubspot_rate_window_limit", "default"); got != hubspot.DefaultRateLimit {
		t.Errorf("window limit %v before any answer, want the configured %d", got, hubspot.DefaultRateLimit)
	}
	if got := series(t, reg, "scimbridge_hubspot_daily_limit", nil); got != hubspot.DefaultDailyLimit {
		t.Errorf("daily_limit %v before any answer, want the configured %d", got, hubspot.DefaultDailyLimit)
	}

	for range 3 {
		if _, err := c.GetUser(ctx, "20000000"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.FindCRMUser(ctx, hubspot.DefaultCRMLinkProperty, "20000001", nil); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, limiter string
		want          float64
	}{
		{"scimbridge_hubspot_rate_window_used", "default", 4}, // from HubSpot's Remaining header
		{"scimbridge_hubspot_rate_window_limit", "default", 20},
		{"scimbridge_hubspot_rate_window_seconds", "default", 2},
		{"scimbridge_hubspot_rate_window_used", "search", 1},
		{"scimbridge_hubspot_rate_window_limit", "search", hubspot.DefaultSearchRate},
		{"scimbridge_hubspot_rate_window_seconds", "search", 1},
	} {
		if got := window(tt.name, tt.limiter); got != tt.want {
			t.Errorf("%s{limiter=%s} = %v, want %v", tt.name, tt.limiter, got, tt.want)
		}
	}
	if got := series(t, reg, "scimbridge_hubspot_daily_limit", nil); got != 5000 {
		t.Errorf("daily_limit = %v, want HubSpot's 5000", got)
	}
	if got := series(t, reg, "scimbridge_hubspot_daily_remaining", nil); got != 4996 {
		t.Errorf("daily_remaining = %v, want 4996", got)
	}
	// Read at scrape time: the window empties as time passes.
	clk.Advance(3 * time.Second)
	if got := window("scimbridge_hubspot_rate_window_used", "default"); got != 0 {
		t.Errorf("window used %v a window later, want 0", got)
	}
	if n := testutil.CollectAndCount(reg, "scimbridge_hubspot_rate_window_used", "scimbridge_hubspot_rate_window_limit",
		"scimbridge_hubspot_daily_limit", "scimbridge_hubspot_daily_remaining", "scimbridge_hubspot_daily_paused"); n != 7 {
		t.Errorf("%d limiter series, want 7 (window used and limit for default and search, three daily)", n)
	}
}

// An OAuth app has no daily budget: no remaining to report.
func TestMetricsNoDailyBudget(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	newClient(t, closedURL(t), newFakeClock(), func(cfg *hubspot.Config) { cfg.Metrics = reg; cfg.DailyLimit = -1 })
	if n := testutil.CollectAndCount(reg, "scimbridge_hubspot_daily_remaining"); n != 0 {
		t.Errorf("%d daily_remaining series with no daily budget, want none", n)
	}
	if got := series(t, reg, "scimbridge_hubspot_daily_limit", nil); got != 0 {
		t.Errorf("daily_limit = %v, want 0 (unknown)", got)
	}
}
