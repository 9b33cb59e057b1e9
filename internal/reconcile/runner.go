package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Run kinds and outcomes.
const (
	KindFull        = "full"
	KindIncremental = "incremental"

	OutcomeRunning = "running"
	OutcomeOK      = "ok"
	OutcomeFailed  = "failed"
	OutcomeGuarded = "guarded"
	OutcomeDryRun  = "dry-run"
)

// ErrBusy is returned when a run is asked for while another is going.
var ErrBusy = errors.New("reconcile: another run is in progress")

// highWaterKey is where the incremental high-water mark is kept.
const highWaterKey = "directory.high_water"

// Runner runs reconciles, one at a time.
type Runner struct {
	cfg     Config
	src     directory.Source
	mapping *directory.Mapping
	store   store.Store
	w       Writer
	log     zerolog.Logger
	now     func() time.Time
	workers int

	mu        sync.Mutex // held by the running reconcile
	model     *Model
	highWater time.Time
	// cur is the store's side as of the last run, kept for incremental
	// polls, which refresh only the resources they touch; nil: rescan.
	cur *Current

	statusMu  sync.Mutex
	lastFull  *store.Run
	lastGuard string

	metrics *metrics
}

// Options of one run.
type Options struct {
	// DryRun computes and returns the plan without applying it.
	DryRun bool
	// Force applies a plan the deletion guard held back.
	Force bool
	// Progress, when set, is called as changes are applied.
	Progress func(done, total int)
}

// Result is the outcome of a run.
type Result struct {
	Run    *store.Run `json:"run"`
	Plan   *Plan      `json:"plan,omitempty"`
	Errors []string   `json:"errors,omitempty"`
}

// NewRunner returns a runner. reg may be nil.
func NewRunner(cfg Config, src directory.Source, m *directory.Mapping, st store.Store, w Writer, log zerolog.Logger, reg prometheus.Registerer) *Runner {
	cfg.SetDefaults()
	return &Runner{cfg: cfg, src: src, mapping: m, store: st, w: w, log: log, now: time.Now, workers: 16, metrics: newMetrics(reg)}
}

// Full reads the whole directory and reconciles it.
func (r *Runner) Full(ctx context.Context, opt Options) (*Result, error) {
	if !r.mu.TryLock() {
		return nil, ErrBusy
	}
	defer r.mu.Unlock()
	return r.full(ctx, opt)
}

func (r *Runner) full(ctx context.Context, opt Options) (*Result, error) {
	run := &store.Run{Kind: KindFull, Started: r.now(), Outcome: OutcomeRunning, Forced: opt.Force}
	if !opt.DryRun {
		if err := r.save(ctx, run); err != nil {
			return nil, err
		}
	}
	res := &Result{Run: run}
	// The store first: directory users the bridge already holds exactly
	// are then kept without their mapped resource.
	cur, err := r.current(ctx)
	if err != nil {
		return r.finish(ctx, res, opt, err)
	}
	owned := make(map[string][32]byte, len(cur.Users))
	for _, u := range cur.Users {
		if u.Origin == schemas.OriginDirectory && u.ExternalID != "" {
			owned[u.ExternalID] = u.Sum
		}
	}
	snap, err := readFull(ctx, r.src, r.mapping, func(ext string, sum [32]byte) bool {
		have, ok := owned[ext]
		return ok && have == sum
	})
	owned = nil
	if err != nil {
		return r.finish(ctx, res, opt, fmt.Errorf("%w (nothing was changed)", err))
	}
	model := NewModel(snap)
	res.Plan = BuildPlan(PlanInput{Model: model, Full: true, Current: cur, Config: r.cfg, Skipped: snap.Skipped})
	if reason := r.guard(res.Plan, len(snap.Users), opt.Force); reason != "" {
		run.Outcome, run.Error = OutcomeGuarded, reason
		if !opt.DryRun {
			r.setGuard(reason)
		}
		return r.finish(ctx, res, opt, nil)
	}
	if !opt.DryRun {
		r.setGuard("")
	}
	if !opt.DryRun {
		r.applyPlan(ctx, res, cur, opt)
		r.cur = nil // the apply changed the store: rescan before the next poll
		if res.Plan.Empty() {
			r.cur = cur
		}
		r.model = model
		// Everything modified before the read began is in the model: the
		// next polls look from then (less the skew for clock differences),
		// not from the newest timestamp seen, which after a bulk load is
		// the same for every entry and would have each poll re-read them all.
		r.highWater = snap.HighWater
		if run.Started.After(r.highWater) {
			r.highWater = run.Started
		}
		r.saveHighWater(ctx)
	}
	return r.finish(ctx, res, opt, nil)
}

// Incremental applies what changed since the last run. Without a model
// from a full run yet, it runs a full one.
func (r *Runner) Incremental(ctx context.Context) (*Result, error) {
	if !r.mu.TryLock() {
		return nil, ErrBusy
	}
	defer r.mu.Unlock()
	cs, ok := r.src.(directory.ChangeSource)
	if !ok {
		return nil, nil
	}
	if r.model == nil {
		return r.full(ctx, Options{})
	}
	since := r.highWater.Add(-r.cfg.Skew)
	snap, err := readChanged(ctx, cs, r.mapping, since)
	if err != nil {
		r.metrics.runs.WithLabelValues(KindIncremental, OutcomeFailed).Inc()
		return nil, err
	}
	if len(snap.Users) == 0 && len(snap.Groups) == 0 {
		return nil, nil
	}
	in := PlanInput{Model: r.model, Config: r.cfg, Skipped: snap.Skipped}
	for _, u := range snap.Users {
		in.ChangedUsers = append(in.ChangedUsers, u.ExternalID)
	}
	for _, g := range snap.Groups {
		in.ChangedGroups = append(in.ChangedGroups, g.ExternalID)
	}
	if r.cur == nil {
		if r.cur, err = r.current(ctx); err != nil {
			return nil, err
		}
	} else if err := r.refresh(ctx, in.ChangedUsers, in.ChangedGroups); err != nil {
		r.cur = nil
		return nil, err
	}
	cur := r.cur
	cur.Load = func(id string) (*schemas.User, error) { return r.store.GetUser(ctx, id, false) }
	in.Current = cur
	r.model.Merge(snap)
	plan := BuildPlan(in)
	if snap.HighWater.After(r.highWater) {
		r.highWater = snap.HighWater
	}
	if plan.Empty() {
		r.saveHighWater(ctx)
		return nil, nil
	}
	run := &store.Run{Kind: KindIncremental, Started: r.now(), Outcome: OutcomeRunning}
	res := &Result{Run: run, Plan: plan}
	if reason := r.guard(plan, -1, false); reason != "" {
		run.Outcome, run.Error = OutcomeGuarded, reason
		r.setGuard(reason)
		return r.finish(ctx, res, Options{}, nil)
	}
	r.applyPlan(ctx, res, cur, Options{})
	// Bring the cached store side up to date with what was applied.
	if err := r.refresh(ctx, affectedUsers(plan), affectedGroups(plan)); err != nil {
		r.cur = nil
	}
	r.saveHighWater(ctx)
	return r.finish(ctx, res, Options{}, nil)
}

// guard decides whether a plan may be applied. read is the number of
// users read on a full run (-1 for incremental runs).
func (r *Runner) guard(p *Plan, read int, force bool) string {
	if force {
		return ""
	}
	if read == 0 && p.Managed > 0 {
		return fmt.Sprintf("the directory returned no users while the bridge manages %d: a wrong base DN, filter or credentials would look like this; nothing was applied (force the run if this is intended)", p.Managed)
	}
	if n, limit := p.Deprovisions(), r.cfg.guardLimit(p.Managed); n > limit {
		return fmt.Sprintf("the run would deprovision %d of %d managed users, more than the limit of %d (max(%g%%, %d)); nothing was applied: check the directory, then force the run",
			n, p.Managed, limit, r.cfg.MaxDeprovisionPercent, r.cfg.MaxDeprovisionCount)
	}
	return ""
}

func (r *Runner) applyPlan(ctx context.Context, res *Result, cur *Current, opt Options) {
	ar := apply(ctx, r.w, res.Plan, cur, r.workers, opt.Progress)
	res.Errors = ar.errors
	if n := ar.failed.Load(); n > 0 {
		res.Run.Error = fmt.Sprintf("%d change(s) failed; first: %s", n, ar.errors[0])
	}
}

func (r *Runner) finish(ctx context.Context, res *Result, opt Options, err error) (*Result, error) {
	run := res.Run
	run.Finished = r.now()
	if res.Plan != nil {
		run.Counts = res.Plan.Counts()
		if len(res.Errors) > 0 {
			run.Counts["errors"] = len(res.Errors)
		}
	}
	switch {
	case err != nil:
		run.Outcome, run.Error = OutcomeFailed, err.Error()
	case run.Outcome == OutcomeRunning && opt.DryRun:
		run.Outcome = OutcomeDryRun
	case run.Outcome == OutcomeRunning:
		run.Outcome = OutcomeOK
	}
	r.metrics.observe(run)
	if !opt.DryRun {
		if serr := r.save(context.WithoutCancel(ctx), run); serr != nil && err == nil {
			err = serr
		}
		if run.Kind == KindFull {
			r.statusMu.Lock()
			r.lastFull = run
			r.statusMu.Unlock()
		}
	}
	ev := r.log.Info()
	if run.Outcome != OutcomeOK && run.Outcome != OutcomeDryRun {
		ev = r.log.Warn()
	}
	ev.Str("kind", run.Kind).Str("outcome", run.Outcome).Interface("counts", run.Counts).Str("error", run.Error).
		Dur("took", run.Finished.Sub(run.Started)).Msg("reconcile run")
	return res, err
}

func (r *Runner) save(ctx context.Context, run *store.Run) error {
	return r.store.Update(ctx, func(tx store.Tx) error { return tx.SaveRun(run) })
}

func (r *Runner) saveHighWater(ctx context.Context) {
	hw := r.highWater.UTC().Format(time.RFC3339Nano)
	if err := r.store.Update(context.WithoutCancel(ctx), func(tx store.Tx) error { return tx.SetState(highWaterKey, hw) }); err != nil {
		r.log.Warn().Err(err).Msg("saving the directory high-water mark")
	}
}

func (r *Runner) setGuard(reason string) {
	r.statusMu.Lock()
	r.lastGuard = reason
	r.statusMu.Unlock()
	v := 0.0
	if reason != "" {
		v = 1
	}
	r.metrics.guarded.Set(v)
}

// current reads the store's users and groups.
func (r *Runner) current(ctx context.Context) (*Current, error) {
	c := &Current{Load: func(id string) (*schemas.User, error) { return r.store.GetUser(ctx, id, false) }}
	if err := r.store.ScanUsers(ctx, func(u *schemas.User) error {
		c.Users = append(c.Users, Compact(u))
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reconcile: reading the bridge's users: %w", err)
	}
	if err := r.store.ScanGroups(ctx, true, func(g *schemas.Group) error {
		// Only member ids and types are compared: drop the rest early.
		for i := range g.Members {
			g.Members[i].Display, g.Members[i].Ref = "", ""
		}
		c.Groups = append(c.Groups, g)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("reconcile: reading the bridge's groups: %w", err)
	}
	return c, nil
}

// Loop runs a full reconcile now and every Interval, and incremental polls
// every PollInterval in between, until ctx ends.
func (r *Runner) Loop(ctx context.Context) {
	full := time.NewTimer(0)
	defer full.Stop()
	var poll <-chan time.Time
	if _, ok := r.src.(directory.ChangeSource); ok && r.cfg.PollInterval > 0 {
		t := time.NewTicker(r.cfg.PollInterval)
		defer t.Stop()
		poll = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-full.C:
			if _, err := r.Full(ctx, Options{}); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
				r.log.Error().Err(err).Msg("full reconcile")
			}
			full.Reset(r.cfg.Interval)
		case <-poll:
			if _, err := r.Incremental(ctx); err != nil && !errors.Is(err, ErrBusy) && ctx.Err() == nil {
				r.log.Warn().Err(err).Msg("incremental reconcile")
			}
		}
	}
}

// Status is what /admin/v1/reconcile shows.
type Status struct {
	LastFull  *store.Run   `json:"lastFull,omitempty"`
	Guarded   string       `json:"guarded,omitempty"`
	HighWater time.Time    `json:"highWater,omitzero"`
	Recent    []*store.Run `json:"recent"`
}

// Status reports the latest runs and whether the guard holds a run back.
func (r *Runner) Status(ctx context.Context) (*Status, error) {
	runs, err := r.store.Runs(ctx, 20)
	if err != nil {
		return nil, err
	}
	r.statusMu.Lock()
	defer r.statusMu.Unlock()
	return &Status{LastFull: r.lastFull, Guarded: r.lastGuard, Recent: runs}, nil
}

// metrics are the reconcile's Prometheus series.
type metrics struct {
	runs    *prometheus.CounterVec
	guarded prometheus.Gauge
	changes *prometheus.CounterVec
	last    *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scimbridge_reconcile_runs_total",
			Help: "Reconcile runs by kind and outcome."}, []string{"kind", "outcome"}),
		guarded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "scimbridge_reconcile_guarded",
			Help: "1 while the deletion guard holds back the latest full run."}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "scimbridge_reconcile_changes_total",
			Help: "Planned changes of applied runs, by kind."}, []string{"change"}),
		last: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "scimbridge_reconcile_last_run_timestamp_seconds",
			Help: "When the last run of each kind and outcome finished."}, []string{"kind", "outcome"}),
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.guarded, m.changes, m.last)
	}
	return m
}

func (m *metrics) observe(run *store.Run) {
	m.runs.WithLabelValues(run.Kind, run.Outcome).Inc()
	m.last.WithLabelValues(run.Kind, run.Outcome).Set(float64(run.Finished.Unix()))
	if run.Outcome == OutcomeOK {
		for k, v := range run.Counts {
			m.changes.WithLabelValues(k).Add(float64(v))
		}
	}
}

// ReconcileStatus implements the admin API's view.
func (r *Runner) ReconcileStatus(ctx context.Context) (*Status, error) { return r.Status(ctx) }

// Reconcile implements the admin API's full run.
func (r *Runner) Reconcile(ctx context.Context, force, dryRun bool) (*Result, error) {
	res, err := r.Full(ctx, Options{Force: force, DryRun: dryRun})
	if errors.Is(err, ErrBusy) {
		return nil, &schemas.Error{Code: schemas.ECONFLICT, Message: "A reconcile is running; try again when it has finished."}
	}
	return res, directoryError(err)
}

func affectedUsers(p *Plan) []string {
	var out []string
	for _, u := range p.Users {
		out = append(out, u.ExternalID)
	}
	return out
}

func affectedGroups(p *Plan) []string {
	var out []string
	for _, g := range p.Groups {
		out = append(out, g.ExternalID)
	}
	return out
}

// refresh re-reads the given users and groups (by external id) into the
// cached store side, so an incremental poll costs a few indexed lookups,
// not a scan of every user.
func (r *Runner) refresh(ctx context.Context, users, groups []string) error {
	c := r.cur
	if c == nil {
		return nil
	}
	byExt := map[string]int{}
	for i, u := range c.Users {
		if u.ExternalID != "" {
			if _, ok := byExt[u.ExternalID]; !ok || u.Origin == schemas.OriginDirectory {
				byExt[u.ExternalID] = i
			}
		}
	}
	seen := map[string]bool{}
	for _, ext := range users {
		if seen[ext] {
			continue
		}
		seen[ext] = true
		page, err := r.store.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("externalId", ext), StartIndex: 1, Count: 10})
		if err != nil {
			return err
		}
		i, had := byExt[ext]
		switch {
		case len(page.Users) == 0 && had:
			c.Users[i] = &CurrentUser{} // gone: an empty record matches nothing
		case len(page.Users) > 0:
			fresh := Compact(page.Users[0])
			for _, u := range page.Users {
				if u.Origin == schemas.OriginDirectory {
					fresh = Compact(u)
				}
			}
			if had {
				c.Users[i] = fresh
			} else {
				c.Users = append(c.Users, fresh)
			}
		}
	}
	gByExt := map[string]int{}
	for i, g := range c.Groups {
		if g.ExternalID != "" && g.Origin == schemas.OriginDirectory {
			gByExt[g.ExternalID] = i
		}
	}
	seen = map[string]bool{}
	for _, ext := range groups {
		if seen[ext] {
			continue
		}
		seen[ext] = true
		page, err := r.store.QueryGroups(ctx, schemas.Query{Filter: schemas.Eq("externalId", ext), StartIndex: 1, Count: 10, Related: true})
		if err != nil {
			return err
		}
		var fresh *schemas.Group
		for _, g := range page.Groups {
			if g.Origin == schemas.OriginDirectory {
				fresh = g
			}
		}
		i, had := gByExt[ext]
		switch {
		case fresh == nil && had:
			c.Groups[i] = &schemas.Group{}
		case fresh != nil && had:
			c.Groups[i] = fresh
		case fresh != nil:
			c.Groups = append(c.Groups, fresh)
		}
	}
	return nil
}
