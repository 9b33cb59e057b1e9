package directory

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts failed directory reads by cause
// (scimbridge_directory_read_errors_total{cause}) and remembers the last
// outcome, for health checks. It is safe for concurrent use.
type Metrics struct {
	errors *prometheus.CounterVec
	now    func() time.Time

	mu    sync.Mutex
	stats ReadStats
}

// ReadStats is the last outcome of the directory reads a Metrics saw.
type ReadStats struct {
	// LastSuccess is when a read last succeeded.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// LastError and LastCause describe the last failed read, at LastErrorAt.
	LastError   string    `json:"lastError,omitempty"`
	LastCause   Cause     `json:"lastErrorCause,omitempty"`
	LastErrorAt time.Time `json:"lastErrorAt,omitzero"`
}

// Failing reports whether the last read failed.
func (s ReadStats) Failing() bool { return s.LastErrorAt.After(s.LastSuccess) }

// NewMetrics registers the counter on reg, which may be nil (counted, not
// exported). Every cause starts at zero, so that rate() and increase()
// see the first error.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "scimbridge_directory_read_errors_total",
			Help: "Failed directory reads (reconcile reads, reviews, health probes) by cause: unreachable, timeout, base_dn_missing, bind_refused, other.",
		}, []string{"cause"}),
		now: time.Now,
	}
	for _, c := range Causes() {
		m.errors.WithLabelValues(string(c))
	}
	if reg != nil {
		reg.MustRegister(m.errors)
	}
	return m
}

// Observe records the outcome of one read: nil is a success; a
// cancellation is neither (the caller went away).
func (m *Metrics) Observe(err error) {
	now := m.now()
	if err == nil {
		m.mu.Lock()
		m.stats.LastSuccess = now
		m.mu.Unlock()
		return
	}
	c := CauseOf(err)
	if c == "" {
		return
	}
	m.errors.WithLabelValues(string(c)).Inc()
	m.mu.Lock()
	m.stats.LastError, m.stats.LastCause, m.stats.LastErrorAt = err.Error(), c, now
	m.mu.Unlock()
}

// Stats returns the last outcomes.
func (m *Metrics) Stats() ReadStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Instrument returns src with every read observed. The result is a
// ChangeSource when src is one. Errors returned by the caller's fn are
// passed through and not counted: they are not the directory's.
func (m *Metrics) Instrument(src Source) Source {
	in := instrumented{src: src, m: m}
	if cs, ok := src.(ChangeSource); ok {
		return instrumentedChanges{instrumented: in, cs: cs}
	}
	return in
}

type instrumented struct {
	src Source
	m   *Metrics
}

// observe runs one read, telling the directory's errors from fn's.
func (i instrumented) observe(ctx context.Context, fn func(Entry) error, read func(func(Entry) error) error) error {
	var fnErr error
	err := read(func(e Entry) error {
		fnErr = fn(e)
		return fnErr
	})
	switch {
	case err != nil && fnErr != nil && errors.Is(err, fnErr):
	case err != nil && ctx.Err() != nil && !IsTimeout(ctx.Err()):
	default:
		i.m.Observe(err)
	}
	return err
}

func (i instrumented) Users(ctx context.Context, fn func(Entry) error) error {
	return i.observe(ctx, fn, func(f func(Entry) error) error { return i.src.Users(ctx, f) })
}

func (i instrumented) Groups(ctx context.Context, fn func(Entry) error) error {
	return i.observe(ctx, fn, func(f func(Entry) error) error { return i.src.Groups(ctx, f) })
}

func (i instrumented) Close() error { return i.src.Close() }

type instrumentedChanges struct {
	instrumented
	cs ChangeSource
}

func (i instrumentedChanges) UsersChangedSince(ctx context.Context, since time.Time, fn func(Entry) error) error {
	return i.observe(ctx, fn, func(f func(Entry) error) error { return i.cs.UsersChangedSince(ctx, since, f) })
}

func (i instrumentedChanges) GroupsChangedSince(ctx context.Context, since time.Time, fn func(Entry) error) error {
	return i.observe(ctx, fn, func(f func(Entry) error) error { return i.cs.GroupsChangedSince(ctx, since, f) })
}
