package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// HubSpot is what the engine needs of the HubSpot client.
type HubSpot interface {
	GetUser(ctx context.Context, id string) (*hubspot.User, error)
	GetUserByEmail(ctx context.Context, email string) (*hubspot.User, error)
	CreateUser(ctx context.Context, in hubspot.UserCreate) (*hubspot.User, error)
	UpdateUser(ctx context.Context, id string, in hubspot.UserUpdate) (*hubspot.User, error)
	DeleteUser(ctx context.Context, id string) error
	ListUsers(ctx context.Context, after string, limit int) ([]hubspot.User, string, error)
	Roles(ctx context.Context) ([]hubspot.Role, error)
	Teams(ctx context.Context) ([]hubspot.Team, error)
}

// Provisioning states shown in the HubSpot extension and the status API.
const (
	StatePending = "pending" // HubSpot work is queued or being retried
	StateSynced  = "synced"  // HubSpot matches the desired state
	StateFailed  = "failed"  // HubSpot refused; parked until the next change or periodic retry
	StateSkipped = "skipped" // a super admin, or nothing to provision (no email)
	StateRemoved = "removed" // the HubSpot user was removed (leaver)
	// StateDeferred: everything is in place but a name change, which
	// HubSpot refuses until the user accepts the invitation, or profile
	// attributes whose CRM record HubSpot has not made; tried again after
	// RetryDeferredAfter.
	StateDeferred = "deferred"
	// StateProfileQueued (provisioning rows only; the extension shows
	// pending): the Settings user is in place and its profile attributes
	// are with the profile writer.
	StateProfileQueued = "profile-queued"
	// StateVerifying (provisioning rows only; the extension shows
	// removed): the HubSpot user is removed, and HubSpot is read again
	// once VerifyRemovalAfter has passed, in case an earlier call that
	// timed out commits late and brings the leaver back.
	StateVerifying = "verifying"
)

// EngineConfig configures the provisioning engine. The YAML-tagged fields
// are, with Policy, the provisioning section of scimbridge's configuration
// file; the others are set by the program.
type EngineConfig struct {
	// Workers is the number of users worked on at once (default 4, at most
	// 64). All share the HubSpot client's rate limiter.
	Workers int `yaml:"workers"`
	// Wait bounds how long a SCIM request waits for its users' HubSpot
	// work before answering (default 10 s; 0 keeps the default, a negative
	// value disables waiting). Transient trouble stays queued and retried.
	Wait time.Duration `yaml:"wait"`
	// RetryFailedAfter is when a permanently failed user is tried again
	// without a change (default 1 h).
	RetryFailedAfter time.Duration `yaml:"retry_failed_after"`
	// RetryDeferredAfter is when HubSpot work that waits on HubSpot is
	// tried again (default 30 min): a name change of a user who has not
	// accepted the invitation, profile attributes whose CRM record HubSpot
	// has not made yet.
	RetryDeferredAfter time.Duration `yaml:"retry_deferred_after"`
	// VerifyRemovalAfter is how long after a removal HubSpot is read
	// again to verify it, in case a call that timed out earlier commits
	// late and brings the leaver back (default: the HubSpot client's
	// timeout and a minute's margin; see SetDefaults).
	VerifyRemovalAfter time.Duration `yaml:"verify_removal_after"`
	// CatalogRefresh is how often HubSpot's roles and teams are re-read
	// (default 10 min).
	CatalogRefresh time.Duration `yaml:"catalog_refresh"`
	// MaxBackoff caps the retry delay of transient failures (default 5 min).
	MaxBackoff time.Duration `yaml:"-"`
	// ManageTeams makes SCIM groups HubSpot teams: a group's creation,
	// rename and deletion create, rename and delete a team of the same
	// name (HubSpot's Teams API and the settings.users.teams.write scope).
	// Off, groups drive teams only through the mapping rules.
	ManageTeams bool `yaml:"manage_teams"`
	// Profile writes profile attributes to HubSpot's CRM users object (the
	// file's profile section).
	Profile ProfileConfig `yaml:"-"`
	// SweepInterval is how often the drift sweep reads all of HubSpot's
	// users (100 per call) and re-queues every difference from the desired
	// state: a leaver back in HubSpot, a wrong role or team, an account
	// made by hand for a bridge user (default 10 min; negative: never on
	// its own, Sweep still runs one).
	SweepInterval time.Duration `yaml:"sweep_interval"`
	// SweepGuard holds back a sweep's removals when they are many, as
	// the reconcile's deletion guard does.
	SweepGuard SweepGuard `yaml:"-"`
	// Metrics receives the engine's Prometheus series; may be nil.
	Metrics prometheus.Registerer `yaml:"-"`
	Now     func() time.Time      `yaml:"-"`
}

// DefaultWorkers is the default number of users worked on at once.
const DefaultWorkers = 4

// SetDefaults fills the settings left at zero. clientTimeout is the
// HubSpot client's timeout of one call: a call the client gave up on may
// still commit within it, so removals are verified a minute after it.
func (c *EngineConfig) SetDefaults(clientTimeout time.Duration) {
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Wait == 0 {
		c.Wait = 10 * time.Second
	}
	if c.RetryFailedAfter <= 0 {
		c.RetryFailedAfter = time.Hour
	}
	if c.RetryDeferredAfter <= 0 {
		c.RetryDeferredAfter = 30 * time.Minute
	}
	if c.VerifyRemovalAfter <= 0 {
		c.VerifyRemovalAfter = clientTimeout + time.Minute
	}
	if c.CatalogRefresh <= 0 {
		c.CatalogRefresh = 10 * time.Minute
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	c.SweepGuard.setDefaults()
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports the settings SetDefaults leaves wrong, each starting
// with its YAML key.
func (c *EngineConfig) Validate() []error {
	if c.Workers < 1 || c.Workers > 64 {
		return []error{errors.New("workers: must be between 1 and 64")}
	}
	return nil
}

// setDefaults is SetDefaults for a client on the default timeout, taking
// a negative worker count as the default too.
func (c *EngineConfig) setDefaults() {
	if c.Workers < 0 {
		c.Workers = DefaultWorkers
	}
	c.SetDefaults(hubspot.DefaultTimeout)
}

// Engine keeps HubSpot in step with the store: level-triggered workers pick
// users whose desired state is ahead of what was applied, read HubSpot's
// actual state, send only the difference and record the outcome.
type Engine struct {
	cfg      EngineConfig
	store    store.Store
	hs       HubSpot
	teams    Teams    // nil unless teams are managed
	profiles Profiles // nil unless profile attributes are written
	profile  ProfileConfig
	rules    *Rules
	log      zerolog.Logger

	catalog atomic.Pointer[Catalog]
	wake    chan struct{}
	// profileWriter writes profile attributes in batches; nil without
	// profiles.
	profileWriter *profileWriter

	mu       sync.Mutex
	inflight map[string]bool
	waiters  map[string][]chan struct{}

	stats   engineStats
	metrics *metrics
	sweeps  sweeper
}

type engineStats struct {
	applied, failed, retried atomic.Int64
}

// NewEngine returns an engine; Run starts it.
func NewEngine(cfg EngineConfig, st store.Store, hs HubSpot, rules *Rules, log zerolog.Logger) (*Engine, error) {
	cfg.setDefaults()
	rules.SetDefaults()
	if errs := rules.Validate(); len(errs) > 0 {
		return nil, fmt.Errorf("provision: mapping rules: %w", errors.Join(errs...))
	}
	var teams Teams
	if cfg.ManageTeams {
		t, ok := hs.(Teams)
		if !ok {
			return nil, errors.New("provision: managing teams needs a HubSpot client with the beta Teams API")
		}
		teams = t
	}
	var profiles Profiles
	if cfg.Profile.Enabled() {
		if errs := cfg.Profile.Validate(); len(errs) > 0 {
			return nil, fmt.Errorf("provision: %w", errors.Join(errs...))
		}
		p, ok := hs.(Profiles)
		if !ok {
			return nil, errors.New("provision: profile attributes need a HubSpot client with the CRM users object")
		}
		profiles = p
		if cfg.Profile.LinkProperty == "" {
			cfg.Profile.LinkProperty = hubspot.DefaultCRMLinkProperty
		}
	}
	e := &Engine{
		cfg: cfg, store: st, hs: hs, teams: teams, profiles: profiles, profile: cfg.Profile, rules: rules, log: log,
		wake: make(chan struct{}, 1), inflight: map[string]bool{}, waiters: map[string][]chan struct{}{},
	}
	e.metrics = newMetrics(cfg.Metrics, st, cfg.Now)
	if profiles != nil {
		e.profileWriter = newProfileWriter(e)
	}
	return e, nil
}

// Catalog returns HubSpot's roles and teams as last read, or nil.
func (e *Engine) Catalog() *Catalog { return e.catalog.Load() }

// LoadCatalog reads HubSpot's roles and teams and checks the rules against
// them. It returns the problems found (unknown roles or teams); the
// catalogue is installed even then, so rules that do resolve work.
func (e *Engine) LoadCatalog(ctx context.Context) ([]error, error) {
	roles, err := e.hs.Roles(ctx)
	if err != nil {
		return nil, fmt.Errorf("provision: reading HubSpot roles: %w", err)
	}
	teams, err := e.hs.Teams(ctx)
	if err != nil {
		return nil, fmt.Errorf("provision: reading HubSpot teams: %w", err)
	}
	c := &Catalog{Roles: roles, Teams: teams}
	old := e.catalog.Swap(c)
	if old != nil && !sameCatalog(old, c) {
		n, err := e.touchAll(ctx)
		if err != nil {
			return nil, err
		}
		e.log.Info().Int("users", n).Msg("HubSpot roles or teams changed; re-checking every user")
	}
	problems := e.rules.Check(c)
	if more, err := e.checkProfileProperties(ctx); err != nil {
		e.log.Warn().Err(err).Msg("reading HubSpot's users-object properties")
	} else {
		problems = append(problems, more...)
	}
	return problems, nil
}

func sameCatalog(a, b *Catalog) bool {
	role := func(r hubspot.Role) string { return r.ID + "\x00" + r.Name }
	team := func(t hubspot.Team) string { return t.ID + "\x00" + t.Name }
	ra, rb := mapSorted(a.Roles, role), mapSorted(b.Roles, role)
	ta, tb := mapSorted(a.Teams, team), mapSorted(b.Teams, team)
	return slices.Equal(ra, rb) && slices.Equal(ta, tb)
}

func mapSorted[T any](in []T, f func(T) string) []string {
	out := make([]string, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	slices.Sort(out)
	return out
}

func (e *Engine) touchAll(ctx context.Context) (int, error) {
	var n int
	err := e.store.Update(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.TouchProvisioning()
		return err
	})
	e.kick()
	return n, err
}

// kick wakes the dispatcher.
func (e *Engine) kick() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx ends: it loads the catalogue (retrying while HubSpot
// is unreachable), then dispatches due users to the workers.
func (e *Engine) Run(ctx context.Context) error {
	for attempt := 0; e.catalog.Load() == nil; attempt++ {
		problems, err := e.LoadCatalog(ctx)
		if err == nil {
			for _, p := range problems {
				e.log.Error().Err(p).Msg("mapping rule names something HubSpot lacks")
			}
			break
		}
		e.log.Warn().Err(err).Msg("HubSpot catalogue unavailable; retrying")
		if sleep(ctx, backoff(attempt, 30*time.Second)) != nil {
			return ctx.Err()
		}
	}
	jobs := make(chan *store.Provisioning)
	var wg sync.WaitGroup
	for range e.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				e.work(ctx, p)
			}
		}()
	}
	if e.profileWriter != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.profileWriter.run(ctx)
		}()
	}
	go e.refreshLoop(ctx)
	go e.sweepLoop(ctx)
	err := e.dispatch(ctx, jobs)
	close(jobs)
	wg.Wait()
	return err
}

func (e *Engine) refreshLoop(ctx context.Context) {
	t := time.NewTicker(e.cfg.CatalogRefresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if problems, err := e.LoadCatalog(ctx); err != nil {
				e.log.Warn().Err(err).Msg("refreshing the HubSpot catalogue")
			} else {
				for _, p := range problems {
					e.log.Error().Err(p).Msg("mapping rule names something HubSpot lacks")
				}
			}
		}
	}
}

// dispatch hands due users to workers, one worker per user at a time.
func (e *Engine) dispatch(ctx context.Context, jobs chan<- *store.Provisioning) error {
	for {
		due, err := e.store.DueProvisioning(ctx, e.cfg.Now(), 256)
		if err != nil && ctx.Err() == nil {
			e.log.Error().Err(err).Msg("listing due provisioning work")
		}
		sent := 0
		for _, p := range due {
			if !e.claim(p.UserID) {
				continue
			}
			select {
			case jobs <- p:
				sent++
			case <-ctx.Done():
				return nil
			}
		}
		if sent > 0 && len(due) == 256 {
			continue // more is due: keep the workers fed
		}
		// Idle, look again every idlePoll: work may come from another
		// process sharing the store (scimbridge sync).
		wait := idlePoll
		if next, ok, err := e.store.NextProvisioningDue(ctx); err == nil && ok {
			wait = max(min(next.Sub(e.cfg.Now()), idlePoll), 10*time.Millisecond)
		}
		if sent > 0 {
			wait = min(wait, 50*time.Millisecond)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-e.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// work carries out one row's HubSpot work and records the outcome. A
// user whose profile attributes went to the profile writer stays in
// flight until the writer has recorded the outcome and released it.
func (e *Engine) work(ctx context.Context, p *store.Provisioning) {
	var (
		handedOff bool
		err       error
	)
	if p.Kind == store.KindTeam {
		err = e.workTeam(ctx, p.UserID)
	} else {
		handedOff, err = e.workUser(ctx, p.UserID)
	}
	if err != nil && ctx.Err() == nil {
		e.log.Error().Err(err).Str("key", p.UserID).Str("kind", string(p.Kind)).Msg("provisioning")
	}
	if !handedOff {
		e.release(p.UserID)
	}
}

// release ends a user's work: the dispatcher may pick it again, and
// requests waiting for it look at its row.
func (e *Engine) release(userID string) {
	e.mu.Lock()
	delete(e.inflight, userID)
	e.mu.Unlock()
	e.notify(userID)
	e.kick()
}

// notify wakes the requests waiting for a user: they look at its row.
func (e *Engine) notify(userID string) {
	e.mu.Lock()
	ws := e.waiters[userID]
	delete(e.waiters, userID)
	e.mu.Unlock()
	for _, w := range ws {
		close(w)
	}
}

// settledState reports whether a row's state ends a wait although its
// version is not applied: refused, deferred, in place but for the
// profile attributes, or removed and waiting to be verified.
func settledState(state string) bool {
	return state == StateFailed || state == StateDeferred || state == StateProfileQueued || state == StateVerifying
}

// WaitFor waits until the user's desired version v has been worked on
// (applied, refused, deferred, or in place but for the profile) or until the engine's wait bound or ctx ends, and
// returns the provisioning row as it then stands.
func (e *Engine) WaitFor(ctx context.Context, userID string, v int64) (*store.Provisioning, error) {
	if e.cfg.Wait < 0 {
		return e.store.GetProvisioning(ctx, userID)
	}
	deadline := time.NewTimer(e.cfg.Wait)
	defer deadline.Stop()
	for {
		ch := make(chan struct{})
		e.mu.Lock()
		e.waiters[userID] = append(e.waiters[userID], ch)
		e.mu.Unlock()
		p, err := e.store.GetProvisioning(ctx, userID)
		if err != nil || p.AppliedVersion >= v || (p.AttemptedVersion >= v && settledState(p.State)) {
			e.dropWaiter(userID, ch)
			return p, err
		}
		e.kick()
		select {
		case <-ch:
		case <-deadline.C:
			e.dropWaiter(userID, ch)
			return e.store.GetProvisioning(ctx, userID)
		case <-ctx.Done():
			e.dropWaiter(userID, ch)
			return nil, ctx.Err()
		}
	}
}

func (e *Engine) dropWaiter(userID string, ch chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ws := e.waiters[userID]
	for i, w := range ws {
		if w == ch {
			e.waiters[userID] = slices.Delete(ws, i, i+1)
			break
		}
	}
	if len(e.waiters[userID]) == 0 {
		delete(e.waiters, userID)
	}
}

// desire computes and stores a user's desired state inside a write
// transaction. u is nil for a deleted user. It returns the row.
func (e *Engine) desire(tx store.Tx, userID string, u *schemas.User) (*store.Provisioning, bool, error) {
	prev, err := tx.GetProvisioning(userID)
	if err != nil && store.ErrorCode(err) != store.ENOTFOUND {
		return nil, false, err
	}
	var last Desired
	if prev != nil {
		if err := json.Unmarshal(prev.Desired, &last); err != nil {
			// The new state is computed from the user; only the address
			// HubSpot knew a deleted user by is lost, and the worker finds
			// the account by its stored id instead.
			e.log.Error().Err(err).Str("user_id", userID).Msg("the stored desired state does not decode; computing it from the user alone")
			last = Desired{}
		}
	}
	if u == nil && prev == nil {
		return nil, false, nil // never provisioned: nothing to remove
	}
	var groups []string
	if u != nil {
		for _, g := range u.Groups {
			groups = append(groups, g.Display)
		}
	}
	c := e.catalog.Load()
	if c == nil {
		c = &Catalog{} // resolved by the worker once HubSpot answers
	}
	d := DesiredState(u, last.Email, groups, e.rules, c)
	if d.Present && e.profile.Enabled() {
		d.Profile = ProfileValues(u, e.managerEmail(tx, u), &e.profile)
	}
	data, err := json.Marshal(d)
	if err != nil {
		return nil, false, err
	}
	p, changed, err := tx.SetDesired(userID, data)
	if err != nil {
		return nil, false, err
	}
	if changed {
		tx.AfterCommit(e.kick) // new work: wake the dispatcher once it is visible
		if u != nil {
			// Show the new work as pending from the transaction that
			// queues it, so an answer given before HubSpot is done (the
			// wait ran out) says so.
			ext := schemas.HubSpotExt{}
			if u.HubSpot != nil {
				ext = *u.HubSpot
			}
			ext.ProvisioningState, ext.LastError, ext.NextAttemptAt = StatePending, "", nil
			if err := tx.SetHubSpotExt(userID, &ext); err != nil {
				return nil, false, err
			}
		}
	}
	// The reports' manager property is this user's email: when it appears,
	// changes or goes (the user created, given a new address, deleted),
	// compute theirs again in the same transaction.
	before, after := "", ""
	if prev != nil && last.Reason != ReasonDeleted {
		before = last.Email
	}
	if u != nil {
		after = EmailOf(u)
	}
	if before != after {
		if err := e.desireReports(tx, userID); err != nil {
			return nil, false, err
		}
	}
	return p, changed, nil
}

// desireReports computes again the desired state of the users whose
// manager is managerID, when the manager property is written at all.
func (e *Engine) desireReports(tx store.Tx, managerID string) error {
	if !e.profile.Maps(AttrManager) {
		return nil
	}
	ids, err := tx.ReportsOf(managerID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if id == managerID {
			continue // their own manager: done already
		}
		r, err := tx.GetUser(id, true)
		if store.ErrorCode(err) == store.ENOTFOUND {
			continue
		}
		if err != nil {
			return err
		}
		if _, _, err := e.desire(tx, id, r); err != nil {
			return err
		}
	}
	return nil
}

// idlePoll bounds how long the dispatcher sleeps without being woken.
const idlePoll = 2 * time.Second

func backoff(attempt int, limit time.Duration) time.Duration {
	d := time.Second << min(attempt, 20)
	return min(d, limit)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Status is the provisioning queue as /admin/v1/provisioning shows it.
type Status struct {
	// Counts are users by provisioning state; "_pending" counts those
	// with HubSpot work queued.
	Counts         map[string]int `json:"counts"`
	CatalogLoaded  bool           `json:"catalogLoaded"`
	Applied        int64          `json:"applied"`
	Retried        int64          `json:"retried"`
	Refused        int64          `json:"refused"`
	NextRetry      *time.Time     `json:"nextRetry,omitempty"`
	MappingProblem []string       `json:"mappingProblems,omitempty"`
	// EmailDiffers counts the users whose HubSpot account keeps another
	// email than theirs (email_change keep: HubSpot cannot change it);
	// EmailDifferences lists the first of them.
	EmailDiffers     int               `json:"emailDiffers"`
	EmailDifferences []EmailDifference `json:"emailDifferences,omitempty"`
}

// EmailDifference is a user whose HubSpot account has another email. It
// ends when the address is changed in HubSpot (the bridge then sees them
// match) or an admin has the account recreated.
type EmailDifference struct {
	UserID       string `json:"userId"`
	UserName     string `json:"userName"`
	Email        string `json:"email"`
	HubSpotID    string `json:"hubspotUserId"`
	HubSpotEmail string `json:"hubspotEmail"`
}

// maxEmailDifferences bounds the list in the status.
const maxEmailDifferences = 100

// ProvisioningStatus reports the queue.
func (e *Engine) ProvisioningStatus(ctx context.Context) (*Status, error) {
	counts, err := e.store.ProvisioningCounts(ctx)
	if err != nil {
		return nil, err
	}
	st := &Status{Counts: counts, CatalogLoaded: e.catalog.Load() != nil,
		Applied: e.stats.applied.Load(), Retried: e.stats.retried.Load(), Refused: e.stats.failed.Load()}
	if next, ok, err := e.store.NextProvisioningDue(ctx); err == nil && ok {
		st.NextRetry = &next
	}
	if c := e.catalog.Load(); c != nil {
		for _, p := range e.rules.Check(c) {
			st.MappingProblem = append(st.MappingProblem, p.Error())
		}
	}
	page, err := e.store.QueryUsers(ctx, schemas.Query{Filter: schemas.Present(schemas.HubSpotURI, "hubspotEmail"), StartIndex: 1, Count: maxEmailDifferences})
	if err != nil {
		return nil, err
	}
	st.EmailDiffers = page.Total
	for _, u := range page.Users {
		if u.HubSpot == nil {
			continue
		}
		st.EmailDifferences = append(st.EmailDifferences, EmailDifference{UserID: u.ID, UserName: u.UserName,
			Email: EmailOf(u), HubSpotID: u.HubSpot.HubSpotUserID, HubSpotEmail: u.HubSpot.HubSpotEmail})
	}
	return st, nil
}

// managerEmail is the address of a user's manager, for the manager
// profile property.
func (e *Engine) managerEmail(tx store.Tx, u *schemas.User) string {
	if u == nil || u.Enterprise == nil || u.Enterprise.Manager == nil || u.Enterprise.Manager.Value == "" {
		return ""
	}
	m, err := tx.GetUser(u.Enterprise.Manager.Value, false)
	if err != nil {
		return ""
	}
	return EmailOf(m)
}

// Recreate replaces the HubSpot user linked to userID, which keeps an
// older email (email_change keep; HubSpot cannot change a user's email),
// with one under the user's current email: the old account is removed
// from the portal and the workers create the new one with the user's
// role, teams and profile. It is an admin's choice for one user, recorded
// in the audit trail under actor. It answers a *Recreated once the new
// account is made or the engine's wait runs out.
func (e *Engine) Recreate(ctx context.Context, actor schemas.Actor, userID string) (*Recreated, error) {
	u, row, err := e.recreatable(ctx, userID)
	if err != nil {
		return nil, err
	}
	if !e.claim(userID) {
		return nil, schemas.Errorf(schemas.ECONFLICT, "user %s is being provisioned right now; try again in a moment", userID)
	}
	released := false
	defer func() {
		if !released {
			e.release(userID)
		}
	}()
	want := EmailOf(u)
	old, err := e.removeToRecreate(ctx, row, want)
	if err != nil {
		return nil, err
	}
	version, err := e.queueRecreate(context.WithoutCancel(ctx), actor, row, want, old)
	if err != nil {
		return nil, err
	}
	released = true
	e.release(userID)
	p, err := e.WaitFor(ctx, userID, version)
	if err != nil {
		return nil, err
	}
	out := &Recreated{UserID: userID, Email: want, HubSpotID: p.HubSpotID, State: p.State, LastError: p.LastError}
	if old != nil {
		out.ReplacedHubSpotID, out.ReplacedEmail = old.ID, old.Email
	}
	return out, nil
}

// claim marks a row as in work, so that neither the dispatcher nor an
// admin's Recreate takes it up meanwhile; false when it is in work
// already. release ends the claim.
func (e *Engine) claim(key string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.inflight[key] {
		return false
	}
	e.inflight[key] = true
	return true
}

// recreatable reads the user to recreate and its row, which must link a
// HubSpot account.
func (e *Engine) recreatable(ctx context.Context, userID string) (*schemas.User, *store.Provisioning, error) {
	u, err := e.store.GetUser(ctx, userID, false)
	if err != nil {
		return nil, nil, err
	}
	row, err := e.store.GetProvisioning(ctx, userID)
	if store.ErrorCode(err) == store.ENOTFOUND || (err == nil && row.HubSpotID == "") {
		return nil, nil, schemas.Errorf(schemas.EINVALID, "user %s has no HubSpot account to recreate", userID)
	}
	if err != nil {
		return nil, nil, err
	}
	return u, row, nil
}

// removeToRecreate removes the HubSpot account row links, unless it is a
// super admin or has the address want already. It returns the account
// removed, nil when it was gone already.
func (e *Engine) removeToRecreate(ctx context.Context, row *store.Provisioning, want string) (*hubspot.User, error) {
	old, err := e.hs.GetUser(ctx, row.HubSpotID)
	switch {
	case hubspot.IsNotFound(err):
		return nil, nil // gone already: only the link is left to clear
	case err != nil:
		return nil, fmt.Errorf("provision: reading HubSpot user %s: %w", row.HubSpotID, err)
	case old.SuperAdmin:
		return nil, schemas.Errorf(schemas.EINVALID, "HubSpot user %s is a super admin: the bridge never modifies super admins", old.ID)
	case strings.EqualFold(old.Email, want):
		return nil, schemas.Errorf(schemas.EINVALID, "HubSpot user %s already has the email %s: nothing to recreate", old.ID, want)
	}
	if err := e.hs.DeleteUser(ctx, old.ID); err != nil && !hubspot.IsNotFound(err) {
		return nil, fmt.Errorf("provision: removing HubSpot user %s: %w", old.ID, err)
	}
	e.stats.applied.Add(1)
	return old, nil
}

// queueRecreate clears the row's link, makes it due again for the
// workers to create the account under want, and records the admin's
// choice in the audit trail. It returns the desired version to wait for.
func (e *Engine) queueRecreate(ctx context.Context, actor schemas.Actor, row *store.Provisioning, want string, old *hubspot.User) (int64, error) {
	userID := row.UserID
	var version int64
	err := e.store.Update(ctx, func(tx store.Tx) error {
		if err := tx.RecordOutcome(userID, store.Outcome{Version: row.DesiredVersion, Done: true, State: StatePending}); err != nil {
			return err
		}
		if _, err := tx.TouchProvisioningOf(userID); err != nil {
			return err
		}
		if err := tx.SetHubSpotExt(userID, &schemas.HubSpotExt{ProvisioningState: StatePending}); err != nil {
			return err
		}
		p, err := tx.GetProvisioning(userID)
		if err != nil {
			return err
		}
		version = p.DesiredVersion
		detail := "HubSpot user recreated under " + want
		if old != nil {
			detail += ", replacing " + old.ID + " (" + old.Email + ")"
		}
		return tx.AddAudit(&store.AuditRecord{Actor: actor.Name, RequestID: actor.RequestID, Action: "recreate",
			ResourceType: kindUser, ResourceID: userID, Detail: detail})
	})
	return version, err
}

// Recreated is the answer of Recreate.
type Recreated struct {
	UserID            string `json:"userId"`
	Email             string `json:"email"`
	HubSpotID         string `json:"hubspotUserId,omitempty"`
	State             string `json:"provisioningState"`
	LastError         string `json:"lastError,omitempty"`
	ReplacedHubSpotID string `json:"replacedHubspotUserId,omitempty"`
	ReplacedEmail     string `json:"replacedEmail,omitempty"`
}
