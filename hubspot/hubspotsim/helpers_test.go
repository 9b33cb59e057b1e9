package hubspotsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Test tokens.
const (
	tokFull      = "tok-full"       // every scope
	tokNoBilling = "tok-nobilling"  // every scope but settings.billing.write
	tokRead      = "tok-read"       // read scopes only
	tokCRM       = "tok-crm"        // crm.objects.users.read/.write only
	tokOAuth     = "tok-oauth"      // every scope, OAuth app (no daily budget)
	tokShared1   = "tok-shared-one" // these two share an app
	tokShared2   = "tok-shared-two"
)

// Ids of the test seed.
const (
	roleManager = "3000001"
	roleRep     = "3000002"
	rolePaid    = "3000003"
	teamEMEA    = "5000001"
	teamNA      = "5000002"
	teamAPAC    = "5000003"
	adminID     = "10000001"
	adminEmail  = "admin@example.com"
)

func allScopes() []string {
	return []string{ScopeUsersRead, ScopeUsersWrite, ScopeCRMUsersRead, ScopeCRMUsersWrite, ScopeTeamsRead, ScopeTeamsWrite, ScopeBillingWrite, ScopeSecurityRead}
}

func testSeed() *Seed {
	noBilling := slices.DeleteFunc(allScopes(), func(s string) bool { return s == ScopeBillingWrite })
	return &Seed{
		Roles: []SeedRole{{Name: "Sales Manager"}, {Name: "Sales Representative"}, {Name: "Paid Seat", RequiresBillingWrite: true}},
		Teams: []SeedTeam{{Name: "EMEA Sales"}, {Name: "NA Sales"}, {Name: "APAC Sales"}},
		Users: []SeedUser{{Email: adminEmail, FirstName: "Ada", LastName: "Admin", SuperAdmin: true, PrimaryTeam: "EMEA Sales"}},
		Tokens: []SeedToken{
			{Token: tokFull, Scopes: allScopes()},
			{Token: tokNoBilling, Scopes: noBilling},
			{Token: tokRead, Scopes: []string{ScopeUsersRead, ScopeTeamsRead, ScopeSecurityRead}},
			{Token: tokCRM, Scopes: []string{ScopeCRMUsersRead, ScopeCRMUsersWrite}},
			{Token: tokOAuth, Scopes: allScopes(), OAuth: true},
			{Token: tokShared1, Scopes: allScopes(), App: "shared"},
			{Token: tokShared2, Scopes: allScopes(), App: "shared"},
		},
		// Tests are not about rate limits unless they say so.
		Limits: Limits{TenSecondly: -1, Daily: -1},
	}
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *clock
}

// newEnv starts a simulator over real HTTP with the test seed (unless cfg
// has one) and a settable clock, behind the contract's checks of its
// answers (contractChecked).
func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	if cfg.Seed == nil {
		cfg.Seed = testSeed()
	}
	c := newClock()
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	sim, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	srv := httptest.NewServer(contractChecked(t, sim.Handler()))
	t.Cleanup(srv.Close)
	return &env{t: t, sim: sim, srv: srv, clock: c}
}

type resp struct {
	status int
	header http.Header
	body   []byte
	err    error // transport error (dropped connection)
}

// do sends one request; body is JSON-encoded unless it is a string.
func (e *env) do(method, path, tok string, body any) resp {
	e.t.Helper()
	return doReq(e.t, e.srv.Client(), e.srv.URL, method, path, tok, body)
}

func doReq(t testing.TB, c *http.Client, base, method, path, tok string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		return resp{err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b, err: err}
}

func (r resp) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) user(t testing.TB) hubspot.User {
	var u hubspot.User
	r.decode(t, &u)
	return u
}

// wantStatus fails unless r has status want.
func (r resp) wantStatus(t testing.TB, want int) resp {
	t.Helper()
	if r.err != nil {
		t.Fatalf("transport error %v, want %d", r.err, want)
	}
	if r.status != want {
		t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
	}
	return r
}

// wantError checks HubSpot's error envelope: status "error", a uuid
// correlationId, the category, and (when field is set) an errors entry in
// that field; it returns the envelope.
func (r resp) wantError(t testing.TB, status int, category, field string) errorBody {
	t.Helper()
	r.wantStatus(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	var e errorBody
	r.decode(t, &e)
	if e.Status != "error" || e.Category != category || e.Message == "" {
		t.Errorf("error body %s, want category %s", r.body, category)
	}
	if _, err := uuid.Parse(e.CorrelationID); err != nil {
		t.Errorf("correlationId %q is not a uuid", e.CorrelationID)
	}
	if field != "" && !slices.ContainsFunc(e.Errors, func(d hubspot.ErrorDetail) bool { return d.In == field }) {
		t.Errorf("errors %+v name no field %q", e.Errors, field)
	}
	return e
}

// createUser creates a user and returns it.
func (e *env) createUser(email string, extra map[string]any) hubspot.User {
	e.t.Helper()
	body := map[string]any{"email": email, "sendWelcomeEmail": false}
	for k, v := range extra {
		body[k] = v
	}
	return e.do("POST", "/settings/users/2026-03", tokFull, body).wantStatus(e.t, http.StatusCreated).user(e.t)
}

// checkTeams verifies that both team views agree with the users' fields.
func checkTeams(t testing.TB, st State) {
	t.Helper()
	for _, tm := range st.Teams {
		var primary, secondary []string
		for _, u := range st.Users {
			if u.PrimaryTeamID == tm.ID {
				primary = append(primary, u.ID)
			}
			if slices.Contains(u.SecondaryTeamIDs, tm.ID) {
				secondary = append(secondary, u.ID)
			}
			if slices.Contains(u.SecondaryTeamIDs, u.PrimaryTeamID) && u.PrimaryTeamID != "" {
				t.Errorf("user %s has team %s as main and additional team", u.ID, u.PrimaryTeamID)
			}
		}
		if !sameSet(primary, tm.UserIDs) || !sameSet(secondary, tm.SecondaryUserIDs) {
			t.Errorf("team %s lists %v/%v, users say %v/%v", tm.ID, tm.UserIDs, tm.SecondaryUserIDs, primary, secondary)
		}
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func findUser(st State, email string) (hubspot.User, bool) {
	for _, u := range st.Users {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return hubspot.User{}, false
}
