package preflight

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"github.com/scimbridge/scimbridge/hubspot"
)

// HubSpot is what a preflight reads. Every method is a GET: nothing here
// can change the portal.
type HubSpot interface {
	TokenInfo(ctx context.Context) (*hubspot.TokenInfo, error)
	AllUsers(ctx context.Context) ([]hubspot.User, error)
	Roles(ctx context.Context) ([]hubspot.Role, error)
	Teams(ctx context.Context) ([]hubspot.Team, error)
	Logins(ctx context.Context, userID, after string, limit int) ([]hubspot.Login, string, error)
	CRMUserProperties(ctx context.Context) ([]hubspot.Property, error)
	TeamsAPIPage(ctx context.Context, after string, limit int) ([]hubspot.Team, string, error)
	Seats(ctx context.Context) ([]hubspot.Seat, error)
	AccountDetails(ctx context.Context) (*hubspot.AccountDetails, error)
	DailyAPIUsage(ctx context.Context) ([]hubspot.APIUsage, error)
}

// Result is one read: whether it was made, and its value or error.
type Result[T any] struct {
	Read  bool
	Value T
	Err   error
}

func read[T any](ctx context.Context, fn func(context.Context) (T, error)) Result[T] {
	v, err := fn(ctx)
	return Result[T]{Read: true, Value: v, Err: err}
}

// Facts is everything a preflight read, each read with its error.
type Facts struct {
	// TokenInfo answers for OAuth access tokens only.
	TokenInfo Result[*hubspot.TokenInfo]
	// Users, Roles and Teams are the users API's (Teams: its team list).
	Users Result[[]hubspot.User]
	Roles Result[[]hubspot.Role]
	Teams Result[[]hubspot.Team]
	// Logins is one entry of the login log: a probe of
	// account-info.security.read.
	Logins Result[[]hubspot.Login]
	// CRMProperties is read when profile attributes are configured.
	CRMProperties Result[[]hubspot.Property]
	// TeamsAPI is one page of the Teams API, read when teams are managed.
	TeamsAPI Result[[]hubspot.Team]
	// Seats is read with the 2026-09-beta users API only.
	Seats   Result[[]hubspot.Seat]
	Details Result[*hubspot.AccountDetails]
	// Usage is read for tokens that are not OAuth access tokens.
	Usage Result[[]hubspot.APIUsage]
	// Headers are the rate-limit headers of the answers.
	Headers RateLimitHeaders
	// Stopped says why reading stopped early ("" when it did not): the
	// token was refused or HubSpot could not be reached, so every other
	// read would have failed the same way.
	Stopped string
}

// Reasons for stopping early.
const (
	StoppedUnauthorized = "the token was refused"
	StoppedUnreachable  = "HubSpot could not be reached"
)

// Collect makes the reads s needs, in order, stopping early when the
// token is refused or HubSpot cannot be reached. rec, when not nil, is
// the transport the client sends through: its headers go into Facts.
func Collect(ctx context.Context, hs HubSpot, s Settings, rec *HeaderRecorder) (f Facts) {
	defer func() {
		if rec != nil {
			f.Headers = rec.Headers()
		}
	}()
	f.TokenInfo = read(ctx, hs.TokenInfo)
	if unreachable(f.TokenInfo.Err) {
		f.Stopped = StoppedUnreachable
		return f
	}
	f.Users = read(ctx, hs.AllUsers)
	switch {
	case status(f.Users.Err) == http.StatusUnauthorized:
		f.Stopped = StoppedUnauthorized
		return f
	case unreachable(f.Users.Err):
		f.Stopped = StoppedUnreachable
		return f
	}
	f.Details = read(ctx, hs.AccountDetails)
	f.Roles = read(ctx, hs.Roles)
	f.Teams = read(ctx, hs.Teams)
	f.Logins = read(ctx, func(ctx context.Context) ([]hubspot.Login, error) {
		l, _, err := hs.Logins(ctx, "", "", 1)
		return l, err
	})
	if s.profile() {
		f.CRMProperties = read(ctx, hs.CRMUserProperties)
	}
	if s.ManageTeams {
		f.TeamsAPI = read(ctx, func(ctx context.Context) ([]hubspot.Team, error) {
			t, _, err := hs.TeamsAPIPage(ctx, "", 1)
			return t, err
		})
	}
	if s.APIVersion == hubspot.Version202609Beta {
		f.Seats = read(ctx, hs.Seats)
	}
	if !f.oauth() {
		f.Usage = read(ctx, hs.DailyAPIUsage)
	}
	return f
}

// oauth reports whether the token is an OAuth access token (HubSpot
// answered its token information).
func (f *Facts) oauth() bool { return f.TokenInfo.Err == nil && f.TokenInfo.Value != nil }

// status is the HTTP status of a HubSpot error answer, 0 for anything else.
func status(err error) int {
	var e *hubspot.Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// unreachable reports whether err is a transport failure (no HubSpot
// answer at all), as opposed to an answer, a budget refusal or the
// caller's cancellation.
func unreachable(err error) bool {
	return err != nil && status(err) == 0 && !errors.Is(err, hubspot.ErrDailyLimit) &&
		!errors.Is(err, hubspot.ErrNoSeatsAPI) && !errors.Is(err, context.Canceled)
}

// RateLimitHeaders are the latest X-HubSpot-RateLimit-* values seen
// (reference/hubspot-api.md, "Rate limits"); the daily pair is absent for
// OAuth apps.
type RateLimitHeaders struct {
	// Seen: some answer carried the interval headers.
	Seen                 bool `json:"seen"`
	Max                  int  `json:"max,omitempty"`
	Remaining            int  `json:"remaining,omitempty"`
	IntervalMilliseconds int  `json:"intervalMilliseconds,omitempty"`
	// DailySeen: some answer carried the daily headers.
	DailySeen      bool `json:"dailySeen"`
	Daily          int  `json:"daily,omitempty"`
	DailyRemaining int  `json:"dailyRemaining,omitempty"`
}

// HeaderRecorder is an http.RoundTripper that keeps the latest rate-limit
// headers of the answers passing through it. Safe for concurrent use.
type HeaderRecorder struct {
	next http.RoundTripper
	mu   sync.Mutex
	h    RateLimitHeaders
}

// NewHeaderRecorder records the answers of next (nil: a clone of
// http.DefaultTransport).
func NewHeaderRecorder(next http.RoundTripper) *HeaderRecorder {
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &HeaderRecorder{next: next}
}

// RoundTrip sends req and records the answer's headers.
func (r *HeaderRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		r.observe(resp.Header)
	}
	return resp, err
}

func (r *HeaderRecorder) observe(h http.Header) {
	num := func(name string) (int, bool) {
		n, err := strconv.Atoi(h.Get(name))
		return n, err == nil && n >= 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := num("X-HubSpot-RateLimit-Max"); ok {
		r.h.Seen, r.h.Max = true, n
	}
	if n, ok := num("X-HubSpot-RateLimit-Remaining"); ok {
		r.h.Seen, r.h.Remaining = true, n
	}
	if n, ok := num("X-HubSpot-RateLimit-Interval-Milliseconds"); ok {
		r.h.Seen, r.h.IntervalMilliseconds = true, n
	}
	if n, ok := num("X-HubSpot-RateLimit-Daily"); ok {
		r.h.DailySeen, r.h.Daily = true, n
	}
	if n, ok := num("X-HubSpot-RateLimit-Daily-Remaining"); ok {
		r.h.DailySeen, r.h.DailyRemaining = true, n
	}
}

// Headers returns the latest values seen.
func (r *HeaderRecorder) Headers() RateLimitHeaders {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.h
}
