package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// The drift sweep compares HubSpot with the desired state, not with the
// bridge's memory of what it sent: it reads every HubSpot user (100 per
// call, through the client's rate limiter and daily budget) and every
// provisioning row, and makes due again each user HubSpot holds wrongly.
// The workers then read that user from HubSpot and fix it, so the sweep
// decides nothing on a stale read: at worst a user is checked once more.
//
// It keeps to half the client's rolling rate window, and skips a run
// while less than a tenth of the daily budget is left.
//
// Its cost is one HubSpot call per 100 HubSpot users (10,000 users: 100
// calls, BenchmarkSweep10k) plus the fixes. At the default interval of 10
// minutes that is about 14,500 calls a day for 10,000 users, under 6% of
// the smallest private app daily budget (250,000).

// DefaultSweepInterval is how often the drift sweep runs by default.
const DefaultSweepInterval = 10 * time.Minute

// Kinds of difference the sweep finds.
const (
	// DiffLeaverPresent: a user who should have no HubSpot account has
	// one (a late commit, a hand-made account, a removal that failed).
	DiffLeaverPresent = "leaver_present"
	// DiffWrongAccess: the account has another role or other teams.
	DiffWrongAccess = "wrong_access"
	// DiffMissing: a user who should have an account, and had one, has
	// none (removed in HubSpot by hand).
	DiffMissing = "missing"
	// DiffUnmanagedMatch: an account the bridge holds no link to has the
	// address of a bridge user who should have one.
	DiffUnmanagedMatch = "unmanaged_match"
	// DiffUndecodable: the stored desired state does not decode; the
	// worker computes the user's again.
	DiffUndecodable = "undecodable"
)

var diffKinds = []string{DiffLeaverPresent, DiffWrongAccess, DiffMissing, DiffUnmanagedMatch, DiffUndecodable}

// Sweep outcomes.
const (
	SweepOK      = "ok"
	SweepGuarded = "guarded" // removals held back by the deletion guard
	SweepError   = "error"
	SweepDryRun  = "dry_run"
	// SweepSkipped: the daily budget is below 10%; what is left is kept
	// for provisioning until the reset.
	SweepSkipped = "skipped"
)

// SweepGuard holds back a sweep's removals when there are more than
// max(MaxPercent% of the users the bridge manages, MaxCount), as the
// reconcile's deletion guard does (the same settings): a sweep that
// suddenly finds many leavers in HubSpot more likely reads a restored or
// wrong store than a wave of returning leavers. The rest of its fixes go
// ahead; the removals wait for a forced sweep.
type SweepGuard struct {
	MaxPercent float64
	MaxCount   int
}

func (g *SweepGuard) setDefaults() {
	if g.MaxPercent == 0 {
		g.MaxPercent = 10
	}
	if g.MaxCount == 0 {
		g.MaxCount = 25
	}
}

func (g SweepGuard) limit(managed int) int {
	return max(int(float64(managed)*g.MaxPercent/100), g.MaxCount)
}

// SweepOptions are a sweep's choices.
type SweepOptions struct {
	// Force lets removals past the deletion guard.
	Force bool
	// DryRun reports the differences without re-queuing anything.
	DryRun bool
}

// SweepResult is a sweep's report.
type SweepResult struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Outcome  string    `json:"outcome"`
	Error    string    `json:"error,omitempty"`
	Forced   bool      `json:"forced,omitempty"`
	DryRun   bool      `json:"dryRun,omitempty"`
	// HubSpotUsers is how many users HubSpot holds; Calls how many
	// HubSpot calls reading them took.
	HubSpotUsers int `json:"hubspotUsers"`
	Calls        int `json:"calls"`
	// Managed is how many bridge users were compared.
	Managed int `json:"managed"`
	// Unmanaged counts HubSpot users no bridge user claims (left alone).
	Unmanaged int `json:"unmanaged"`
	// Differences counts what was found, by kind; Requeued how many users
	// were made due again.
	Differences map[string]int `json:"differences"`
	Requeued    int            `json:"requeued"`
	// Guarded says why removals were held back; Held lists them.
	Guarded string `json:"guarded,omitempty"`
	// Found lists the first differences found (all kinds).
	Found []SweepDifference `json:"found,omitempty"`
}

// SweepDifference is one user HubSpot holds wrongly.
type SweepDifference struct {
	Kind      string `json:"kind"`
	UserID    string `json:"userId"`
	Email     string `json:"email"`
	HubSpotID string `json:"hubspotUserId,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Held      bool   `json:"held,omitempty"`
}

// maxFound bounds the differences a result lists.
const maxFound = 200

// SweepStatus is what /admin/v1/sweep shows.
type SweepStatus struct {
	Interval string       `json:"interval"`
	Running  bool         `json:"running"`
	Last     *SweepResult `json:"last,omitempty"`
	Next     *time.Time   `json:"next,omitempty"`
}

// ErrSweepBusy is returned while another sweep runs.
var ErrSweepBusy = errors.New("provision: a drift sweep is running")

// sweeper is the engine's sweep bookkeeping.
type sweeper struct {
	run  sync.Mutex // one sweep at a time
	mu   sync.Mutex
	last *SweepResult
	next time.Time
}

// sweepStateKey is where the last sweep's result is kept in the store, so
// the status survives a restart.
const sweepStateKey = "provision.sweep"

// sweepLoop runs a sweep every SweepInterval once the catalogue is loaded.
func (e *Engine) sweepLoop(ctx context.Context) {
	if e.cfg.SweepInterval < 0 {
		return
	}
	for {
		next := e.cfg.Now().Add(e.cfg.SweepInterval)
		e.sweeps.mu.Lock()
		e.sweeps.next = next
		e.sweeps.mu.Unlock()
		if sleep(ctx, e.cfg.SweepInterval) != nil {
			return
		}
		if e.catalog.Load() == nil {
			continue
		}
		if _, err := e.Sweep(ctx, SweepOptions{}); err != nil && ctx.Err() == nil && !errors.Is(err, ErrSweepBusy) {
			e.log.Warn().Err(err).Msg("drift sweep")
		}
	}
}

// Sweep compares every HubSpot user with the desired state now and makes
// due again each bridge user HubSpot holds wrongly. It returns
// ErrSweepBusy while another sweep runs.
func (e *Engine) Sweep(ctx context.Context, opt SweepOptions) (*SweepResult, error) {
	if !e.sweeps.run.TryLock() {
		return nil, ErrSweepBusy
	}
	defer e.sweeps.run.Unlock()
	res := &SweepResult{Started: e.cfg.Now().UTC(), Forced: opt.Force, DryRun: opt.DryRun, Differences: map[string]int{}}
	err := e.sweep(ctx, opt, res)
	res.Finished = e.cfg.Now().UTC()
	switch {
	case errors.Is(err, errSweepSkipped):
		res.Outcome, res.Error = SweepSkipped, err.Error()
		err = nil
	case err != nil:
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		res.Outcome, res.Error = SweepError, err.Error()
	case opt.DryRun:
		res.Outcome = SweepDryRun
	case res.Guarded != "":
		res.Outcome = SweepGuarded
	default:
		res.Outcome = SweepOK
	}
	e.metrics.sweepRuns.WithLabelValues(res.Outcome).Inc()
	e.metrics.sweepLast.WithLabelValues(res.Outcome).Set(float64(res.Finished.Unix()))
	if !opt.DryRun {
		for k, n := range res.Differences {
			e.metrics.sweepDiffs.WithLabelValues(k).Add(float64(n))
		}
		if err == nil && res.Outcome != SweepSkipped {
			g := 0.0
			if res.Guarded != "" {
				g = 1
			}
			e.metrics.sweepGuarded.Set(g)
		}
		e.saveSweep(context.WithoutCancel(ctx), res)
	}
	ev := e.log.Info()
	if err != nil || res.Guarded != "" || res.Differences[DiffLeaverPresent] > 0 {
		ev = e.log.Warn()
	}
	ev.Str("outcome", res.Outcome).Int("hubspot_users", res.HubSpotUsers).Int("calls", res.Calls).
		Int("requeued", res.Requeued).Interface("differences", res.Differences).Str("guarded", res.Guarded).
		Str("error", res.Error).Dur("took", res.Finished.Sub(res.Started)).Msg("drift sweep")
	if err != nil {
		return res, fmt.Errorf("provision: drift sweep: %w", err)
	}
	return res, nil
}

func (e *Engine) saveSweep(ctx context.Context, res *SweepResult) {
	e.sweeps.mu.Lock()
	e.sweeps.last = res
	e.sweeps.mu.Unlock()
	data, err := json.Marshal(res)
	if err == nil {
		err = e.store.Update(ctx, func(tx store.Tx) error { return tx.SetState(sweepStateKey, string(data)) })
	}
	if err != nil {
		e.log.Warn().Err(err).Msg("saving the drift sweep's result")
	}
}

// SweepStatus reports the last sweep and when the next is due.
func (e *Engine) SweepStatus(ctx context.Context) (*SweepStatus, error) {
	st := &SweepStatus{Interval: e.cfg.SweepInterval.String()}
	if e.cfg.SweepInterval < 0 {
		st.Interval = "off"
	}
	if e.sweeps.run.TryLock() {
		e.sweeps.run.Unlock()
	} else {
		st.Running = true
	}
	e.sweeps.mu.Lock()
	st.Last = e.sweeps.last
	if !e.sweeps.next.IsZero() {
		next := e.sweeps.next.UTC()
		st.Next = &next
	}
	e.sweeps.mu.Unlock()
	if st.Last == nil {
		v, err := e.store.State(ctx, sweepStateKey)
		if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
			return nil, err
		}
		if v != "" {
			var last SweepResult
			if json.Unmarshal([]byte(v), &last) == nil {
				st.Last = &last
			}
		}
	}
	return st, nil
}

// sweptRow is what the sweep keeps of a provisioning row.
type sweptRow struct {
	userID, hubspotID, state string
	queued                   bool // HubSpot work is due or being retried
	d                        Desired
}

// sweep does the work of Sweep, filling res.
func (e *Engine) sweep(ctx context.Context, opt SweepOptions, res *SweepResult) error {
	if e.catalog.Load() == nil {
		return errors.New("HubSpot's roles and teams are not loaded yet")
	}
	// HubSpot first, then the rows: a user provisioned in between looks
	// missing and is checked once more, never wrongly removed, since the
	// workers read HubSpot again before acting.
	lim := e.limiter()
	if lim != nil {
		if st := lim.State(); st.DailyLimit > 0 && st.DailyRemaining < st.DailyLimit/10 {
			return fmt.Errorf("%w: %d of the daily budget's %d calls are left, kept for provisioning until the reset at %s",
				errSweepSkipped, st.DailyRemaining, st.DailyLimit, st.DailyResetAt.UTC().Format(time.RFC3339))
		}
	}
	hs, err := e.sweepHubSpot(ctx, lim, res)
	if err != nil {
		return err
	}
	res.HubSpotUsers = len(hs)
	byID := make(map[string]*hubspot.User, len(hs))
	byEmail := make(map[string]*hubspot.User, len(hs))
	for i := range hs {
		u := &hs[i]
		byID[u.ID] = u
		byEmail[emailKey(u.Email)] = u
	}

	rows, undecodable, linked, err := e.sweepRows(ctx)
	if err != nil {
		return err
	}

	fixes := undecodable
	if len(undecodable) > 0 {
		res.Differences[DiffUndecodable] = len(undecodable)
	}
	var removals []SweepDifference
	claimed := map[string]bool{}
	for _, r := range rows {
		if r.hubspotID != "" {
			claimed[r.hubspotID] = true
		}
		if r.d.Email != "" {
			if u := byEmail[emailKey(r.d.Email)]; u != nil {
				claimed[u.ID] = true
			}
		}
		if r.d.Present {
			res.Managed++
		}
		diff, ok := e.compare(r, byID, byEmail, linked)
		if !ok {
			continue
		}
		res.Differences[diff.Kind]++
		if diff.Kind == DiffLeaverPresent {
			removals = append(removals, diff)
		} else {
			fixes = append(fixes, diff)
		}
	}
	for _, u := range hs {
		if !claimed[u.ID] {
			res.Unmanaged++
		}
	}
	fixes = e.guard(fixes, removals, opt.Force, res)
	if opt.DryRun {
		return nil
	}
	return e.requeue(ctx, fixes, res)
}

// guard lets the removals join the fixes unless they are more than the
// deletion guard allows and the sweep is not forced; it lists all in res.
func (e *Engine) guard(fixes, removals []SweepDifference, force bool, res *SweepResult) []SweepDifference {
	if n, limit := len(removals), e.cfg.SweepGuard.limit(res.Managed); n > limit && !force {
		res.Guarded = fmt.Sprintf("the sweep found %d leavers in HubSpot, more than the deletion guard allows (%d); run a forced sweep (POST /admin/v1/sweep?force=true) once the list is checked", n, limit)
		for i := range removals {
			removals[i].Held = true
		}
	} else {
		fixes = append(fixes, removals...)
		removals = nil
	}
	for _, d := range fixes {
		res.Found = appendFound(res.Found, d)
	}
	for _, d := range removals {
		res.Found = appendFound(res.Found, d)
	}
	return fixes
}

// sweepHubSpot reads every HubSpot user, 100 per call, within half the
// rate window.
func (e *Engine) sweepHubSpot(ctx context.Context, lim *hubspot.Limiter, res *SweepResult) ([]hubspot.User, error) {
	var hs []hubspot.User
	seen := map[string]bool{}
	after := ""
	for {
		if err := e.paceSweep(ctx, lim); err != nil {
			return nil, err
		}
		page, next, err := e.hs.ListUsers(ctx, after, hubspot.DefaultPageSize)
		res.Calls++
		if err != nil {
			return nil, fmt.Errorf("reading HubSpot's users: %w", err)
		}
		hs = append(hs, page...)
		if next == "" {
			return hs, nil
		}
		if seen[next] {
			return nil, fmt.Errorf("reading HubSpot's users: paging cursor %q repeats", next)
		}
		seen[next] = true
		after = next
	}
}

// sweepRows reads the users' provisioning rows, the ones whose stored
// desired state does not decode (to compute again), and the HubSpot ids any
// row links to.
func (e *Engine) sweepRows(ctx context.Context) (rows []sweptRow, undecodable []SweepDifference, linked map[string]bool, err error) {
	linked = map[string]bool{}
	for after := ""; ; {
		page, err := e.store.ListProvisioning(ctx, after, 1000)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("reading the provisioning rows: %w", err)
		}
		for _, p := range page {
			if p.Kind == store.KindTeam {
				continue // a team's HubSpot id is no user's
			}
			if p.HubSpotID != "" {
				linked[p.HubSpotID] = true
			}
			r := sweptRow{userID: p.UserID, hubspotID: p.HubSpotID, state: p.State,
				// Work queued or being retried is left to the workers; a row
				// parked (failed, deferred) or waiting to verify a removal is
				// compared: a leaver found now is removed now.
				queued: p.DesiredVersion > p.AppliedVersion && p.State != StateFailed && p.State != StateDeferred && p.State != StateVerifying}
			if err := json.Unmarshal(p.Desired, &r.d); err != nil {
				// The worker computes the user's afresh from the store.
				e.log.Error().Err(err).Str("user_id", p.UserID).Msg("drift sweep: the stored desired state does not decode; computing it again")
				undecodable = append(undecodable, SweepDifference{Kind: DiffUndecodable, UserID: p.UserID, Detail: err.Error()})
				continue
			}
			rows = append(rows, r)
		}
		if len(page) < 1000 {
			return rows, undecodable, linked, nil
		}
		after = page[len(page)-1].UserID
	}
}

// requeue makes the users of fixes due again, 500 to a transaction, and
// wakes the workers.
func (e *Engine) requeue(ctx context.Context, fixes []SweepDifference, res *SweepResult) error {
	for _, d := range fixes {
		if d.Kind == DiffLeaverPresent {
			e.log.Warn().Str("user_id", d.UserID).Str("email", d.Email).Str("hubspot_id", d.HubSpotID).
				Msg("drift sweep: a leaver holds a HubSpot account; removing it")
		}
	}
	for chunk := range slices.Chunk(fixes, 500) {
		err := e.store.Update(ctx, func(tx store.Tx) error {
			for _, d := range chunk {
				ok, err := tx.TouchProvisioningOf(d.UserID)
				if err != nil {
					return err
				}
				if ok {
					res.Requeued++
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("re-queuing users: %w", err)
		}
	}
	if res.Requeued > 0 {
		e.kick()
	}
	return nil
}

// errSweepSkipped: the daily budget is low, the sweep waits for the reset.
var errSweepSkipped = errors.New("sweep skipped")

// limiter is the HubSpot client's rate limiter, when it exposes one.
func (e *Engine) limiter() *hubspot.Limiter {
	if l, ok := e.hs.(interface{ Limiter() *hubspot.Limiter }); ok {
		return l.Limiter()
	}
	return nil
}

// paceSweep keeps the sweep to half the rolling rate window, so that SCIM
// changes reaching HubSpot never wait behind it: before each page it waits
// while half the window is used.
func (e *Engine) paceSweep(ctx context.Context, lim *hubspot.Limiter) error {
	if lim == nil {
		return nil
	}
	for {
		st := lim.State()
		if st.Limit <= 0 || st.Used < max(st.Limit/2, 1) {
			return nil
		}
		if err := sleep(ctx, max(st.Interval/20, 10*time.Millisecond)); err != nil {
			return err
		}
	}
}

// compare finds the difference between what HubSpot holds for a row's
// user and its desired state. Work already queued is left to the
// workers, who read HubSpot anyway.
func (e *Engine) compare(r sweptRow, byID, byEmail map[string]*hubspot.User, linked map[string]bool) (SweepDifference, bool) {
	d := r.d
	diff := SweepDifference{UserID: r.userID, Email: d.Email}
	if r.queued || (r.state == StateSkipped && r.hubspotID != "") {
		return diff, false
	}
	e.mu.Lock()
	busy := e.inflight[r.userID]
	e.mu.Unlock()
	if busy {
		return diff, false
	}
	var have *hubspot.User
	if r.hubspotID != "" {
		have = byID[r.hubspotID]
	}
	if have == nil && d.Email != "" {
		// Not linked, or the linked account is gone: an account under the
		// address that no other bridge user holds is this user's.
		if u := byEmail[emailKey(d.Email)]; u != nil && !linked[u.ID] {
			have = u
		}
	}
	if have != nil && have.SuperAdmin {
		return diff, false // the bridge never touches super admins
	}
	if have != nil {
		diff.HubSpotID = have.ID
	}
	switch {
	case !d.Present && have != nil:
		diff.Kind = DiffLeaverPresent
		diff.Detail = "should have no HubSpot account (" + orDash(d.Reason) + ")"
	case !d.Present:
		return diff, false
	case have == nil && r.hubspotID != "":
		diff.Kind, diff.HubSpotID = DiffMissing, r.hubspotID
		diff.Detail = "the linked HubSpot account is gone"
	case have == nil:
		return diff, false // never made (refused, or no email): the row says why
	case have.ID != r.hubspotID:
		diff.Kind = DiffUnmanagedMatch
		diff.Detail = "an account the bridge holds no link to has the user's address"
	default:
		upd := diffUpdate(have, d)
		var what []string
		if upd.RoleID != nil {
			what = append(what, "role")
		}
		if upd.PrimaryTeamID != nil {
			what = append(what, "main team")
		}
		if upd.SecondaryTeamIDs != nil {
			what = append(what, "additional teams")
		}
		if len(what) == 0 {
			return diff, false
		}
		diff.Kind = DiffWrongAccess
		diff.Detail = strings.Join(what, ", ") + " differ"
	}
	return diff, true
}

func appendFound(found []SweepDifference, d SweepDifference) []SweepDifference {
	if len(found) >= maxFound {
		return found
	}
	return append(found, d)
}

// emailKey is how the sweep matches HubSpot's addresses with the bridge's:
// HubSpot compares emails without regard to case.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// SweepNow implements the admin API's run: POST /admin/v1/sweep.
func (e *Engine) SweepNow(ctx context.Context, force, dryRun bool) (*SweepResult, error) {
	res, err := e.Sweep(ctx, SweepOptions{Force: force, DryRun: dryRun})
	if errors.Is(err, ErrSweepBusy) {
		return nil, &schemas.Error{Code: schemas.ECONFLICT, Message: "A drift sweep is running; try again when it has finished."}
	}
	if err != nil && ctx.Err() == nil {
		// The sweep could not read HubSpot or the store: say why.
		return nil, &schemas.Error{Code: schemas.EUNAVAILABLE, Message: err.Error()}
	}
	return res, err
}

// SweepReport implements the admin API's view: GET /admin/v1/sweep.
func (e *Engine) SweepReport(ctx context.Context) (*SweepStatus, error) { return e.SweepStatus(ctx) }
