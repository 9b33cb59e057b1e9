package hubspot_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

func TestHealth(t *testing.T) {
	ctx := context.Background()
	const secretish = "ada.lovelace@example.com" // an address must not reach the report

	t.Run("healthy", func(t *testing.T) {
		clk := newFakeClock()
		srv := startSim(t, clk, hubspotsim.Faults{})
		c := simClient(t, srv, clk, nil)
		if h := c.Health(); h.Degraded || !h.LastSuccess.IsZero() || h.ConsecutiveFailures != 0 {
			t.Errorf("before any call: %+v", h)
		}
		if _, err := c.GetUserByEmail(ctx, secretish); !hubspot.IsNotFound(err) {
			t.Fatal(err) // a 404 is a normal answer
		}
		if h := c.Health(); h.Degraded || !h.LastSuccess.Equal(clk.Now()) || !h.LastFailure.IsZero() {
			t.Errorf("after a lookup: %+v", h)
		}
	})

	t.Run("5xx until it recovers", func(t *testing.T) {
		clk := newFakeClock()
		srv := startSim(t, clk, hubspotsim.Faults{})
		c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.MaxRetries = 1 })
		if _, err := c.Roles(ctx); err != nil {
			t.Fatal(err)
		}
		srv.Sim.SetFaults(hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}})
		if _, err := c.GetUserByEmail(ctx, secretish); err == nil {
			t.Fatal("no error from 503s")
		}
		if h := c.Health(); h.Degraded || h.ConsecutiveFailures != 2 {
			t.Errorf("two failures: %+v, want not yet degraded", h)
		}
		if _, err := c.GetUserByEmail(ctx, secretish); err == nil {
			t.Fatal("no error from 503s")
		}
		h := c.Health()
		if !h.Degraded || h.ConsecutiveFailures != 4 || !strings.Contains(h.Reason, "the last 4 requests to HubSpot failed") ||
			h.LastError != "GET /settings/users/2026-03/{userId}: HubSpot answered 503 Service Unavailable" || h.LastSuccess.IsZero() {
			t.Errorf("four failures: %+v", h)
		}
		srv.Sim.SetFaults(hubspotsim.Faults{})
		if _, err := c.Roles(ctx); err != nil {
			t.Fatal(err)
		}
		if h := c.Health(); h.Degraded || h.ConsecutiveFailures != 0 || h.LastFailure.IsZero() || h.LastError == "" {
			t.Errorf("after a success: %+v, want healthy, the last failure remembered", h)
		}
	})

	t.Run("simulator stopped", func(t *testing.T) {
		clk := newFakeClock()
		srv := startSim(t, clk, hubspotsim.Faults{})
		c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.MaxRetries = 2 })
		if _, err := c.Roles(ctx); err != nil {
			t.Fatal(err)
		}
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := c.GetUserByEmail(ctx, secretish); err == nil {
			t.Fatal("no error from a stopped simulator")
		}
		h := c.Health()
		if !h.Degraded || h.ConsecutiveFailures != 3 || !strings.Contains(h.LastError, "connection refused") ||
			!strings.HasPrefix(h.LastError, "GET /settings/users/2026-03/{userId}: ") {
			t.Errorf("stopped: %+v", h)
		}
		if s := h.Reason + h.LastError; strings.Contains(s, secretish) || strings.Contains(s, "EMAIL") || strings.Contains(s, hubspotsim.DemoToken) {
			t.Errorf("the report names the request: %q", s)
		}
	})

	t.Run("token refused", func(t *testing.T) {
		clk := newFakeClock()
		srv := startSim(t, clk, hubspotsim.Faults{})
		const wrong = "pat-na1-WRONG-SECRET-0000"
		c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.Token = wrong })
		for range hubspot.HealthFailures {
			if _, err := c.Roles(ctx); !hubspot.IsForbidden(err) {
				t.Fatalf("wrong token: %v", err)
			}
		}
		h := c.Health()
		if !h.Degraded || !strings.Contains(h.Reason, "token is not accepted") || !strings.Contains(h.LastError, "401") {
			t.Errorf("refused: %+v", h)
		}
		if strings.Contains(h.Reason+h.LastError, "SECRET") {
			t.Errorf("the token is in the report: %+v", h)
		}
	})

	t.Run("daily budget spent", func(t *testing.T) {
		clk := newFakeClock()
		srv := startSim(t, clk, hubspotsim.Faults{})
		c := simClient(t, srv, clk, nil)
		if _, err := c.Roles(ctx); err != nil {
			t.Fatal(err)
		}
		srv.Sim.SetLimits(hubspotsim.Limits{Daily: 1}) // another process spent the day
		_, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "late@example.com"})
		if rle, ok := hubspot.IsRateLimited(err); !ok || rle.PolicyName != hubspot.PolicyDaily {
			t.Fatalf("create: %v, want DAILY", err)
		}
		h := c.Health()
		midnight := time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)
		if !h.Degraded || !h.DailyPausedUntil.Equal(midnight) || !strings.Contains(h.Reason, "writes paused until 2026-05-05T00:00:00Z") ||
			h.ConsecutiveFailures != 0 {
			t.Errorf("paused: %+v", h)
		}
		clk.Advance(12 * time.Hour)
		if h := c.Health(); h.Degraded || !h.DailyPausedUntil.IsZero() {
			t.Errorf("after midnight: %+v", h)
		}
	})

	t.Run("caller gone", func(t *testing.T) {
		clk := newFakeClock()
		srv := startSim(t, clk, hubspotsim.Faults{TimeoutRate: 1, TimeoutHold: 2 * time.Second})
		c := simClient(t, srv, clk, nil)
		for range hubspot.HealthFailures {
			cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			_, err := c.Roles(cctx)
			cancel()
			if err == nil {
				t.Fatal("no error")
			}
		}
		if h := c.Health(); h.Degraded || h.ConsecutiveFailures != 0 {
			t.Errorf("calls abandoned by their callers: %+v, want nothing said of HubSpot", h)
		}
	})
}

func TestHealthJSON(t *testing.T) {
	at := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	b, err := json.Marshal(hubspot.Health{Degraded: true, Reason: "r", LastFailure: at, LastError: "e", ConsecutiveFailures: 3})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"degraded":true,"reason":"r","lastFailure":"2026-05-04T12:00:00Z","lastError":"e","consecutiveFailures":3}`
	if string(b) != want {
		t.Errorf("JSON %s, want %s", b, want)
	}
	b, _ = json.Marshal(hubspot.Health{})
	if string(b) != `{"degraded":false,"consecutiveFailures":0}` {
		t.Errorf("zero JSON %s", b)
	}
}
