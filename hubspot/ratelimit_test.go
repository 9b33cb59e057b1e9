package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// rateLimited writes HubSpot's 429 body for policy.
func rateLimited(w http.ResponseWriter, policy string) {
	msg := "You have reached your ten_secondly_rolling limit."
	if policy == hubspot.PolicyDaily {
		msg = "You have reached your daily limit."
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"status": "error", "message": msg, "errorType": "RATE_LIMIT",
		"correlationId": "b3a1f0de-0000-4000-8000-000000000429", "policyName": policy,
	})
}

func TestTenSecondly429(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter string
		maxRetries int
		wantWait   time.Duration
		wantErr    bool
	}{
		{"Retry-After honoured", "3", 0, 3 * time.Second, false},
		{"no Retry-After: wait for the window", "", 0, 10*time.Second + 250*time.Millisecond, false},
		{"no retries left: typed error", "2", -1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t, 1)
			f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
				if n > 1 {
					return false
				}
				if tt.retryAfter != "" {
					w.Header().Set("Retry-After", tt.retryAfter)
				}
				rateLimited(w, hubspot.PolicyTenSecondly)
				return true
			}
			clk := newFakeClock()
			c := newClient(t, f.srv.URL, clk, func(cfg *hubspot.Config) { cfg.MaxRetries = tt.maxRetries })
			_, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: "new@example.com"})
			if tt.wantErr {
				rle, ok := hubspot.IsRateLimited(err)
				if !ok || rle.PolicyName != hubspot.PolicyTenSecondly || rle.RetryAfter != 2*time.Second ||
					rle.Err.Category != "RATE_LIMIT" || hubspot.IsPermanent(err) {
					t.Fatalf("err = %v (%+v), want a TEN_SECONDLY RateLimitError", err, rle)
				}
				return
			}
			// A 429 refused the POST, so it is sent again without a lookup.
			if err != nil || f.count() != 2 {
				t.Fatalf("err = %v, requests %v", err, f.log())
			}
			if s := clk.Slept(); len(s) != 1 || s[0] != tt.wantWait {
				t.Errorf("slept %v, want [%s]", s, tt.wantWait)
			}
		})
	}
}

func TestDailyLimitPausesWrites(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	tests := []struct {
		name      string
		zone      *time.Location
		wantReset time.Duration // from 12:00 UTC
	}{
		{"UTC midnight", nil, 12 * time.Hour},
		{"portal in New York", ny, 16 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t, 1)
			daily := true
			f.intercept = func(w http.ResponseWriter, r *http.Request, _ int) bool {
				if daily {
					rateLimited(w, hubspot.PolicyDaily)
					return true
				}
				return false
			}
			clk := newFakeClock()
			c := newClient(t, f.srv.URL, clk, func(cfg *hubspot.Config) { cfg.DailyResetZone = tt.zone })
			ctx := context.Background()
			first := "X"

			_, err := c.UpdateUser(ctx, "101", hubspot.UserUpdate{FirstName: &first})
			rle, ok := hubspot.IsRateLimited(err)
			if !ok || rle.PolicyName != hubspot.PolicyDaily || rle.RetryAfter != tt.wantReset {
				t.Fatalf("err = %v, want a DAILY RateLimitError retrying after %s", err, tt.wantReset)
			}
			if f.count() != 1 {
				t.Fatalf("DAILY was retried: %v", f.log())
			}
			// Paused: no request reaches HubSpot, writes and (budget spent) reads.
			if _, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "a@example.com"}); !errors.Is(err, hubspot.ErrDailyLimit) {
				t.Errorf("create while paused: %v, want ErrDailyLimit", err)
			}
			if err := c.DeleteUser(ctx, "101"); !errors.Is(err, hubspot.ErrDailyLimit) {
				t.Errorf("delete while paused: %v, want ErrDailyLimit", err)
			}
			if _, err := c.GetUser(ctx, "101"); !errors.Is(err, hubspot.ErrDailyLimit) {
				t.Errorf("read while paused: %v, want ErrDailyLimit", err)
			}
			if f.count() != 1 {
				t.Errorf("requests while paused: %v", f.log())
			}
			st := c.Limiter().State()
			if want := clk.Now().Add(tt.wantReset); !st.PausedUntil.Equal(want) || st.DailyRemaining != 0 {
				t.Errorf("state %+v, want paused until %s", st, want)
			}

			// After the reset in the portal's zone, writes flow again.
			daily = false
			clk.Advance(tt.wantReset - time.Second)
			if _, err := c.GetUser(ctx, "101"); !errors.Is(err, hubspot.ErrDailyLimit) {
				t.Errorf("read a second before the reset: %v", err)
			}
			clk.Advance(time.Second)
			if _, err := c.UpdateUser(ctx, "101", hubspot.UserUpdate{FirstName: &first}); err != nil {
				t.Errorf("write after the reset: %v", err)
			}
		})
	}
}

func TestDailyBudgetFromHeaders(t *testing.T) {
	f := newFakeHub(t, 1)
	remaining := 12
	f.intercept = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		w.Header().Set("X-HubSpot-RateLimit-Daily", "1000")
		w.Header().Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(remaining))
		remaining--
		return false
	}
	c := newClient(t, f.srv.URL, newFakeClock(), nil)
	ctx := context.Background()
	first := "Y"
	// 1000/100 = 10 requests are kept for reads.
	for i := range 2 {
		if _, err := c.UpdateUser(ctx, "101", hubspot.UserUpdate{FirstName: &first}); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	st := c.Limiter().State()
	if st.DailyLimit != 1000 || st.DailyRemaining != 11 || st.DailyUsed != 989 {
		t.Errorf("state %+v, want limit 1000, remaining 11", st)
	}
	if _, err := c.UpdateUser(ctx, "101", hubspot.UserUpdate{FirstName: &first}); err != nil {
		t.Fatalf("write with 11 left: %v", err)
	}
	n := f.count()
	if _, err := c.UpdateUser(ctx, "101", hubspot.UserUpdate{FirstName: &first}); !errors.Is(err, hubspot.ErrDailyLimit) {
		t.Fatalf("write at the read reserve: %v, want ErrDailyLimit", err)
	}
	if _, err := c.GetUser(ctx, "101"); err != nil {
		t.Errorf("read at the read reserve: %v", err)
	}
	if f.count() != n+1 {
		t.Errorf("requests %v: the refused write reached the server", f.log()[n:])
	}
}
