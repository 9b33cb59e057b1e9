package hubspotsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

const policyTenSecondly = hubspot.PolicyTenSecondly

// Limits are HubSpot's API rate limits, per app (token, or tokens sharing
// an app name) in the portal. Zero fields take the Free/Starter defaults
// of HubSpot's API usage guidelines; negative counts mean unlimited.
//
// In JSON and YAML, Interval is a string ("10s").
type Limits struct {
	// TenSecondly is the number of requests allowed in any rolling
	// Interval (default 100; Professional and Enterprise 190).
	TenSecondly int `json:"tenSecondly,omitempty" yaml:"tenSecondly"`
	// Interval is the rolling window (default 10s), reported in
	// X-HubSpot-RateLimit-Interval-Milliseconds.
	Interval time.Duration `json:"interval,omitempty" yaml:"interval"`
	// Daily is the daily budget (default 250,000), which resets at
	// midnight in TimeZone (an IANA name, default UTC) or by ResetDaily.
	// OAuth tokens have no daily budget and no daily headers.
	Daily    int    `json:"daily,omitempty" yaml:"daily"`
	TimeZone string `json:"timeZone,omitempty" yaml:"timeZone"`
	// RetryAfter adds a Retry-After header (seconds) to 429 answers.
	// HubSpot does not document one, so it is off by default.
	RetryAfter bool `json:"retryAfter,omitempty" yaml:"retryAfter"`
}

// Default limits (HubSpot Free/Starter private apps).
const (
	DefaultTenSecondly = 100
	DefaultInterval    = 10 * time.Second
	DefaultDaily       = 250_000
)

func (l Limits) validate() error {
	if l.Interval < 0 {
		return fmt.Errorf("hubspotsim: limits: interval %v is negative", l.Interval)
	}
	if _, err := time.LoadLocation(l.TimeZone); err != nil {
		return fmt.Errorf("hubspotsim: limits: time zone: %w", err)
	}
	return nil
}

// resolved fills the defaults.
func (l Limits) resolved() Limits {
	if l.TenSecondly == 0 {
		l.TenSecondly = DefaultTenSecondly
	}
	if l.Interval == 0 {
		l.Interval = DefaultInterval
	}
	if l.Daily == 0 {
		l.Daily = DefaultDaily
	}
	if l.TimeZone == "" {
		l.TimeZone = "UTC"
	}
	return l
}

// MarshalJSON writes Interval as a string, so GET /_sim/limits can be
// posted back.
func (l Limits) MarshalJSON() ([]byte, error) {
	type plain Limits
	return json.Marshal(struct {
		plain
		Interval string `json:"interval,omitempty"`
	}{plain(l), dur(l.Interval)})
}

// UnmarshalJSON reads the JSON form, rejecting unknown fields.
func (l *Limits) UnmarshalJSON(b []byte) error {
	type plain Limits
	return strictYAML(b, (*plain)(l))
}

// limiter counts requests per app.
type limiter struct {
	mu   sync.Mutex
	set  Limits // as given
	lim  Limits // resolved
	loc  *time.Location
	apps map[string]*appUsage
	// searches holds, per token (not per app: HubSpot's search limit is
	// "per authentication token"), the unix nanos of the searches served
	// in the last second (Behaviour.CRMSearchPerSecond).
	searches map[*token]*window
}

// window is a rolling record of request times, ascending from head.
type window struct {
	hits []int64
	head int
}

// trim drops the hits at or before cutoff (unix nanos).
func (w *window) trim(cutoff int64) {
	for w.head < len(w.hits) && w.hits[w.head] <= cutoff {
		w.head++
	}
	if w.head > 1024 && w.head > len(w.hits)/2 {
		w.hits = append(w.hits[:0], w.hits[w.head:]...)
		w.head = 0
	}
}

func (w *window) count() int { return len(w.hits) - w.head }

type appUsage struct {
	hits       []int64 // unix nanos of counted requests, ascending from head
	head       int
	daily      int
	dailyReset time.Time // next midnight in the portal's time zone
}

func newLimiter(l Limits) *limiter {
	lm := &limiter{apps: map[string]*appUsage{}, searches: map[*token]*window{}}
	lm.setLimits(l)
	return lm
}

func (lm *limiter) setLimits(l Limits) {
	loc, err := time.LoadLocation(l.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	lm.set, lm.lim, lm.loc = l, l.resolved(), loc
	for _, a := range lm.apps {
		a.dailyReset = time.Time{} // recomputed in the new zone
	}
}

func (lm *limiter) get() Limits {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	return lm.set
}

func (lm *limiter) resetDaily() {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	for _, a := range lm.apps {
		a.daily = 0
	}
}

// usage returns the app's counters, the window trimmed to now and the
// daily budget reset at midnight.
func (lm *limiter) usage(app string, now time.Time) *appUsage {
	a := lm.apps[app]
	if a == nil {
		a = &appUsage{}
		lm.apps[app] = a
	}
	if a.dailyReset.IsZero() {
		a.dailyReset = nextMidnight(now, lm.loc)
	} else if !now.Before(a.dailyReset) {
		a.daily = 0
		a.dailyReset = nextMidnight(now, lm.loc)
	}
	cutoff := now.Add(-lm.lim.Interval).UnixNano()
	for a.head < len(a.hits) && a.hits[a.head] <= cutoff {
		a.head++
	}
	if a.head > 1024 && a.head > len(a.hits)/2 {
		a.hits = append(a.hits[:0], a.hits[a.head:]...)
		a.head = 0
	}
	return a
}

func nextMidnight(now time.Time, loc *time.Location) time.Time {
	y, m, d := now.In(loc).Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, loc)
}

// take counts one request of t's app at now, or refuses it with the policy
// it breaks (DAILY first: retrying sooner than the reset is pointless).
// Refused requests count toward nothing. It sets the rate limit headers.
func (lm *limiter) take(t *token, now time.Time, h http.Header) string {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	a := lm.usage(t.app, now)
	daily := lm.lim.Daily > 0 && !t.oauth
	policy := ""
	switch {
	case daily && a.daily >= lm.lim.Daily:
		policy = hubspot.PolicyDaily
	case lm.lim.TenSecondly > 0 && len(a.hits)-a.head >= lm.lim.TenSecondly:
		policy = policyTenSecondly
	default:
		if lm.lim.TenSecondly > 0 {
			a.hits = append(a.hits, now.UnixNano())
		}
		a.daily++
	}
	lm.headers(t, a, h, policy == policyTenSecondly)
	if policy != "" && lm.lim.RetryAfter {
		wait := a.dailyReset.Sub(now)
		if policy == policyTenSecondly {
			wait = time.Unix(0, a.hits[a.head]).Add(lm.lim.Interval).Sub(now)
		}
		h.Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
	}
	return policy
}

// takeSearch counts one CRM search of token t at now, or refuses it when
// perSecond searches of t were served in the rolling second before now
// (negative perSecond: unlimited). Refused searches do not count toward
// the search window (Assumption: HubSpot does not say; the app limiter
// treats its 429s the same way). With Limits.RetryAfter a refusal sets
// Retry-After to the seconds until the oldest search leaves the window.
func (lm *limiter) takeSearch(t *token, now time.Time, perSecond int, h http.Header) bool {
	if perSecond < 0 {
		return true
	}
	lm.mu.Lock()
	defer lm.mu.Unlock()
	w := lm.searches[t]
	if w == nil {
		w = &window{}
		lm.searches[t] = w
	}
	w.trim(now.Add(-time.Second).UnixNano())
	if w.count() >= perSecond {
		if lm.lim.RetryAfter {
			wait := time.Unix(0, w.hits[w.head]).Add(time.Second).Sub(now)
			h.Set("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
		}
		return false
	}
	w.hits = append(w.hits, now.UnixNano())
	return true
}

// stormHeaders sets the headers of a 429 storm answer: the window looks
// spent.
func (lm *limiter) stormHeaders(t *token, now time.Time, h http.Header) {
	lm.mu.Lock()
	defer lm.mu.Unlock()
	lm.headers(t, lm.usage(t.app, now), h, true)
	if lm.lim.RetryAfter {
		h.Set("Retry-After", strconv.Itoa(int((lm.lim.Interval+time.Second-1)/time.Second)))
	}
}

// headers sets X-HubSpot-RateLimit-*: Max, Remaining and
// Interval-Milliseconds for the rolling window, Daily and Daily-Remaining
// for the budget (not for OAuth apps). Unlimited policies send none.
func (lm *limiter) headers(t *token, a *appUsage, h http.Header, windowSpent bool) {
	if limit := lm.lim.TenSecondly; limit > 0 {
		rem := limit - (len(a.hits) - a.head)
		if windowSpent || rem < 0 {
			rem = 0
		}
		h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(limit))
		h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(rem))
		h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(lm.lim.Interval.Milliseconds(), 10))
	}
	if limit := lm.lim.Daily; limit > 0 && !t.oauth {
		h.Set("X-HubSpot-RateLimit-Daily", strconv.Itoa(limit))
		h.Set("X-HubSpot-RateLimit-Daily-Remaining", strconv.Itoa(max(0, limit-a.daily)))
	}
}
