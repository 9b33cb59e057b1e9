package health

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Status is a check's outcome.
type Status string

// Statuses. Unknown is a background check that has not finished its first
// run; readiness ignores it.
const (
	StatusOK       Status = "ok"
	StatusDegraded Status = "degraded"
	StatusDown     Status = "down"
	StatusUnknown  Status = "unknown"
)

// Readiness states, as /readyz reports them.
const (
	Ready       = "ready"
	Degraded    = "degraded"
	Unavailable = "unavailable"
)

// Result is what a check returns. Reason is one line for people (empty
// when ok); Detail is any JSON-encodable value shown in the report.
type Result struct {
	Status Status
	Reason string
	Detail any
}

// OK, Degrade and Down build results.
func OK(detail any) Result { return Result{Status: StatusOK, Detail: detail} }

// Degrade is a result for a dependency that works with trouble.
func Degrade(reason string, detail any) Result {
	return Result{Status: StatusDegraded, Reason: reason, Detail: detail}
}

// Down is a result for a dependency that does not work.
func Down(reason string, detail any) Result {
	return Result{Status: StatusDown, Reason: reason, Detail: detail}
}

// Func runs one check. It must return when ctx ends.
type Func func(ctx context.Context) Result

// Impact is what a check's trouble means for readiness.
type Impact int

// Impacts; see the package documentation.
const (
	Critical Impact = iota
	Degrades
	Informational
)

func (i Impact) String() string {
	switch i {
	case Critical:
		return "critical"
	case Degrades:
		return "degrades"
	case Informational:
		return "informational"
	}
	return fmt.Sprintf("impact(%d)", int(i))
}

// MarshalText writes the impact's name.
func (i Impact) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// Check is a named check and how it is run.
type Check struct {
	Name   string
	Impact Impact
	// Interval > 0 runs the check in the background every Interval (Run)
	// and callers read the last result: for checks that use the network.
	// 0 runs it on every Ready (unless Informational) and Report call: for
	// cheap, local checks.
	Interval time.Duration
	// Timeout bounds one run (default 2s for checks run on each call, 10s
	// for background ones).
	Timeout time.Duration
	Func    Func
}

// Registry holds the checks. It is safe for concurrent use.
type Registry struct {
	now    func() time.Time
	mu     sync.Mutex
	checks []*entry
}

type entry struct {
	Check
	// guarded by Registry.mu
	res       Result
	since     time.Time // when res.Status took its value
	lastOK    time.Time
	checkedAt time.Time
	took      time.Duration
}

// New returns an empty registry. now may be nil (time.Now).
func New(now func() time.Time) *Registry {
	if now == nil {
		now = time.Now
	}
	return &Registry{now: now}
}

// Register adds a check. Checks are reported in the order registered;
// register them all before Run.
func (r *Registry) Register(c Check) {
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
		if c.Interval > 0 {
			c.Timeout = 10 * time.Second
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checks = append(r.checks, &entry{Check: c, res: Result{Status: StatusUnknown, Reason: "not checked yet"}})
}

// Run runs the background checks, each now and then every Interval, until
// ctx ends.
func (r *Registry) Run(ctx context.Context) {
	r.mu.Lock()
	var bg []*entry
	for _, e := range r.checks {
		if e.Interval > 0 {
			bg = append(bg, e)
		}
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range bg {
		wg.Go(func() {
			t := time.NewTicker(e.Interval)
			defer t.Stop()
			for {
				r.run(ctx, e)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		})
	}
	wg.Wait()
}

// RunOnce runs every check once, background ones included, and waits for
// them: for tests and for a status right after start-up.
func (r *Registry) RunOnce(ctx context.Context) {
	r.mu.Lock()
	all := append([]*entry(nil), r.checks...)
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range all {
		wg.Go(func() { r.run(ctx, e) })
	}
	wg.Wait()
}

// run runs one check and records its result.
func (r *Registry) run(ctx context.Context, e *entry) {
	if ctx.Err() != nil {
		return
	}
	cctx, cancel := context.WithTimeout(ctx, e.Timeout)
	start := r.now()
	res := e.Func(cctx)
	cancel()
	if ctx.Err() != nil {
		return // shutting down: keep the last real result
	}
	if res.Status == "" {
		res.Status = StatusOK
	}
	if res.Status != StatusOK && res.Reason == "" {
		res.Reason = string(res.Status)
	}
	end := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if res.Status != e.res.Status || e.since.IsZero() {
		e.since = end
	}
	if res.Status == StatusOK {
		e.lastOK = end
	}
	e.res, e.checkedAt, e.took = res, end, end.Sub(start)
}

// refresh runs the on-demand checks that match, concurrently.
func (r *Registry) refresh(ctx context.Context, include func(*entry) bool) []*entry {
	r.mu.Lock()
	all := append([]*entry(nil), r.checks...)
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range all {
		if e.Interval == 0 && include(e) {
			wg.Go(func() { r.run(ctx, e) })
		}
	}
	wg.Wait()
	return all
}

// Ready answers /readyz: Unavailable when a Critical check is down,
// Degraded when a Critical check is degraded or a Degrades check is not
// ok, Ready otherwise. reasons are "name: reason" for every check in
// trouble, in registration order. It runs only the on-demand checks that
// count for readiness.
func (r *Registry) Ready(ctx context.Context) (status string, reasons []string) {
	all := r.refresh(ctx, func(e *entry) bool { return e.Impact != Informational })
	r.mu.Lock()
	defer r.mu.Unlock()
	return readiness(all)
}

func readiness(all []*entry) (string, []string) {
	status := Ready
	var reasons []string
	for _, e := range all {
		if e.Impact == Informational || e.res.Status == StatusOK || e.res.Status == StatusUnknown {
			continue
		}
		reasons = append(reasons, e.Name+": "+e.res.Reason)
		if e.Impact == Critical && e.res.Status == StatusDown {
			status = Unavailable
		} else if status == Ready {
			status = Degraded
		}
	}
	return status, reasons
}

// Report is the full state of every check: GET /admin/v1/status.
type Report struct {
	// Status and Reasons are what /readyz answers.
	Status  string        `json:"status"`
	Reasons []string      `json:"reasons,omitempty"`
	Checks  []CheckReport `json:"checks"`
}

// CheckReport is one check's state.
type CheckReport struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Impact Impact `json:"impact"`
	Reason string `json:"reason,omitempty"`
	// Since is when the check took its current status.
	Since time.Time `json:"since,omitzero"`
	// LastSuccess is when it last returned ok.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
	// CheckedAt is when it last ran, taking DurationMs.
	CheckedAt  time.Time `json:"checkedAt,omitzero"`
	DurationMs float64   `json:"durationMs"`
	// Interval is the background period ("" for checks run on each call).
	Interval string `json:"interval,omitempty"`
	Detail   any    `json:"detail,omitempty"`
}

// Report runs the on-demand checks and returns every check's state.
func (r *Registry) Report(ctx context.Context) *Report {
	all := r.refresh(ctx, func(*entry) bool { return true })
	r.mu.Lock()
	defer r.mu.Unlock()
	rep := &Report{Checks: make([]CheckReport, 0, len(all))}
	rep.Status, rep.Reasons = readiness(all)
	for _, e := range all {
		cr := CheckReport{
			Name: e.Name, Status: e.res.Status, Impact: e.Impact, Reason: e.res.Reason,
			Since: e.since, LastSuccess: e.lastOK, CheckedAt: e.checkedAt,
			DurationMs: float64(e.took.Microseconds()) / 1000, Detail: e.res.Detail,
		}
		if e.Interval > 0 {
			cr.Interval = e.Interval.String()
		}
		rep.Checks = append(rep.Checks, cr)
	}
	return rep
}

// HealthStatus implements the admin API's status view.
func (r *Registry) HealthStatus(ctx context.Context) (*Report, error) { return r.Report(ctx), nil }
