package main

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// TestServeHubSpotMetrics: a serving bridge exposes its HubSpot traffic
// and rate limiter state at /metrics.
func TestServeHubSpotMetrics(t *testing.T) {
	sim, err := hubspotsim.Start(hubspotsim.Config{Seed: hubspotsim.DefaultSeed()}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	d := startServe(t, fmt.Sprintf("hubspot:\n  base_url: %s\n  token: %s\n  daily_limit: 1000\n", sim.URL, hubspotsim.DemoToken))
	if status, m := d.request(t, "POST", "/Users", `{"userName":"metered@example.com","emails":[{"value":"metered@example.com"}]}`); status != 201 {
		t.Fatalf("create: %d %v", status, m)
	}
	const created = `scimbridge_hubspot_requests_total{endpoint="/settings/users/2026-03",method="POST",status_class="2xx"}`
	waitForWithin(t, 20*time.Second, created, func() error {
		if v := d.metric(t, created); v < 1 {
			return fmt.Errorf("%s = %v", created, v)
		}
		return nil
	})
	for series, want := range map[string]float64{
		`scimbridge_hubspot_rate_window_limit{limiter="default"}`: 100,
		`scimbridge_hubspot_rate_window_limit{limiter="search"}`:  4,
		`scimbridge_hubspot_daily_limit`:                          250000, // HubSpot's headers win over the configuration
		`scimbridge_hubspot_daily_paused`:                         0,
	} {
		if got := d.metric(t, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if v := d.metric(t, `scimbridge_hubspot_daily_remaining`); v <= 0 || v >= 250000 {
		t.Errorf("daily_remaining = %v, want some of the 250000 spent", v)
	}
	if v := d.metric(t, `scimbridge_hubspot_request_duration_seconds_count{endpoint="/settings/users/2026-03",method="POST"}`); v < 1 {
		t.Errorf("no duration observed for the create")
	}
}
