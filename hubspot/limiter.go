package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Limiter spaces requests to one portal so an app stays inside HubSpot's
// limits (reference/hubspot-api.md, "Rate limits"): N requests per rolling
// interval and, for private apps, a daily budget that resets at midnight
// in the portal's time zone. Share one Limiter between all clients of a
// portal; it is safe for concurrent use.
//
// The interval limit is a token bucket whose tokens come back exactly one
// interval (plus a margin for network jitter) after they were spent,
// which matches HubSpot's "ten_secondly_rolling" window: no rolling window
// ever sees more than N requests, even in bursts.
//
// Daily budget policy: writes stop (ErrDailyLimit, no request) once the
// known remaining budget falls to a read reserve (1% of the daily limit,
// at most 1000) so that reads (status pages, reconcile snapshots, access
// reviews) keep working; reads stop only when nothing remains. A DAILY 429
// from HubSpot spends the whole budget: reads and writes both return
// ErrDailyLimit until the reset.
type Limiter struct {
	mu    sync.Mutex
	now   func() time.Time
	sleep func(context.Context, time.Duration) error
	zone  *time.Location

	max      int
	interval time.Duration
	spent    []time.Time // when the tokens in use were spent, oldest first
	blocked  time.Time   // no request before this (TEN_SECONDLY 429, Retry-After)
	blocks   int         // how many 429s paused every request

	daily       int // 0: unknown or unlimited
	dailyLeft   int
	dailyUsed   int
	dayEnd      time.Time
	writePaused time.Time // writes refused until then
	// reservePaused: writePaused was set by the read reserve, not by a
	// DAILY 429 (a refund that lifts the budget above the reserve lifts it).
	reservePaused bool

	// Generations of the counts, bumped when HubSpot's numbers replace
	// them: a refund only gives back a token whose count is still there
	// (see Refund).
	windowGen uint64
	dailyGen  uint64
}

// LimiterOption adjusts a Limiter made by NewLimiter.
type LimiterOption func(*Limiter)

// WithClock replaces time.Now and the sleeping function (tests).
func WithClock(now func() time.Time, sleep func(context.Context, time.Duration) error) LimiterOption {
	return func(l *Limiter) {
		if now != nil {
			l.now = now
		}
		if sleep != nil {
			l.sleep = sleep
		}
	}
}

// WithResetZone sets the portal time zone whose midnight resets the daily
// budget (default UTC).
func WithResetZone(loc *time.Location) LimiterOption {
	return func(l *Limiter) {
		if loc != nil {
			l.zone = loc
		}
	}
}

// NewLimiter allows perInterval requests per rolling interval and daily
// requests per day (0: unknown or unlimited). Non-positive sizes fall back
// to HubSpot's Free/Starter limit of 100 per 10 s.
func NewLimiter(perInterval int, interval time.Duration, daily int, opts ...LimiterOption) *Limiter {
	if perInterval <= 0 {
		perInterval = DefaultRateLimit
	}
	if interval <= 0 {
		interval = DefaultRateInterval
	}
	l := &Limiter{now: time.Now, sleep: sleepContext, zone: time.UTC, max: perInterval, interval: interval}
	for _, o := range opts {
		o(l)
	}
	if daily > 0 {
		l.daily, l.dailyLeft = daily, daily
	}
	l.dayEnd = nextMidnight(l.now(), l.zone)
	return l
}

// LimiterState is a snapshot for status pages and metrics.
type LimiterState struct {
	Tokens   int           // requests that may start now
	Used     int           // requests in the current rolling window
	Limit    int           // requests per interval
	Interval time.Duration // the rolling window
	// BlockedUntil is set while every request waits for a 429's window.
	BlockedUntil time.Time
	// Blocks counts the 429s that paused every request since the start.
	Blocks int
	// Daily budget; DailyLimit 0 means unknown or unlimited.
	DailyLimit     int
	DailyUsed      int
	DailyRemaining int
	DailyResetAt   time.Time
	// PausedUntil is set while writes are refused with ErrDailyLimit.
	PausedUntil time.Time
}

// State returns the current state.
func (l *Limiter) State() LimiterState {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.rollDay(now)
	l.expire(now)
	s := LimiterState{
		Tokens: max(l.max-len(l.spent), 0), Used: len(l.spent), Limit: l.max, Interval: l.interval,
		DailyLimit: l.daily, DailyUsed: l.dailyUsed, DailyRemaining: l.dailyLeft, DailyResetAt: l.dayEnd,
		Blocks: l.blocks,
	}
	if now.Before(l.blocked) {
		s.BlockedUntil = l.blocked
		s.Tokens = 0
	}
	if now.Before(l.writePaused) {
		s.PausedUntil = l.writePaused
	}
	return s
}

// Wait blocks until a request may start and takes a token for it. write
// marks requests that change HubSpot (anything but GET); see the daily
// budget policy on Limiter. It returns an error wrapping ErrDailyLimit
// without waiting when the budget forbids the request, ctx.Err(), or at
// once an error wrapping context.DeadlineExceeded when the wait would
// outlast ctx's deadline.
func (l *Limiter) Wait(ctx context.Context, write bool) error {
	_, err := l.Reserve(ctx, write)
	return err
}

// Reservation is the token one request took from a Limiter, to give back
// with Refund when the request never reached HubSpot.
type Reservation struct {
	l         *Limiter
	at        time.Time // when the token was spent
	dayEnd    time.Time // the budget day it was counted in
	windowGen uint64
	dailyGen  uint64
	refunded  bool // guarded by l.mu
}

// Reserve is Wait returning the token it took.
func (l *Limiter) Reserve(ctx context.Context, write bool) (*Reservation, error) {
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l.mu.Lock()
		now := l.now()
		l.rollDay(now)
		if err := l.dailyRefusal(now, write); err != nil {
			l.mu.Unlock()
			return nil, err
		}
		var wait time.Duration
		if now.Before(l.blocked) {
			wait = l.blocked.Sub(now)
		} else {
			l.expire(now)
			if len(l.spent) < l.max {
				l.spent = append(l.spent, now)
				l.dailyUsed++
				if l.daily > 0 {
					l.dailyLeft--
				}
				r := &Reservation{l: l, at: now, dayEnd: l.dayEnd, windowGen: l.windowGen, dailyGen: l.dailyGen}
				l.mu.Unlock()
				return r, nil
			}
			wait = l.spent[0].Add(l.window()).Sub(now)
		}
		l.mu.Unlock()
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Like x/time/rate: fail now rather than sleep into the deadline.
			return nil, fmt.Errorf("hubspot: rate limit wait of %s exceeds the deadline: %w", wait.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if err := l.sleep(ctx, wait); err != nil {
			return nil, err
		}
	}
}

// Refund gives the token back: call it when the request it was taken for
// provably never reached HubSpot (connection refused, a DNS, dial or TLS
// handshake failure: no connection was handed to it), so that HubSpot's
// budget, which never saw it, is not spent here either. Never refund a request that may have been sent (a
// timeout, a reset, any answer): HubSpot may have counted it.
//
// Under concurrency a refund gives back no more than the request took: the
// rolling-window token only while it is still in the window and HubSpot's
// headers have not re-counted the window since it was taken (they did not
// count this request), the daily one only on the same budget day and while
// no answer's daily header or DAILY 429 has replaced the count since. A
// write pause the read reserve set is lifted when the refund brings the
// budget back above the reserve. A second Refund of the same reservation,
// and Refund of nil, do nothing.
func (r *Reservation) Refund() {
	if r == nil || r.l == nil {
		return
	}
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.refunded {
		return
	}
	r.refunded = true
	now := l.now()
	l.rollDay(now)
	if r.windowGen == l.windowGen {
		for i := len(l.spent) - 1; i >= 0; i-- {
			if l.spent[i].Equal(r.at) {
				l.spent = append(l.spent[:i], l.spent[i+1:]...)
				break
			}
		}
	}
	if r.dailyGen != l.dailyGen || !r.dayEnd.Equal(l.dayEnd) || l.dailyUsed == 0 {
		return
	}
	l.dailyUsed--
	if l.daily > 0 {
		l.dailyLeft = min(l.dailyLeft+1, l.daily)
		if l.reservePaused && l.dailyLeft > l.readReserve() {
			l.writePaused, l.reservePaused = time.Time{}, false
		}
	}
}

func (l *Limiter) dailyRefusal(now time.Time, write bool) error {
	if l.daily == 0 {
		return nil
	}
	if write && now.Before(l.writePaused) {
		return fmt.Errorf("%w (until %s)", ErrDailyLimit, l.writePaused.Format(time.RFC3339))
	}
	if write && l.dailyLeft <= l.readReserve() {
		l.writePaused, l.reservePaused = l.dayEnd, true
		return fmt.Errorf("%w (until %s)", ErrDailyLimit, l.dayEnd.Format(time.RFC3339))
	}
	if l.dailyLeft <= 0 {
		return fmt.Errorf("%w: reads too (until %s)", ErrDailyLimit, l.dayEnd.Format(time.RFC3339))
	}
	return nil
}

func (l *Limiter) readReserve() int { return min(l.daily/100, 1000) }

// window is the interval after which a spent token returns: the interval
// plus a margin (2.5%, at least 100 ms) so that requests spaced one
// interval apart at the client, whose travel times differ, do not land
// inside one window at HubSpot.
func (l *Limiter) window() time.Duration { return l.interval + max(l.interval/40, minMargin) }

const minMargin = 100 * time.Millisecond

func (l *Limiter) expire(now time.Time) {
	cut := now.Add(-l.window())
	i := 0
	for i < len(l.spent) && !l.spent[i].After(cut) {
		i++
	}
	l.spent = append(l.spent[:0], l.spent[i:]...)
}

func (l *Limiter) rollDay(now time.Time) {
	if now.Before(l.dayEnd) {
		return
	}
	l.dayEnd = nextMidnight(now, l.zone)
	l.dailyUsed = 0
	l.dailyLeft = l.daily
	l.reservePaused = false
}

func nextMidnight(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
}

// Rate limit headers on HubSpot answers (absent on some; the daily pair
// is absent for OAuth apps).
const (
	headerMax            = "X-HubSpot-RateLimit-Max"
	headerRemaining      = "X-HubSpot-RateLimit-Remaining"
	headerIntervalMillis = "X-HubSpot-RateLimit-Interval-Milliseconds"
	headerDaily          = "X-HubSpot-RateLimit-Daily"
	headerDailyRemaining = "X-HubSpot-RateLimit-Daily-Remaining"
)

// observe adapts the limiter to the rate limit headers of one answer.
// HubSpot's numbers win over the configured ones: the budget is the app's,
// and other processes of the same app may be spending it too.
func (l *Limiter) observe(h http.Header) {
	num := func(name string) (int, bool) {
		v := h.Get(name)
		if v == "" {
			return 0, false
		}
		n, err := strconv.Atoi(v)
		return n, err == nil && n >= 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.rollDay(now)
	if n, ok := num(headerMax); ok && n > 0 {
		l.max = n
	}
	if ms, ok := num(headerIntervalMillis); ok && ms > 0 {
		l.interval = time.Duration(ms) * time.Millisecond
	}
	if r, ok := num(headerRemaining); ok {
		l.expire(now)
		// Fewer left at HubSpot than here: someone else spends this
		// budget. Count their requests as spent now (conservative).
		for free := l.max - len(l.spent); free > r; free-- {
			l.spent = append(l.spent, now)
			l.windowGen++
		}
	}
	if n, ok := num(headerDaily); ok && n > 0 && n != l.daily {
		l.daily = n
		l.dailyGen++
	}
	if r, ok := num(headerDailyRemaining); ok && l.daily > 0 {
		l.dailyLeft = min(r, l.daily)
		l.dailyUsed = l.daily - l.dailyLeft
		l.dailyGen++
	}
}

// block makes every request wait for d (a TEN_SECONDLY 429's window).
func (l *Limiter) block(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.blocks++
	if t := l.now().Add(d); t.After(l.blocked) {
		l.blocked = t
	}
}

// pauseDaily records a DAILY 429: the budget is spent until the reset. It
// returns the time left until then.
func (l *Limiter) pauseDaily() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.rollDay(now)
	if l.daily == 0 {
		// HubSpot enforces a budget we were not told about.
		l.daily = DefaultDailyLimit
	}
	l.dailyUsed += l.dailyLeft
	l.dailyLeft = 0
	l.writePaused, l.reservePaused = l.dayEnd, false
	l.dailyGen++
	return l.dayEnd.Sub(now)
}

// windowLength is how long a TEN_SECONDLY 429 without Retry-After waits:
// one whole window, after which HubSpot's rolling count has certainly
// dropped every request that filled it.
func (l *Limiter) windowLength() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.window()
}
