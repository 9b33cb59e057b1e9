package hubspotsim

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/hubspot"
)

const usersPath = "/settings/users/2026-03"

// want429 checks HubSpot's 429 body for policy.
func want429(t *testing.T, r resp, policy string) {
	t.Helper()
	r.wantStatus(t, http.StatusTooManyRequests)
	var b rateLimitBody
	r.decode(t, &b)
	msg := "You have reached your ten_secondly_rolling limit."
	if policy == hubspot.PolicyDaily {
		msg = "You have reached your daily limit."
	}
	if b.Status != "error" || b.ErrorType != "RATE_LIMIT" || b.PolicyName != policy || b.Message != msg {
		t.Errorf("429 body %s", r.body)
	}
	if _, err := uuid.Parse(b.CorrelationID); err != nil {
		t.Errorf("correlationId %q", b.CorrelationID)
	}
}

func header(t *testing.T, r resp, name string) int {
	t.Helper()
	v := r.header.Get(name)
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("header %s = %q", name, v)
	}
	return n
}

func TestTenSecondlyLimit(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 5, Daily: 100}})
	for i := range 5 {
		r := e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
		if header(t, r, "X-HubSpot-RateLimit-Max") != 5 || header(t, r, "X-HubSpot-RateLimit-Remaining") != 4-i ||
			header(t, r, "X-HubSpot-RateLimit-Interval-Milliseconds") != 10000 ||
			header(t, r, "X-HubSpot-RateLimit-Daily") != 100 || header(t, r, "X-HubSpot-RateLimit-Daily-Remaining") != 99-i {
			t.Fatalf("request %d headers %v", i, r.header)
		}
		e.clock.Advance(time.Second)
	}
	// Window full: 429, and refused requests count toward nothing.
	for range 3 {
		r := e.do("GET", usersPath, tokFull, nil)
		want429(t, r, hubspot.PolicyTenSecondly)
		if header(t, r, "X-HubSpot-RateLimit-Remaining") != 0 || header(t, r, "X-HubSpot-RateLimit-Daily-Remaining") != 95 {
			t.Errorf("429 headers %v", r.header)
		}
		if r.header.Get("Retry-After") != "" {
			t.Errorf("Retry-After sent though not configured")
		}
	}
	// The window rolls: at 10 s after the first request one slot is free.
	e.clock.Advance(5 * time.Second) // now first+10s
	r := e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	if header(t, r, "X-HubSpot-RateLimit-Remaining") != 0 || header(t, r, "X-HubSpot-RateLimit-Daily-Remaining") != 94 {
		t.Errorf("headers %v", r.header)
	}
	want429(t, e.do("GET", usersPath, tokFull, nil), hubspot.PolicyTenSecondly)
	// Another app has its own window; two tokens of one app share one.
	e.do("GET", usersPath, tokShared1, nil).wantStatus(t, 200)
	for range 4 {
		e.do("GET", usersPath, tokShared2, nil).wantStatus(t, 200)
	}
	want429(t, e.do("GET", usersPath, tokShared1, nil), hubspot.PolicyTenSecondly)
	// Unauthenticated requests are refused before counting.
	e.do("GET", usersPath, "bad", nil).wantStatus(t, 401)

	st := e.sim.Stats()
	if st.RateLimited != 5 || st.ByStatus["429"] != 5 {
		t.Errorf("stats count %d 429s (%v), want 5", st.RateLimited, st.ByStatus)
	}
}

func TestDailyLimit(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 1000, Daily: 3, TimeZone: "America/New_York"}})
	// The test clock starts at 12:00 UTC, 08:00 in New York.
	for range 3 {
		e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	}
	r := e.do("GET", usersPath, tokFull, nil)
	want429(t, r, hubspot.PolicyDaily)
	if header(t, r, "X-HubSpot-RateLimit-Daily-Remaining") != 0 {
		t.Errorf("headers %v", r.header)
	}
	// OAuth apps have no daily budget and no daily headers.
	r = e.do("GET", usersPath, tokOAuth, nil).wantStatus(t, 200)
	if r.header.Get("X-HubSpot-RateLimit-Daily") != "" || r.header.Get("X-HubSpot-RateLimit-Max") == "" {
		t.Errorf("OAuth headers %v", r.header)
	}
	// Midnight UTC is not midnight in New York.
	e.clock.Advance(13 * time.Hour) // 01:00 UTC, 21:00 New York
	want429(t, e.do("GET", usersPath, tokFull, nil), hubspot.PolicyDaily)
	e.clock.Advance(3*time.Hour + time.Second) // just past midnight in New York
	r = e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	if header(t, r, "X-HubSpot-RateLimit-Daily-Remaining") != 2 {
		t.Errorf("after midnight: %v", r.header)
	}
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	want429(t, e.do("GET", usersPath, tokFull, nil), hubspot.PolicyDaily)
	// ResetDaily, in process or over HTTP.
	e.sim.ResetDaily()
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	want429(t, e.do("GET", usersPath, tokFull, nil), hubspot.PolicyDaily)
	e.do("POST", "/_sim/reset-daily", "", nil).wantStatus(t, 204)
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
}

func TestLimitsAtRuntime(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 2}})
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	want429(t, e.do("GET", usersPath, tokFull, nil), hubspot.PolicyTenSecondly)

	e.sim.SetLimits(Limits{TenSecondly: 3, RetryAfter: true})
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	e.clock.Advance(4 * time.Second)
	r := e.do("GET", usersPath, tokFull, nil)
	want429(t, r, hubspot.PolicyTenSecondly)
	if r.header.Get("Retry-After") != "6" { // the oldest counted request leaves the window in 6 s
		t.Errorf("Retry-After %q, want 6", r.header.Get("Retry-After"))
	}

	// Over HTTP, with the defaults filled in on the way back.
	var got Limits
	e.do("POST", "/_sim/limits", "", `{"tenSecondly": 190, "daily": 625000, "interval": "10s"}`).wantStatus(t, 200).decode(t, &got)
	if got.TenSecondly != 190 || got.Daily != 625000 || got.Interval != 10*time.Second || got.TimeZone != "UTC" {
		t.Errorf("limits %+v", got)
	}
	r = e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	if header(t, r, "X-HubSpot-RateLimit-Max") != 190 {
		t.Errorf("headers %v", r.header)
	}
	e.do("POST", "/_sim/limits", "", `{"tenSecondy": 1}`).wantError(t, 400, catValidation, "")
	e.do("POST", "/_sim/limits", "", `{"timeZone": "Mars/Olympus"}`).wantError(t, 400, catValidation, "")

	// Unlimited: no headers, no 429s.
	e.sim.SetLimits(Limits{TenSecondly: -1, Daily: -1})
	for range 50 {
		r = e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	}
	if r.header.Get("X-HubSpot-RateLimit-Max") != "" || r.header.Get("X-HubSpot-RateLimit-Daily") != "" {
		t.Errorf("unlimited headers %v", r.header)
	}
}

func TestDefaultLimits(t *testing.T) {
	seed := testSeed()
	seed.Limits = Limits{}
	e := newEnv(t, Config{Seed: seed})
	r := e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	if header(t, r, "X-HubSpot-RateLimit-Max") != DefaultTenSecondly || header(t, r, "X-HubSpot-RateLimit-Daily") != DefaultDaily {
		t.Errorf("default headers %v", r.header)
	}
	for range DefaultTenSecondly - 1 {
		e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	}
	want429(t, e.do("GET", usersPath, tokFull, nil), hubspot.PolicyTenSecondly)
}
