package hubspot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// startSim serves a simulator on a loopback port for the test, behind the
// contract's checks (serveSim). The seed is the default portal plus seven
// users; clk, when not nil, is the sim's clock too, so rate limit windows
// and consistency delays pass at the client's injected sleeps.
func startSim(t *testing.T, clk *fakeClock, faults hubspotsim.Faults) *simServer {
	t.Helper()
	seed := hubspotsim.DefaultSeed()
	for i := range 7 {
		seed.Users = append(seed.Users, hubspotsim.SeedUser{
			Email: fmt.Sprintf("seed%d@example.com", i), FirstName: "Seed", LastName: fmt.Sprint(i), Role: "Support Agent",
		})
	}
	cfg := hubspotsim.Config{Seed: seed, Faults: faults, RandSeed: 42}
	if clk != nil {
		cfg.Now = clk.Now
	}
	return serveSim(t, cfg)
}

// simClient is a client of srv with the demo token and an injected clock.
func simClient(t *testing.T, srv *simServer, clk *fakeClock, mod func(*hubspot.Config)) *hubspot.Client {
	t.Helper()
	return newClient(t, srv.URL, clk, func(cfg *hubspot.Config) {
		cfg.Token = hubspotsim.DemoToken
		if mod != nil {
			mod(cfg)
		}
	})
}

// TestContractSim runs the whole contract, writes included, against the
// simulator over real HTTP, once per API version.
func TestContractSim(t *testing.T) {
	for _, version := range []string{hubspot.Version202603, hubspot.VersionV3, hubspot.Version202609Beta} {
		t.Run(version, func(t *testing.T) {
			clk := newFakeClock()
			srv := startSim(t, clk, hubspotsim.Faults{})
			// The contract renames a user it has just created, which a
			// real portal (and the simulator, by default) refuses until
			// the invitation is accepted; the rename is about PUT's
			// semantics, so here invitations count as accepted at once.
			srv.Sim.SetBehaviour(hubspotsim.Behaviour{InvitesAcceptedAtOnce: true})
			srv.Sim.RecordLogin("seed1@example.com", clk.Now().Add(-time.Hour), true)
			c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.APIVersion = version })
			runContract(t, c, true, true)
			// The version reached the sim's paths for it.
			prefix := map[string]string{"2026-03": "/settings/users/{version}", "v3": "/settings/v3/users", "2026-09-beta": "/settings/users/{version}"}[version]
			if srv.Sim.Stats().Calls("GET "+prefix+"/{userId}", 0) == 0 {
				t.Errorf("no GET %s/{userId} calls in %v", prefix, srv.Sim.Stats().Endpoints)
			}
		})
	}
}

const (
	epGetUser = "GET /settings/users/{version}/{userId}"
	epCreate  = "POST /settings/users/{version}"
)

func TestSimRetries(t *testing.T) {
	tests := []struct {
		name        string
		faults      hubspotsim.Faults
		maxRetries  int
		calls       int
		wantErr     bool
		wantTotal   func(st hubspotsim.Stats) bool
		description string
	}{
		{
			name:       "every GET 503: bounded",
			faults:     hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}, Methods: []string{"GET"}},
			maxRetries: 3, calls: 1, wantErr: true,
			wantTotal:   func(st hubspotsim.Stats) bool { return st.Total == 4 && st.ByStatus["503"] == 4 },
			description: "4 calls, all 503",
		},
		{
			name:       "30% 5xx, HTML pages included: all reads succeed",
			faults:     hubspotsim.Faults{ErrorRate: 0.3, HTMLErrors: true, Methods: []string{"GET"}},
			maxRetries: 6, calls: 20,
			wantTotal: func(st hubspotsim.Stats) bool {
				return st.Calls(epGetUser, 200) == 20 && st.Total > 20 && st.Total == 20+st.ByStatus["502"]+st.ByStatus["503"]+st.ByStatus["504"]
			},
			description: "20 answered 200, the rest 5xx",
		},
		{
			name:       "GET timeouts: retried",
			faults:     hubspotsim.Faults{TimeoutRate: 0.5, TimeoutHold: 5 * time.Second, Methods: []string{"GET"}},
			maxRetries: 8, calls: 4,
			wantTotal:   func(st hubspotsim.Stats) bool { return st.Calls(epGetUser, 200) == 4 && st.Aborted > 0 },
			description: "4 answered 200, some aborted",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newFakeClock()
			srv := startSim(t, nil, tt.faults)
			c := simClient(t, srv, clk, func(cfg *hubspot.Config) {
				cfg.MaxRetries = tt.maxRetries
				cfg.Timeout = 300 * time.Millisecond
			})
			for range tt.calls {
				_, err := c.GetUser(context.Background(), "10000001")
				if (err != nil) != tt.wantErr {
					t.Fatalf("GetUser = %v, want error %v", err, tt.wantErr)
				}
				if err != nil && hubspot.IsPermanent(err) {
					t.Errorf("5xx reported permanent: %v", err)
				}
			}
			if st := srv.Sim.Stats(); !tt.wantTotal(st) {
				t.Errorf("stats total %d, by status %v; want %s", st.Total, st.ByStatus, tt.description)
			}
		})
	}
}

func TestSimAmbiguousCreate(t *testing.T) {
	const email = "grace@example.com"
	tests := []struct {
		name        string
		faults      hubspotsim.Faults
		maxRetries  int
		wantErr     bool
		wantPOSTs   int64
		wantLookups int64
		wantUsers   int
	}{
		{
			name:      "committed, answer lost: found by email, one POST",
			faults:    hubspotsim.Faults{LostAnswerRate: 1, Methods: []string{"POST"}},
			wantPOSTs: 1, wantLookups: 1, wantUsers: 1,
		},
		{
			name:       "timed out before commit: looked up, POSTed again, bounded",
			faults:     hubspotsim.Faults{TimeoutRate: 1, TimeoutHold: 600 * time.Millisecond, Methods: []string{"POST"}},
			maxRetries: 1, wantErr: true, wantPOSTs: 2, wantLookups: 2, wantUsers: 0,
		},
		{
			name:       "503 on every POST: looked up each time",
			faults:     hubspotsim.Faults{ErrorRate: 1, ErrorStatuses: []int{503}, Methods: []string{"POST"}},
			maxRetries: 2, wantErr: true, wantPOSTs: 3, wantLookups: 3, wantUsers: 0,
		},
		{
			name:       "half the writes lost: exactly one user",
			faults:     hubspotsim.Faults{LostAnswerRate: 0.5, ErrorRate: 0.3, Methods: []string{"POST"}},
			maxRetries: 10, wantPOSTs: -1, wantLookups: -1, wantUsers: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, nil, tt.faults)
			c := simClient(t, srv, newFakeClock(), func(cfg *hubspot.Config) {
				cfg.MaxRetries = tt.maxRetries
				cfg.Timeout = 300 * time.Millisecond
			})
			u, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: email, FirstName: "Grace"})
			if tt.wantErr {
				if err == nil || hubspot.IsPermanent(err) || !strings.Contains(err.Error(), "create "+email) {
					t.Fatalf("CreateUser = %+v, %v; want a transient wrapped error", u, err)
				}
			} else if err != nil || u == nil || u.Email != email || u.ID == "" {
				t.Fatalf("CreateUser = %+v, %v", u, err)
			}
			// A held POST whose body was never read does not notice the
			// client leaving: it is counted when its hold ends.
			st := settledStats(srv, tt.wantPOSTs, 2*time.Second)
			if posts := st.Calls(epCreate, 0); tt.wantPOSTs >= 0 && posts != tt.wantPOSTs {
				t.Errorf("%d POSTs, want %d (%v)", posts, tt.wantPOSTs, st.Endpoints)
			}
			if gets := st.Calls(epGetUser, 0); tt.wantLookups >= 0 && gets != tt.wantLookups {
				t.Errorf("%d lookups, want %d", gets, tt.wantLookups)
			}
			n := 0
			for _, su := range srv.Sim.State().Users {
				if strings.EqualFold(su.Email, email) {
					n++
					if u != nil && su.ID != u.ID {
						t.Errorf("returned user %s, portal has %s", u.ID, su.ID)
					}
				}
			}
			if n != tt.wantUsers {
				t.Errorf("%d users with %s, want %d", n, email, tt.wantUsers)
			}
		})
	}
}

// settledStats waits up to d for the simulator to have counted posts
// creates (any number when posts < 0), then returns its stats.
func settledStats(srv *simServer, posts int64, d time.Duration) hubspotsim.Stats {
	deadline := time.Now().Add(d)
	for {
		st := srv.Sim.Stats()
		if posts < 0 || st.Calls(epCreate, 0) >= posts || time.Now().After(deadline) {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSimErrorsTyped(t *testing.T) {
	tests := []struct {
		name   string
		faults hubspotsim.Faults
		call   func(c *hubspot.Client) error
		check  func(t *testing.T, err error)
	}{
		{
			name:   "validation error nested in message",
			faults: hubspotsim.Faults{NestedErrorRate: 1},
			call: func(c *hubspot.Client) error {
				_, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: "nope"})
				return err
			},
			check: func(t *testing.T, err error) {
				var he *hubspot.Error
				if !errors.As(err, &he) || he.StatusCode != 400 || he.Category != "VALIDATION_ERROR" || strings.HasPrefix(he.Message, "{") {
					t.Errorf("err %v (%+v), want an unwrapped 400 VALIDATION_ERROR", err, he)
				}
			},
		},
		{
			name: "unknown role",
			call: func(c *hubspot.Client) error {
				_, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: "r@example.com", RoleID: "999"})
				return err
			},
			check: func(t *testing.T, err error) {
				var he *hubspot.Error
				if !hubspot.IsValidation(err) || !errors.As(err, &he) || len(he.Errors) == 0 || he.Errors[0].In != "roleId" {
					t.Errorf("err %v (%+v), want a 400 naming roleId", err, he)
				}
			},
		},
		{
			name: "super admin refused",
			call: func(c *hubspot.Client) error { return c.DeleteUser(context.Background(), "10000001") },
			check: func(t *testing.T, err error) {
				if err == nil || !hubspot.IsPermanent(err) {
					t.Errorf("err %v, want a permanent refusal", err)
				}
			},
		},
		{
			// The simulator's default: a user created through the API
			// has not accepted its invitation.
			name: "pending invite refuses a name change",
			call: func(c *hubspot.Client) error {
				u, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: "p@example.com"})
				if err != nil {
					return err
				}
				name := "P"
				_, err = c.UpdateUser(context.Background(), u.ID, hubspot.UserUpdate{FirstName: &name})
				return err
			},
			check: func(t *testing.T, err error) {
				var he *hubspot.Error
				if !hubspot.IsValidation(err) || !errors.As(err, &he) || !strings.Contains(he.Message+he.SubCategory, "USER_NOT_ON_ANY_HUBS") {
					t.Errorf("err %v (%+v), want USER_NOT_ON_ANY_HUBS", err, he)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSim(t, nil, tt.faults)
			tt.check(t, tt.call(simClient(t, srv, newFakeClock(), nil)))
		})
	}
}

func TestSimTenSecondlyStorm(t *testing.T) {
	clk := newFakeClock()
	srv := startSim(t, clk, hubspotsim.Faults{Storm: 5 * time.Second})
	c := simClient(t, srv, clk, nil)
	if _, err := c.GetUser(context.Background(), "10000001"); err != nil {
		t.Fatal(err)
	}
	st := srv.Sim.Stats()
	if st.RateLimited != 1 || st.Total != 2 {
		t.Errorf("stats %+v, want one 429 then success", st)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] < 5*time.Second {
		t.Errorf("slept %v, want one wait past the storm (a window)", s)
	}
}

func TestSimDailyLimit(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	clk := newFakeClock() // 12:00 UTC = 08:00 in New York
	srv := startSim(t, clk, hubspotsim.Faults{})
	srv.Sim.SetLimits(hubspotsim.Limits{TimeZone: "America/New_York"})
	c := simClient(t, srv, clk, func(cfg *hubspot.Config) { cfg.DailyResetZone = ny })
	ctx := context.Background()
	if _, err := c.GetUser(ctx, "10000001"); err != nil {
		t.Fatal(err)
	}
	if st := c.Limiter().State(); st.DailyLimit != 250000 || st.DailyRemaining != 249999 {
		t.Fatalf("limiter %+v, want the sim's daily budget", st)
	}
	// Another process of the app spent the budget: HubSpot answers DAILY.
	srv.Sim.SetLimits(hubspotsim.Limits{TimeZone: "America/New_York", Daily: 1})
	_, err = c.CreateUser(ctx, hubspot.UserCreate{Email: "late@example.com"})
	rle, ok := hubspot.IsRateLimited(err)
	if !ok || rle.PolicyName != hubspot.PolicyDaily || rle.RetryAfter != 16*time.Hour {
		t.Fatalf("err = %v, want DAILY until midnight in New York (16h)", err)
	}
	total := srv.Sim.Stats().Total
	first := "Z"
	if _, err := c.UpdateUser(ctx, "10000002", hubspot.UserUpdate{FirstName: &first}); !errors.Is(err, hubspot.ErrDailyLimit) {
		t.Errorf("write while paused: %v", err)
	}
	if _, err := c.AllUsers(ctx); !errors.Is(err, hubspot.ErrDailyLimit) {
		t.Errorf("read with the budget spent: %v", err)
	}
	if got := srv.Sim.Stats().Total; got != total {
		t.Errorf("%d requests reached HubSpot while paused", got-total)
	}
	clk.Advance(16 * time.Hour) // midnight in New York: both sides reset
	if _, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "late@example.com"}); err != nil {
		t.Errorf("create after the reset: %v", err)
	}
}

func TestSimLimiterAdapts(t *testing.T) {
	clk := newFakeClock()
	srv := startSim(t, clk, hubspotsim.Faults{})
	srv.Sim.SetLimits(hubspotsim.Limits{TenSecondly: 7, Interval: 2 * time.Second, Daily: 1000})
	c := simClient(t, srv, clk, nil) // configured for 100 per 10 s, 250,000 a day
	ctx := context.Background()
	if _, err := c.GetUser(ctx, "10000001"); err != nil {
		t.Fatal(err)
	}
	st := c.Limiter().State()
	if st.Limit != 7 || st.Interval != 2*time.Second || st.Tokens != 6 || st.DailyLimit != 1000 || st.DailyRemaining != 999 {
		t.Fatalf("limiter %+v, want 7 per 2s with 6 left, 999 of 1000 a day", st)
	}
	// 20 more requests at 7 per 2 s: no 429, spaced by the limiter.
	for range 20 {
		if _, err := c.GetUser(ctx, "10000001"); err != nil {
			t.Fatal(err)
		}
	}
	if rl := srv.Sim.Stats().RateLimited; rl != 0 {
		t.Errorf("%d requests rate limited", rl)
	}
}

// TestSimSharedLimiter: two clients and six goroutines share one limiter
// against the simulator's real-time rolling window: HubSpot never answers
// 429.
func TestSimSharedLimiter(t *testing.T) {
	const interval = 500 * time.Millisecond
	srv := startSim(t, nil, hubspotsim.Faults{})
	srv.Sim.SetLimits(hubspotsim.Limits{TenSecondly: 5, Interval: interval})
	shared := hubspot.NewLimiter(5, interval, 0)
	var clients []*hubspot.Client
	for range 2 {
		c, err := hubspot.New(hubspot.Config{BaseURL: srv.URL, Token: hubspotsim.DemoToken, Limiter: shared, MaxRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, c)
	}
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Go(func() {
			for range 4 {
				if _, err := clients[g%2].GetUser(context.Background(), "10000001"); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if st := srv.Sim.Stats(); st.RateLimited != 0 || st.Total != 24 {
		t.Errorf("stats: %d calls, %d rate limited; want 24, 0", st.Total, st.RateLimited)
	}
}

func TestSimWaitDeleted(t *testing.T) {
	clk := newFakeClock()
	srv := startSim(t, clk, hubspotsim.Faults{DeletedReadableFor: 3 * time.Second})
	c := simClient(t, srv, clk, nil)
	ctx := context.Background()
	u, err := c.GetUserByEmail(ctx, "seed3@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(ctx, u.ID); err != nil {
		t.Fatalf("deleted user not readable at first (sim fault not applied?): %v", err)
	}
	if err := c.WaitDeleted(ctx, u.ID, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := c.WaitDeleted(ctx, "10000001", time.Second); !errors.Is(err, hubspot.ErrDeletePending) {
		t.Errorf("WaitDeleted of a present user = %v, want ErrDeletePending", err)
	}
}

func TestSimTokenNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	log := zerolog.New(&logs).Level(zerolog.DebugLevel)
	srv := startSim(t, nil, hubspotsim.Faults{ErrorRate: 0.5, LostAnswerRate: 0.5, NestedErrorRate: 1})
	ctx := context.Background()
	bad := simClient(t, srv, newFakeClock(), func(cfg *hubspot.Config) { cfg.Token = "pat-na1-WRONG-SECRET-0000"; cfg.Log = log })
	_, err := bad.GetUser(ctx, "10000001")
	if !hubspot.IsForbidden(err) || strings.Contains(err.Error(), "SECRET") {
		t.Errorf("wrong token: %v", err)
	}
	good := simClient(t, srv, newFakeClock(), func(cfg *hubspot.Config) { cfg.Log = log })
	for i := range 5 {
		_, err := good.CreateUser(ctx, hubspot.UserCreate{Email: fmt.Sprintf("leak%d@example.com", i)})
		if err != nil && strings.Contains(err.Error(), hubspotsim.DemoToken) {
			t.Errorf("token in error: %v", err)
		}
	}
	if s := logs.String(); strings.Contains(s, "SECRET") || strings.Contains(s, hubspotsim.DemoToken) {
		t.Errorf("token in logs:\n%s", s)
	}
	if !strings.Contains(logs.String(), "correlation_id") {
		t.Errorf("no correlation ids logged:\n%s", logs.String())
	}
}
