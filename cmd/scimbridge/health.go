package main

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/health"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/store"
)

// healthDeps are what the checks of a serving bridge look at; nil fields
// (no HubSpot token, no directory) have no check.
type healthDeps struct {
	store store.Store
	// hubspot reports what the HubSpot client has seen (no call).
	hubspot func(ctx context.Context) (degraded bool, reason string, detail any)
	// directory and dirMetrics: the source as opened (probed when it is a
	// directory.Prober) and the read outcomes of the instrumented one.
	directory  directory.Source
	dirType    string
	dirMetrics *directory.Metrics
	runner     *reconcile.Runner
	// provisioning is on when HubSpot provisioning is; engine runs its
	// drift sweep.
	provisioning bool
	engine       *provision.Engine
	// interval is how often network checks run.
	interval time.Duration
}

// newHealth registers the bridge's checks: the store (critical: without it
// no SCIM write can be taken), HubSpot and the directory (trouble makes the
// replica degraded, not unavailable: writes are stored and queued durably
// and leavers recorded), and, for the status page only, the provisioning
// queue and the reconcile with its deletion guard.
func newHealth(d healthDeps) *health.Registry {
	reg := health.New(nil)
	reg.Register(health.Check{Name: "store", Impact: health.Critical, Timeout: 2 * time.Second, Func: storeCheck(d.store)})
	if d.hubspot != nil {
		// The client's own record of its calls: cheap, read on each probe.
		reg.Register(health.Check{Name: "hubspot", Impact: health.Degrades, Func: hubspotHealth(d.hubspot)})
	}
	if d.directory != nil {
		reg.Register(health.Check{Name: "directory", Impact: health.Degrades, Interval: d.interval,
			Func: directoryCheck(d.directory, d.dirType, d.dirMetrics)})
	}
	if d.provisioning {
		reg.Register(health.Check{Name: "provisioning", Impact: health.Informational, Func: provisioningCheck(d.store)})
	}
	if d.engine != nil {
		reg.Register(health.Check{Name: "sweep", Impact: health.Informational, Func: sweepCheck(d.engine)})
	}
	if d.runner != nil {
		reg.Register(health.Check{Name: "reconcile", Impact: health.Informational, Func: reconcileCheck(d.runner)})
	}
	return reg
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// storeCheck pings the store: down when it does not answer.
func storeCheck(st store.Store) health.Func {
	return func(ctx context.Context) health.Result {
		start := time.Now()
		err := st.Ping(ctx)
		detail := struct {
			PingLatencyMs float64 `json:"pingLatencyMs"`
		}{millis(time.Since(start))}
		if err != nil {
			return health.Down("the store does not answer, SCIM writes cannot be taken: "+err.Error(), detail)
		}
		return health.OK(detail)
	}
}

// hubspotHealth turns the HubSpot client's health into a check result.
func hubspotHealth(check func(ctx context.Context) (bool, string, any)) health.Func {
	return func(ctx context.Context) health.Result {
		degraded, reason, detail := check(ctx)
		if degraded {
			return health.Degrade(reason, detail)
		}
		return health.OK(detail)
	}
}

// directoryDetail is the directory check's detail.
type directoryDetail struct {
	Type string `json:"type"`
	// Probed: the check binds and reads the base entries itself; otherwise
	// it reports the reads the reconcile made.
	Probed bool `json:"probed"`
	directory.ReadStats
}

// directoryCheck probes the directory (a bind and a read of each base
// entry) when the driver can, and reports the last read's outcome: down,
// with the cause, when it failed.
func directoryCheck(src directory.Source, typ string, m *directory.Metrics) health.Func {
	prober, probed := src.(directory.Prober)
	return func(ctx context.Context) health.Result {
		if probed {
			err := prober.Probe(ctx)
			if ctx.Err() != nil && !directory.IsTimeout(ctx.Err()) {
				return health.Result{Status: health.StatusUnknown, Reason: "shutting down"}
			}
			m.Observe(err)
		}
		st := m.Stats()
		detail := directoryDetail{Type: typ, Probed: probed, ReadStats: st}
		if st.Failing() {
			return health.Down(fmt.Sprintf("%s: %s", st.LastCause, st.LastError), detail)
		}
		if st.LastSuccess.IsZero() {
			return health.Result{Status: health.StatusUnknown, Reason: "no read yet", Detail: detail}
		}
		return health.OK(detail)
	}
}

// provisioningCheck shows the HubSpot provisioning queue by state.
func provisioningCheck(st store.Store) health.Func {
	return func(ctx context.Context) health.Result {
		counts, err := st.ProvisioningCounts(ctx)
		if err != nil {
			return health.Down("counting the provisioning queue: "+err.Error(), nil)
		}
		detail := struct {
			Counts map[string]int `json:"counts"`
		}{counts}
		if n := counts["failed"]; n > 0 {
			return health.Degrade(fmt.Sprintf("HubSpot refused %d user or team row(s); see /admin/v1/provisioning", n), detail)
		}
		return health.OK(detail)
	}
}

// sweepCheck shows the last drift sweep: degraded while the deletion
// guard holds its removals back or when it could not read HubSpot.
func sweepCheck(e *provision.Engine) health.Func {
	return func(ctx context.Context) health.Result {
		st, err := e.SweepStatus(ctx)
		if err != nil {
			return health.Down("reading the drift sweep's status: "+err.Error(), nil)
		}
		switch {
		case st.Last == nil:
			return health.OK(st)
		case st.Last.Outcome == provision.SweepGuarded:
			return health.Degrade("the deletion guard holds back the leavers the last sweep found in HubSpot; see /admin/v1/sweep", st)
		case st.Last.Outcome == provision.SweepError:
			return health.Degrade("the last drift sweep failed: "+st.Last.Error, st)
		}
		return health.OK(st)
	}
}

// reconcileCheck shows the last reconcile runs and whether the deletion
// guard holds a run back.
func reconcileCheck(r *reconcile.Runner) health.Func {
	return func(ctx context.Context) health.Result {
		st, err := r.Status(ctx)
		if err != nil {
			return health.Down("reading the reconcile runs: "+err.Error(), nil)
		}
		detail := struct {
			LastRun     *store.Run `json:"lastRun,omitempty"`
			LastFull    *store.Run `json:"lastFull,omitempty"`
			GuardHolds  bool       `json:"guardHolds"`
			GuardReason string     `json:"guardReason,omitempty"`
			HighWater   time.Time  `json:"highWater,omitzero"`
		}{LastFull: st.LastFull, GuardHolds: st.Guarded != "", GuardReason: st.Guarded, HighWater: st.HighWater}
		if len(st.Recent) > 0 {
			detail.LastRun = st.Recent[0]
		}
		switch {
		case st.Guarded != "":
			return health.Degrade("the deletion guard holds a run back: "+st.Guarded, detail)
		case detail.LastRun != nil && detail.LastRun.Outcome == reconcile.OutcomeFailed:
			return health.Degrade("the last run failed: "+detail.LastRun.Error, detail)
		}
		return health.OK(detail)
	}
}

// hubspotClientCheck reports what the HubSpot client has seen of HubSpot
// and its rate limiter's state; it makes no call. Degraded while the last
// requests failed in a row, were refused (401/403), or the daily budget
// pauses writes.
func hubspotClientCheck(c *hubspot.Client) func(ctx context.Context) (bool, string, any) {
	return func(context.Context) (bool, string, any) {
		h := c.Health()
		st := c.Limiter().State()
		type window struct {
			Used         int       `json:"used"`
			Limit        int       `json:"limit"`
			IntervalMs   int64     `json:"intervalMs"`
			BlockedUntil time.Time `json:"blockedUntil,omitzero"`
			Blocks       int       `json:"blocks429"`
		}
		type daily struct {
			Limit       int       `json:"limit"`
			Used        int       `json:"used"`
			Remaining   int       `json:"remaining"`
			ResetAt     time.Time `json:"resetAt"`
			PausedUntil time.Time `json:"pausedUntil,omitzero"`
		}
		detail := struct {
			hubspot.Health
			RateWindow window `json:"rateWindow"`
			Daily      daily  `json:"daily"`
		}{h,
			window{st.Used, st.Limit, st.Interval.Milliseconds(), st.BlockedUntil, st.Blocks},
			daily{st.DailyLimit, st.DailyUsed, st.DailyRemaining, st.DailyResetAt, st.PausedUntil}}
		return h.Degraded, h.Reason, detail
	}
}
