package directory

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// fakeSource fails its reads with err after delivering entries.
type fakeSource struct {
	entries []Entry
	err     error
}

func (f *fakeSource) read(_ context.Context, fn func(Entry) error) error {
	for _, e := range f.entries {
		if err := fn(e); err != nil {
			return err
		}
	}
	return f.err
}

func (f *fakeSource) Users(ctx context.Context, fn func(Entry) error) error  { return f.read(ctx, fn) }
func (f *fakeSource) Groups(ctx context.Context, fn func(Entry) error) error { return f.read(ctx, fn) }
func (f *fakeSource) Close() error                                           { return nil }

type fakeChangeSource struct{ fakeSource }

func (f *fakeChangeSource) UsersChangedSince(ctx context.Context, _ time.Time, fn func(Entry) error) error {
	return f.read(ctx, fn)
}

func (f *fakeChangeSource) GroupsChangedSince(ctx context.Context, _ time.Time, fn func(Entry) error) error {
	return f.read(ctx, fn)
}

func TestMetricsInstrument(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := NewMetrics(reg)
	count := func(c Cause) float64 {
		return testutil.ToFloat64(m.errors.WithLabelValues(string(c)))
	}
	if n, err := testutil.GatherAndCount(reg, "scimbridge_directory_read_errors_total"); err != nil || n != len(Causes()) {
		t.Fatalf("every cause starts at zero: %d series, %v", n, err)
	}
	src := &fakeChangeSource{fakeSource{entries: []Entry{{Ref: "cn=a"}}}}
	in := m.Instrument(src)
	cs, ok := in.(ChangeSource)
	if !ok {
		t.Fatal("Instrument lost ChangeSource")
	}
	if _, ok := m.Instrument(&src.fakeSource).(ChangeSource); ok {
		t.Fatal("Instrument made a plain Source a ChangeSource")
	}
	nop := func(Entry) error { return nil }

	if err := in.Users(context.Background(), nop); err != nil || m.Stats().LastSuccess.IsZero() || m.Stats().Failing() {
		t.Fatalf("a good read: %v %+v", err, m.Stats())
	}
	// The caller's own error is not the directory's.
	mine := errors.New("mapping failed")
	if err := in.Groups(context.Background(), func(Entry) error { return mine }); !errors.Is(err, mine) || count(CauseOther) != 0 || m.Stats().Failing() {
		t.Fatalf("the caller's error: %v, other=%v", err, count(CauseOther))
	}
	src.err = &Error{Cause: CauseUnreachable, Err: errors.New("connection refused")}
	if err := cs.UsersChangedSince(context.Background(), time.Time{}, nop); err == nil || count(CauseUnreachable) != 1 {
		t.Fatalf("unreachable: %v, counted %v", err, count(CauseUnreachable))
	}
	if st := m.Stats(); !st.Failing() || st.LastCause != CauseUnreachable || st.LastError != "connection refused" {
		t.Fatalf("stats after a failure: %+v", st)
	}
	src.err = context.DeadlineExceeded
	_ = cs.GroupsChangedSince(context.Background(), time.Time{}, nop)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	src.err = context.Canceled
	_ = in.Users(ctx, nop)
	if count(CauseTimeout) != 1 || count(CauseUnreachable) != 1 || count(CauseOther) != 0 {
		t.Fatalf("timeout %v, unreachable %v, other %v", count(CauseTimeout), count(CauseUnreachable), count(CauseOther))
	}
	// Probes report through Observe.
	m.Observe(&Error{Cause: CauseBaseMissing, Err: errors.New("no such object")})
	m.Observe(nil)
	if count(CauseBaseMissing) != 1 || m.Stats().Failing() {
		t.Fatalf("Observe: %v %+v", count(CauseBaseMissing), m.Stats())
	}
	// A nil registerer counts without exporting.
	NewMetrics(nil).Observe(errors.New("x"))
}
