package hubspotsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// Config configures a simulator. The zero value is usable: the default
// seed, HubSpot's Free/Starter limits, no faults, a strict portal
// (Behaviour), the wall clock.
type Config struct {
	// Seed is the portal's starting content and its tokens; nil means
	// DefaultSeed().
	Seed *Seed
	// Limits, when not the zero value, replace the seed's limits. Zero
	// fields take HubSpot's defaults (100 requests / 10 s, 250,000 / day).
	Limits Limits
	// Faults to inject from the start.
	Faults Faults
	// Behaviour is how strictly the portal behaves where a real one is
	// stricter, slower or lags; the zero value is strict, Loose() the
	// permissive preset.
	Behaviour Behaviour
	// Now is the clock for rate limits, login times and eventual
	// consistency; nil means time.Now. Latency and timeouts always sleep in
	// real time.
	Now func() time.Time
	// RandSeed seeds the fault dice when Faults.Seed is 0 (0 means 1), so
	// a run is reproducible.
	RandSeed int64
	// Log receives one debug line per API call and the inspection
	// changes; the zero value logs nothing.
	Log zerolog.Logger
}

// Sim is a simulated HubSpot portal. It is safe for concurrent use.
type Sim struct {
	now    func() time.Time
	log    zerolog.Logger
	tokens map[string]*token // read-only after New

	mu sync.RWMutex
	db *db
	// crm is the CRM users object (crm.go), guarded by mu like db.
	crm *crmStore

	limits *limiter
	faults *faultBox
	stats  *statsBox
	// behaviour is the current Behaviour, defaults resolved; never nil.
	behaviour atomic.Pointer[Behaviour]
	mux       *http.ServeMux
}

// token is an access token (private app, service key or OAuth) and what it
// may do. Rate limits apply per app.
type token struct {
	app    string
	scopes map[string]bool
	oauth  bool
}

func (t *token) anyOf(scopes []string) bool {
	for _, s := range scopes {
		if t.scopes[s] {
			return true
		}
	}
	return len(scopes) == 0
}

// Scopes, as HubSpot names them.
const (
	ScopeUsersRead      = "settings.users.read"
	ScopeUsersWrite     = "settings.users.write"
	ScopeCRMUsersRead   = "crm.objects.users.read"
	ScopeCRMUsersWrite  = "crm.objects.users.write"
	ScopeTeamsRead      = "settings.users.teams.read"
	ScopeTeamsWrite     = "settings.users.teams.write"
	ScopeBillingWrite   = "settings.billing.write"
	ScopeSecurityRead   = "account-info.security.read"
	defaultListLimit    = 100
	maxLoginLimit       = 200
	maxRequestBodyBytes = 1 << 20
)

// New builds a simulator from cfg.
func New(cfg Config) (*Sim, error) {
	seed := cfg.Seed
	if seed == nil {
		seed = DefaultSeed()
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	lim := cfg.Limits
	if lim == (Limits{}) {
		lim = seed.Limits
	}
	if err := lim.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Faults.validate(); err != nil {
		return nil, err
	}
	if err := cfg.Behaviour.validate(); err != nil {
		return nil, err
	}
	s := &Sim{now: now, log: cfg.Log, tokens: map[string]*token{}}
	b := cfg.Behaviour.resolved()
	s.behaviour.Store(&b)
	d, err := seed.build(now(), s.tokens)
	if err != nil {
		return nil, err
	}
	s.db = d
	if s.crm, err = seed.buildCRM(d, now()); err != nil {
		return nil, err
	}
	s.limits = newLimiter(lim)
	s.faults = newFaultBox(cfg.Faults, cfg.RandSeed, now())
	s.stats = newStatsBox(now())
	s.routes()
	return s, nil
}

// Handler serves the HubSpot API under its real paths and the inspection
// endpoints under /_sim/.
func (s *Sim) Handler() http.Handler { return s.mux }

func (s *Sim) routes() {
	s.mux = http.NewServeMux()
	userVersions := []string{"v3", "2026-03", "2026-09", "2026-09-beta"}
	teamVersions := []string{"2026-09", "2026-09-beta"}
	loginVersions := []string{"v3", "2026-03", "2026-09"}
	// Scopes per operation, from the specs' security blocks: reads take
	// settings.users.read or crm.objects.users.read, writes
	// settings.users.write or crm.objects.users.write.
	usersRead := []string{ScopeUsersRead, ScopeCRMUsersRead}
	usersWrite := []string{ScopeUsersWrite, ScopeCRMUsersWrite}
	teamsRead := []string{ScopeTeamsRead}
	teamsWrite := []string{ScopeTeamsWrite}

	// Users: /settings/users/{version} for 2026-03 and 2026-09-beta, and
	// for v3 both /settings/v3/users (the docs) and /settings/users/v3
	// (the v3 spec's own list/create path).
	for _, base := range []string{"/settings/users/{version}", "/settings/v3/users"} {
		for _, root := range []string{base, base + "/{$}"} {
			s.route("GET "+root, userVersions, usersRead, s.listUsers)
			s.route("POST "+root, userVersions, usersWrite, s.crmFollow(s.createUser))
		}
		s.route("GET "+base+"/roles", userVersions, usersRead, s.listRoles)
		s.route("GET "+base+"/teams", userVersions, teamsRead, s.listUserTeams)
		s.route("GET "+base+"/{userId}", userVersions, usersRead, s.getUser)
		// crmFollow: the user's CRM users-object record follows (crm.go).
		s.route("PUT "+base+"/{userId}", userVersions, usersWrite, s.crmFollow(s.updateUser))
		s.route("DELETE "+base+"/{userId}", userVersions, usersWrite, s.crmFollow(s.deleteUser))
	}

	// Teams API (PublicApiSpecs/Settings/Teams/Rollouts/325899): 2026-09
	// is published as GA beside 2026-09-beta, with the same paths, bodies
	// and scopes (the GA file only adds descriptions), so one set of
	// handlers serves both.
	tb := "/settings/teams/{version}"
	for _, root := range []string{tb, tb + "/{$}"} {
		s.route("GET "+root, teamVersions, teamsRead, s.listTeams)
		s.route("POST "+root, teamVersions, teamsWrite, s.createTeam)
	}
	s.route("GET "+tb+"/{teamId}", teamVersions, teamsRead, s.getTeam)
	s.route("PATCH "+tb+"/{teamId}", teamVersions, teamsWrite, s.updateTeam)
	s.route("DELETE "+tb+"/{teamId}", teamVersions, teamsWrite, s.deleteTeam)
	s.route("GET "+tb+"/{teamId}/members", teamVersions, teamsRead, s.listMembers)
	s.route("POST "+tb+"/{teamId}/members", teamVersions, teamsWrite, s.addMember)
	s.route("POST "+tb+"/{teamId}/members/batch", teamVersions, teamsWrite, s.addMembersBatch)
	s.route("DELETE "+tb+"/{teamId}/members/{userId}", teamVersions, teamsWrite, s.removeMember)

	// Login activity (PublicApiSpecs/Account/Audit Logs).
	s.route("GET /account-info/{version}/activity/login", loginVersions, []string{ScopeSecurityRead}, s.listLogins)

	// CRM users object and its properties (crm.go), GET /_sim/crm-users.
	s.crmRoutes()
	s.accountRoutes() // account details, API usage, token information, seats (account.go)

	s.inspectRoutes()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.stats.record("unmatched", http.StatusNotFound, s.now())
		writeError(w, notFound("No endpoint "+r.Method+" "+r.URL.Path), false)
	})
}

// call is one API request that passed authentication, rate limits and
// scope checks.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	tok  *token
	nest bool // wrap error envelopes in message (Faults.NestedErrorRate)
}

func (c *call) fail(e *apiError) { writeError(c.w, e, c.nest) }

// answer writes e, or out with status (no body for 204).
func (c *call) answer(status int, out any, e *apiError) {
	switch {
	case e != nil:
		c.fail(e)
	case status == http.StatusNoContent:
		c.noContent()
	default:
		c.json(status, out)
	}
}

// update runs fn with the state locked for writing. Handlers write their
// answer after it returns, never while holding the lock.
func (s *Sim) update(fn func() (any, *apiError)) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fn()
}
func (c *call) json(status int, v any)    { writeJSON(c.w, status, v) }
func (c *call) has(scope string) bool     { return c.tok.scopes[scope] }
func (c *call) path(name string) string   { return c.r.PathValue(name) }
func (c *call) query(name string) string  { return c.r.URL.Query().Get(name) }
func (c *call) noContent()                { c.w.WriteHeader(http.StatusNoContent) }
func (c *call) header(k, v string)        { c.w.Header().Set(k, v) }
func isWrite(method string) bool          { return method != http.MethodGet && method != http.MethodHead }
func patternMethod(pattern string) string { m, _, _ := strings.Cut(pattern, " "); return m }

// route registers one API operation behind the request pipeline. Every
// operation whose path ends in /search is under the CRM search limit
// (Behaviour.CRMSearchPerSecond).
func (s *Sim) route(pattern string, versions, scopes []string, h func(*call)) {
	write := isWrite(patternMethod(pattern))
	search := strings.HasSuffix(pattern, "/search")
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		s.serveAPI(w, r, pattern, versions, scopes, write, search, h)
	})
}

// serveAPI is the pipeline every API request walks, in HubSpot's order as
// far as it can be observed: version check (unknown paths are 404s),
// injected latency, authentication (401), 429 storms and rate limits (429;
// these answers count toward nothing), the CRM search limit for searches
// (429 without policyName), scopes (403), injected timeouts and 5xx, then
// the operation, whose answer a "lost answer" fault throws away after the
// write is committed.
func (s *Sim) serveAPI(w http.ResponseWriter, r *http.Request, key string, versions, scopes []string, write, search bool, h func(*call)) {
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		if p := recover(); p != nil {
			s.stats.record(key, statusAborted, s.now())
			s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Msg("hubspotsim: connection dropped")
			panic(p)
		}
		s.stats.record(key, sw.status, s.now())
		s.log.Debug().Str("method", r.Method).Str("path", r.URL.Path).Int("status", sw.status).Msg("hubspotsim: call")
	}()
	if v := r.PathValue("version"); strings.Contains(key, "{version}") && !slices.Contains(versions, v) {
		writeError(sw, notFound("Unknown API version "+v), false)
		return
	}
	d := s.faults.roll(r.Method, r.URL.Path, s.now())
	if d.latency > 0 {
		sleep(r.Context(), d.latency)
	}
	tok, aerr := s.authenticate(r)
	if aerr != nil {
		writeError(sw, aerr, false)
		return
	}
	if d.storm {
		s.limits.stormHeaders(tok, s.now(), sw.Header())
		writeRateLimited(sw, policyTenSecondly)
		return
	}
	if policy := s.limits.take(tok, s.now(), sw.Header()); policy != "" {
		writeRateLimited(sw, policy)
		return
	}
	// The search limit is checked after the app's limits have counted the
	// request. Assumption: HubSpot does not say whether a search refused
	// by its own limit counts toward the app's limits; counting it is the
	// stricter reading (a client spinning on search 429s spends its app
	// budget).
	if search && !s.limits.takeSearch(tok, s.now(), s.Behaviour().CRMSearchPerSecond, sw.Header()) {
		writeSearchLimited(sw)
		return
	}
	if !tok.anyOf(scopes) {
		writeError(sw, missingScopes(scopes), d.nested)
		return
	}
	if d.timeout {
		if !d.answerAfterHold {
			sleep(r.Context(), d.hold)
			panic(http.ErrAbortHandler)
		}
		// A request HubSpot has received is processed whether or not the
		// client still waits: its 504 says the request "may or may not
		// have been applied" (HubSpot's error handling guide), and a
		// server does not watch its client while it works. So the hold
		// runs its full length even when the client gave up, and the
		// write then commits: late, after the client moved on. The body
		// is read first, as HubSpot has it before it starts.
		if r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBodyBytes+1))
			if err != nil {
				panic(http.ErrAbortHandler)
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		time.Sleep(d.hold)
	}
	if d.errStatus != 0 {
		writeServerError(sw, d.errStatus, d.html, d.nested)
		return
	}
	if body := r.Body; body != nil {
		r.Body = http.MaxBytesReader(sw, body, maxRequestBodyBytes)
	}
	c := &call{w: sw, r: r, tok: tok, nest: d.nested}
	if write && d.lost {
		// Committed but answer lost: apply the write, then drop the
		// connection without a byte of answer.
		c.w = &discardWriter{h: http.Header{}}
		h(c)
		panic(http.ErrAbortHandler)
	}
	h(c)
}

// authenticate reads "Authorization: Bearer <token>". HubSpot answers a
// missing or unknown token alike: 401, category INVALID_AUTHENTICATION.
func (s *Sim) authenticate(r *http.Request) (*token, *apiError) {
	const msg = "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
	scheme, value, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || value == "" {
		return nil, unauthenticated(msg)
	}
	t := s.tokens[strings.TrimSpace(value)]
	if t == nil {
		return nil, unauthenticated(msg)
	}
	return t, nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// decodeBody reads a JSON request body into v. Unknown fields are
// ignored: the specs do not forbid additional properties.
func decodeBody(c *call, v any) *apiError {
	if c.r.Body == nil {
		return newError(http.StatusBadRequest, catValidation, "A request body is required")
	}
	if err := json.NewDecoder(c.r.Body).Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return newError(http.StatusRequestEntityTooLarge, catValidation, "Request body too large")
		}
		if errors.Is(err, io.EOF) {
			return newError(http.StatusBadRequest, catValidation, "A request body is required")
		}
		return badJSON(err)
	}
	return nil
}

const statusAborted = -1

// statusWriter remembers the status written, for the stats.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// discardWriter swallows the answer of a write whose answer is lost.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (w *discardWriter) WriteHeader(int)             {}
