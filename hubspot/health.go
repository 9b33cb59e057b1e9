package hubspot

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Health is what the client has seen of HubSpot, for readiness checks and
// status pages. It holds no secret: errors name the endpoint's path
// template, never an id, query or token.
type Health struct {
	// Degraded is set while HubSpot is unusable for the bridge: the last
	// HealthFailures requests in a row failed without an answer or with
	// 5xx, or were refused with 401/403 (the token is not accepted, or
	// lacks the scopes), or writes are paused by the daily budget.
	Degraded bool `json:"degraded"`
	// Reason says why, in words, when Degraded.
	Reason string `json:"reason,omitempty"`
	// LastSuccess is when HubSpot last answered a request normally (2xx,
	// or a 4xx about the request itself, such as 404 for a lookup);
	// LastFailure when a request last failed (no answer, 5xx, 401, 403).
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	LastFailure time.Time `json:"lastFailure,omitzero"`
	// LastError describes the last failure.
	LastError string `json:"lastError,omitempty"`
	// ConsecutiveFailures counts the failed requests since the last
	// success. 429s count neither way.
	ConsecutiveFailures int `json:"consecutiveFailures"`
	// DailyPausedUntil is set while writes are refused with ErrDailyLimit.
	DailyPausedUntil time.Time `json:"dailyPausedUntil,omitzero"`
}

// HealthFailures is how many requests in a row must fail before Health
// reports the client degraded: one failure is weather, three are a
// pattern (each retry is a request, so one call failing all its retries
// is enough).
const HealthFailures = 3

// healthState records the outcome of every request.
type healthState struct {
	mu          sync.Mutex
	lastSuccess time.Time
	lastFailure time.Time
	lastError   string
	failures    int // requests failed in a row (any kind)
	refusals    int // of which the last ones were 401/403, in a row
}

// success records a normal answer.
func (h *healthState) success(at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastSuccess = at
	h.failures, h.refusals = 0, 0
}

// failure records a request that failed; refused marks a 401 or 403.
func (h *healthState) failure(at time.Time, refused bool, what string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lastFailure, h.lastError = at, what
	h.failures++
	if refused {
		h.refusals++
	} else {
		h.refusals = 0
	}
}

// Health reports what the client has observed of HubSpot (see Health).
// It makes no call.
func (c *Client) Health() Health {
	c.health.mu.Lock()
	h := Health{
		LastSuccess: c.health.lastSuccess, LastFailure: c.health.lastFailure,
		LastError: c.health.lastError, ConsecutiveFailures: c.health.failures,
	}
	refusals := c.health.refusals
	c.health.mu.Unlock()

	var reasons []string
	switch {
	case refusals >= HealthFailures:
		reasons = append(reasons, fmt.Sprintf("HubSpot refused the last %d requests (401/403): the token is not accepted or lacks scopes; last: %s", refusals, h.LastError))
	case h.ConsecutiveFailures >= HealthFailures:
		reasons = append(reasons, fmt.Sprintf("the last %d requests to HubSpot failed; last: %s", h.ConsecutiveFailures, h.LastError))
	}
	if st := c.limiter.State(); !st.PausedUntil.IsZero() {
		h.DailyPausedUntil = st.PausedUntil
		reasons = append(reasons, fmt.Sprintf("HubSpot's daily API limit is reached: writes paused until %s", st.PausedUntil.Format(time.RFC3339)))
	}
	h.Degraded = len(reasons) > 0
	h.Reason = strings.Join(reasons, "; ")
	return h
}

// observeHealth records the outcome of one attempt of r: status is the
// HTTP status (0 when no answer came, err then says why). Requests the
// caller gave up on (its context ended) say nothing about HubSpot.
func (c *Client) observeHealth(r *request, status int, err error, callerGone bool) {
	at := c.now()
	switch {
	case status == 0 && callerGone:
	case status == 0:
		// The URL in a *url.Error may hold ids, emails and queries; the
		// endpoint names the call instead.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.health.failure(at, false, fmt.Sprintf("%s %s: %s", r.method, r.endpointLabel(), c.blank(r, err.Error())))
	case status >= 500:
		c.health.failure(at, false, fmt.Sprintf("%s %s: HubSpot answered %d %s", r.method, r.endpointLabel(), status, http.StatusText(status)))
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		c.health.failure(at, true, fmt.Sprintf("%s %s: HubSpot answered %d %s", r.method, r.endpointLabel(), status, http.StatusText(status)))
	case status == http.StatusTooManyRequests:
		// The limiters deal with it; it says HubSpot is there.
	default:
		c.health.success(at)
	}
}

// blank removes the token and the request's secrets from s.
func (c *Client) blank(r *request, s string) string {
	for _, secret := range append([]string{c.token}, r.secrets...) {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "{redacted}")
		}
	}
	return s
}
