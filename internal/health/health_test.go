package health

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func fixed(res Result) Func { return func(context.Context) Result { return res } }

func TestReady(t *testing.T) {
	tests := []struct {
		name        string
		checks      []Check
		want        string
		wantReasons []string
	}{
		{
			name: "all ok",
			checks: []Check{
				{Name: "store", Impact: Critical, Func: fixed(OK(nil))},
				{Name: "hubspot", Impact: Degrades, Func: fixed(OK(nil))},
			},
			want: Ready,
		},
		{
			name: "store down",
			checks: []Check{
				{Name: "store", Impact: Critical, Func: fixed(Down("closed", nil))},
				{Name: "hubspot", Impact: Degrades, Func: fixed(Down("unreachable", nil))},
			},
			want: Unavailable, wantReasons: []string{"store: closed", "hubspot: unreachable"},
		},
		{
			name: "store degraded is not unavailable",
			checks: []Check{
				{Name: "store", Impact: Critical, Func: fixed(Degrade("slow", nil))},
			},
			want: Degraded, wantReasons: []string{"store: slow"},
		},
		{
			name: "upstreams down degrade",
			checks: []Check{
				{Name: "store", Impact: Critical, Func: fixed(OK(nil))},
				{Name: "hubspot", Impact: Degrades, Func: fixed(Degrade("daily limit reached", nil))},
				{Name: "directory", Impact: Degrades, Func: fixed(Down("unreachable: refused", nil))},
			},
			want: Degraded, wantReasons: []string{"hubspot: daily limit reached", "directory: unreachable: refused"},
		},
		{
			name: "informational never counts",
			checks: []Check{
				{Name: "reconcile", Impact: Informational, Func: fixed(Down("guard", nil))},
			},
			want: Ready,
		},
		{
			name: "a reason is always given",
			checks: []Check{
				{Name: "directory", Impact: Degrades, Func: fixed(Result{Status: StatusDown})},
			},
			want: Degraded, wantReasons: []string{"directory: down"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := New(nil)
			for _, c := range tt.checks {
				r.Register(c)
			}
			got, reasons := r.Ready(context.Background())
			if got != tt.want || !slices.Equal(reasons, tt.wantReasons) {
				t.Fatalf("Ready = %q %q, want %q %q", got, reasons, tt.want, tt.wantReasons)
			}
		})
	}
}

// Background checks run on their ticker only: probes read the cached
// result, and ignore a check that has not run yet.
func TestBackgroundChecksAreCached(t *testing.T) {
	var calls atomic.Int32
	var down atomic.Bool
	r := New(nil)
	r.Register(Check{Name: "directory", Impact: Degrades, Interval: 20 * time.Millisecond, Func: func(context.Context) Result {
		calls.Add(1)
		if down.Load() {
			return Down("unreachable", map[string]string{"cause": "unreachable"})
		}
		return OK(nil)
	}})
	if got, _ := r.Ready(context.Background()); got != Ready || calls.Load() != 0 {
		t.Fatalf("before the first run: %q, %d calls", got, calls.Load())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, func() bool { return calls.Load() > 0 })
	down.Store(true)
	waitFor(t, func() bool { s, _ := r.Ready(context.Background()); return s == Degraded })
	n := calls.Load()
	for range 50 {
		r.Ready(context.Background())
	}
	if calls.Load() > n+2 {
		t.Fatalf("probes ran the background check: %d calls after 50 probes (was %d)", calls.Load(), n)
	}
	rep := r.Report(context.Background())
	c := rep.Checks[0]
	if c.Status != StatusDown || c.Reason != "unreachable" || c.LastSuccess.IsZero() || c.Since.Before(c.LastSuccess) || c.Interval != "20ms" || c.Detail == nil {
		t.Fatalf("report: %+v", c)
	}
}

// On-demand checks run on each call, within their timeout; "since" keeps
// the time the status changed while the status holds.
func TestOnDemandSinceAndTimeout(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var status atomic.Value
	status.Store(StatusOK)
	r := New(func() time.Time { return now })
	r.Register(Check{Name: "store", Impact: Critical, Timeout: 50 * time.Millisecond, Func: func(ctx context.Context) Result {
		if status.Load() == StatusDown {
			<-ctx.Done() // a store that hangs
			return Down(ctx.Err().Error(), nil)
		}
		return OK(nil)
	}})
	r.Ready(context.Background())
	first := now
	now = now.Add(time.Minute)
	r.Ready(context.Background())
	rep := r.Report(context.Background())
	if c := rep.Checks[0]; !c.Since.Equal(first) || !c.LastSuccess.Equal(now) {
		t.Fatalf("since %v lastSuccess %v, want %v %v", c.Since, c.LastSuccess, first, now)
	}
	status.Store(StatusDown)
	now = now.Add(time.Minute)
	start := time.Now()
	got, reasons := r.Ready(context.Background())
	if got != Unavailable || len(reasons) != 1 || reasons[0] != "store: context deadline exceeded" || time.Since(start) > 5*time.Second {
		t.Fatalf("hanging store: %q %q after %v", got, reasons, time.Since(start))
	}
	if c := r.Report(context.Background()).Checks[0]; !c.Since.Equal(now) || !c.LastSuccess.Equal(now.Add(-time.Minute)) {
		t.Fatalf("after going down: %+v", c)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCollector(t *testing.T) {
	r := New(nil)
	r.Register(Check{Name: "store", Impact: Critical, Func: fixed(OK(nil))})
	r.Register(Check{Name: "directory", Impact: Degrades, Func: fixed(Down("unreachable", nil))})
	r.Register(Check{Name: "reconcile", Impact: Informational, Func: fixed(Degrade("guard", nil))})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(r.Collector())
	want := `
# HELP scimbridge_health_check_status The readiness checks (store, hubspot, directory): 1 for each check's current status (ok, degraded, down, unknown), 0 for the others.
# TYPE scimbridge_health_check_status gauge
scimbridge_health_check_status{check="directory",status="degraded"} 0
scimbridge_health_check_status{check="directory",status="down"} 1
scimbridge_health_check_status{check="directory",status="ok"} 0
scimbridge_health_check_status{check="directory",status="unknown"} 0
scimbridge_health_check_status{check="store",status="degraded"} 0
scimbridge_health_check_status{check="store",status="down"} 0
scimbridge_health_check_status{check="store",status="ok"} 1
scimbridge_health_check_status{check="store",status="unknown"} 0
# HELP scimbridge_readiness What /readyz answers: 1 for the current status (ready, degraded, unavailable), 0 for the others.
# TYPE scimbridge_readiness gauge
scimbridge_readiness{status="degraded"} 1
scimbridge_readiness{status="ready"} 0
scimbridge_readiness{status="unavailable"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
}
