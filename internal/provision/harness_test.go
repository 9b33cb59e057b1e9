package provision_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/contract"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// env is the provisioning engine on a real SQLite store, talking over
// loopback HTTP to the HubSpot simulator.
type env struct {
	t      *testing.T
	st     *sqlite.Store
	sim    *hubspotsim.Sim
	url    string
	client *hubspot.Client
	engine *provision.Engine
	svc    *provision.Service
	actor  schemas.Actor
	stop   func()
	// reg holds the engine's metrics.
	reg *prometheus.Registry
}

type envOpt func(*envCfg)

type envCfg struct {
	rules   provision.Rules
	engine  provision.EngineConfig
	seed    *hubspotsim.Seed
	token   string
	limits  hubspotsim.Limits
	retries int
	// behaviour is the simulated portal's: strict (HubSpot's) unless a
	// test loosens it.
	behaviour hubspotsim.Behaviour
	// timeout bounds each HubSpot call (default 5 s).
	timeout time.Duration
}

func newEnv(t *testing.T, opts ...envOpt) *env {
	t.Helper()
	c := envCfg{
		rules: provision.Rules{
			DefaultRole: "Sales Representative",
			Roles:       []provision.RoleRule{{Group: "Sales Managers", Role: "Sales Manager"}, {Group: "Support Staff", Role: "Support Agent"}},
		},
		// Removals are verified half a second later (no call the client
		// gave up on commits late unless a test sets timeout faults, and
		// those set the window they need).
		engine: provision.EngineConfig{Wait: 10 * time.Second, MaxBackoff: 200 * time.Millisecond,
			VerifyRemovalAfter: 500 * time.Millisecond},
		seed:    hubspotsim.DefaultSeed(),
		token:   hubspotsim.DemoToken,
		limits:  hubspotsim.Limits{TenSecondly: 100000, Interval: 10 * time.Second, Daily: 10_000_000},
		retries: 8,
		timeout: 5 * time.Second,
	}
	for _, o := range opts {
		o(&c)
	}
	reg := prometheus.NewRegistry()
	if c.engine.Metrics == nil {
		c.engine.Metrics = reg
	}
	cat := schemas.MustLoad()
	st, err := sqlite.Open(context.Background(), sqlite.Config{Path: filepath.Join(t.TempDir(), "bridge.db")}, cat)
	if err != nil {
		t.Fatal(err)
	}
	sim, err := hubspotsim.New(hubspotsim.Config{Seed: c.seed, Limits: c.limits, Behaviour: c.behaviour})
	if err != nil {
		t.Fatal(err)
	}
	// Every request the engine sends and every answer the simulator gives
	// is checked against the bridge's HubSpot contract.
	report := contract.TestReporter(t)
	ct := contract.MustLoad()
	srv := httptest.NewServer(ct.Middleware(sim.Handler(), report))
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	client, err := hubspot.New(hubspot.Config{
		BaseURL: srv.URL, Token: c.token, RateLimit: c.limits.TenSecondly, RateInterval: c.limits.Interval,
		DailyLimit: c.limits.Daily, MaxRetries: c.retries, Timeout: c.timeout,
		HTTPClient: &http.Client{Transport: ct.Transport(transport, report)},
	})
	if err != nil {
		t.Fatal(err)
	}
	rules := c.rules
	engine, err := provision.NewEngine(c.engine, st, client, &rules, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = engine.Run(ctx)
	}()
	e := &env{t: t, st: st, sim: sim, url: srv.URL, client: client, engine: engine, svc: provision.New(st, engine, zerolog.Nop()),
		actor: schemas.Actor{Name: "test"}, reg: reg}
	e.stop = func() {
		cancel()
		<-done
		srv.Close()
		st.Close()
	}
	t.Cleanup(e.stop)
	return e
}

func withRules(f func(*provision.Rules)) envOpt { return func(c *envCfg) { f(&c.rules) } }

func (e *env) createUser(userName, email, given, family string) *schemas.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(context.Background(), e.actor, &schemas.User{
		UserName: userName, Name: &schemas.Name{GivenName: given, FamilyName: family},
		Emails: []schemas.MultiValue{{Value: email, Type: "work", Primary: true}},
	})
	if err != nil {
		e.t.Fatalf("create %s: %v", userName, err)
	}
	return u
}

func (e *env) group(name string, members ...string) *schemas.Group {
	e.t.Helper()
	g := &schemas.Group{DisplayName: name}
	for _, m := range members {
		g.Members = append(g.Members, schemas.Member{Value: m})
	}
	out, err := e.svc.CreateGroup(context.Background(), e.actor, g)
	if err != nil {
		e.t.Fatalf("group %s: %v", name, err)
	}
	return out
}

// patchUser sets fields through PatchUser.
func (e *env) patchUser(id string, f func(u *schemas.User)) (*schemas.User, error) {
	return e.svc.PatchUser(context.Background(), e.actor, id, 0, func(u *schemas.User) ([]string, error) {
		f(u)
		return []string{"changed"}, nil
	})
}

func (e *env) setMembers(g *schemas.Group, members ...string) {
	e.t.Helper()
	_, err := e.svc.PatchGroup(context.Background(), e.actor, g.ID, 0, func(cur *schemas.Group) ([]string, error) {
		cur.Members = nil
		for _, m := range members {
			cur.Members = append(cur.Members, schemas.Member{Value: m})
		}
		return []string{"members"}, nil
	})
	if err != nil {
		e.t.Fatalf("set members of %s: %v", g.DisplayName, err)
	}
}

// hub returns the simulator's user with email (any case), or nil.
func (e *env) hub(email string) *hubspot.User {
	var found *hubspot.User
	n := 0
	for _, u := range e.sim.State().Users {
		if strings.EqualFold(u.Email, email) {
			u := u
			found = &u
			n++
		}
	}
	if n > 1 {
		e.t.Fatalf("%d HubSpot users with email %s", n, email)
	}
	return found
}

func (e *env) roleName(id string) string {
	for _, r := range e.sim.State().Roles {
		if r.ID == id {
			return r.Name
		}
	}
	return ""
}

func (e *env) teamNames(u *hubspot.User) (primary string, secondary []string) {
	names := map[string]string{}
	for _, t := range e.sim.State().Teams {
		names[t.ID] = t.Name
	}
	for _, id := range u.SecondaryTeamIDs {
		secondary = append(secondary, names[id])
	}
	return names[u.PrimaryTeamID], secondary
}

// eventually polls cond until it holds or 20 s pass.
func (e *env) eventually(what string, cond func() error) {
	e.t.Helper()
	e.eventuallyWithin(20*time.Second, what, cond)
}

func (e *env) eventuallyWithin(d time.Duration, what string, cond func() error) {
	e.t.Helper()
	deadline := time.Now().Add(d)
	var err error
	for time.Now().Before(deadline) {
		if err = cond(); err == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("%s: %v", what, err)
}

func (e *env) state(id string) *store.Provisioning {
	e.t.Helper()
	p := e.row(id)
	if p == nil {
		e.t.Fatalf("provisioning of %s: no row", id)
	}
	return p
}

func errorCode(err error) string {
	var se *schemas.Error
	if errors.As(err, &se) {
		return se.Code
	}
	return fmt.Sprintf("%T", err)
}

// testLog logs to the test output with -v and SCIMBRIDGE_TEST_LOG=1.
func testLog(t *testing.T) zerolog.Logger {
	if os.Getenv("SCIMBRIDGE_TEST_LOG") == "" {
		return zerolog.Nop()
	}
	return zerolog.New(zerolog.NewTestWriter(t)).With().Timestamp().Logger()
}

// row is a user's provisioning row, nil when there is none.
func (e *env) row(id string) *store.Provisioning {
	e.t.Helper()
	p, err := e.st.GetProvisioning(context.Background(), id)
	if store.ErrorCode(err) == store.ENOTFOUND {
		return nil
	}
	if err != nil {
		e.t.Fatalf("provisioning of %s: %v", id, err)
	}
	return p
}

// metric reads one series of the engine's metrics, by name and one
// label ("" for none); -1 when there is no such series.
func (e *env) metric(name, label, value string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatalf("gathering metrics: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					match = true
				}
			}
			switch {
			case !match:
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return -1
}
