package hubspot

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	backoffBase = 250 * time.Millisecond
	backoffCap  = 10 * time.Second
	// maxRetryAfter bounds how long one Retry-After may hold a call.
	maxRetryAfter = 10 * time.Minute
)

// backoff is the wait before retry attempt+1: exponential with full jitter
// (uniform in [0, min(cap, base·2^attempt))), which spreads the retries of
// many workers instead of synchronising them.
func backoff(attempt int) time.Duration {
	d := backoffCap
	if attempt < 16 {
		d = min(backoffBase<<attempt, backoffCap)
	}
	return rand.N(d) + time.Millisecond
}

// retryAfterOf reads Retry-After (seconds or an HTTP date); 0 when absent
// or unreadable. HubSpot does not document it; honour it when sent.
func retryAfterOf(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		d = time.Duration(secs * float64(time.Second))
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}
