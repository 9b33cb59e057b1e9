package hubspot_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// failFirst answers the first n requests matching method with status.
func failFirst(method string, n, status int) func(http.ResponseWriter, *http.Request, int) bool {
	seen := 0
	return func(w http.ResponseWriter, r *http.Request, _ int) bool {
		if r.Method != method || seen >= n {
			return false
		}
		seen++
		hsError(w, status, "INTERNAL_ERROR", "internal error")
		return true
	}
}

func TestRetriesIdempotent(t *testing.T) {
	first := "Grace"
	ops := map[string]func(c *hubspot.Client) error{
		http.MethodGet: func(c *hubspot.Client) error { _, err := c.GetUser(context.Background(), "101"); return err },
		http.MethodPut: func(c *hubspot.Client) error {
			_, err := c.UpdateUser(context.Background(), "101", hubspot.UserUpdate{FirstName: &first})
			return err
		},
		http.MethodDelete: func(c *hubspot.Client) error { return c.DeleteUser(context.Background(), "101") },
	}
	tests := []struct {
		name         string
		method       string
		failures     int
		status       int
		wantRequests int
		wantStatus   int // 0: success
	}{
		{"GET 503 twice then 200", http.MethodGet, 2, 503, 3, 0},
		{"GET 500 beyond MaxRetries", http.MethodGet, 10, 500, 4, 500},
		{"PUT 502 then 200", http.MethodPut, 1, 502, 2, 0},
		{"DELETE 504 then 204", http.MethodDelete, 1, 504, 2, 0},
		{"GET 400 is not retried", http.MethodGet, 10, 400, 1, 400},
		{"PUT 403 is not retried", http.MethodPut, 10, 403, 1, 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t, 3)
			f.intercept = failFirst(tt.method, tt.failures, tt.status)
			clk := newFakeClock()
			c := newClient(t, f.srv.URL, clk, func(cfg *hubspot.Config) { cfg.MaxRetries = 3 })
			err := ops[tt.method](c)
			if got := f.count(); got != tt.wantRequests {
				t.Errorf("server saw %d requests, want %d: %v", got, tt.wantRequests, f.log())
			}
			var he *hubspot.Error
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("err = %v", err)
			case tt.wantStatus != 0 && (!errors.As(err, &he) || he.StatusCode != tt.wantStatus):
				t.Fatalf("err = %v, want status %d", err, tt.wantStatus)
			}
			// Full-jitter backoff: each wait below min(10s, 250ms·2^n).
			for i, d := range clk.Slept() {
				if limit := min(10*time.Second, 250*time.Millisecond<<i) + time.Millisecond; d <= 0 || d > limit {
					t.Errorf("wait %d = %s, want (0, %s]", i, d, limit)
				}
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	f := newFakeHub(t, 1)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n > 1 {
			return false
		}
		w.Header().Set("Retry-After", "7")
		hsError(w, 503, "SERVICE_UNAVAILABLE", "try later")
		return true
	}
	clk := newFakeClock()
	c := newClient(t, f.srv.URL, clk, nil)
	if _, err := c.GetUser(context.Background(), "101"); err != nil {
		t.Fatal(err)
	}
	if s := clk.Slept(); len(s) != 1 || s[0] != 7*time.Second {
		t.Errorf("slept %v, want [7s]", s)
	}
}

func TestRetryAfterBeyondDeadline(t *testing.T) {
	f := newFakeHub(t, 1)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		w.Header().Set("Retry-After", "30")
		hsError(w, 503, "SERVICE_UNAVAILABLE", "try later")
		return true
	}
	clk := newFakeClock()
	c := newClient(t, f.srv.URL, clk, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.GetUser(ctx, "101")
	var he *hubspot.Error
	if !errors.As(err, &he) || he.StatusCode != 503 || f.count() != 1 || len(clk.Slept()) != 0 {
		t.Errorf("err = %v after %d requests, slept %v; want the 503 at once", err, f.count(), clk.Slept())
	}
}

func TestCreateAmbiguous(t *testing.T) {
	const email = "ada@example.com"
	tests := []struct {
		name   string
		setup  func(f *fakeHub)
		mod    func(*hubspot.Config)
		want   []string // request methods seen by the server
		wantOK bool
	}{
		{
			name:   "committed then connection dropped: found by email, no second POST",
			setup:  func(f *fakeHub) { f.commitThen = func(w http.ResponseWriter, _ *http.Request) { dropConnection(w) } },
			want:   []string{"POST", "GET"},
			wantOK: true,
		},
		{
			name: "committed then 502: found by email",
			setup: func(f *fakeHub) {
				f.commitThen = func(w http.ResponseWriter, _ *http.Request) { hsError(w, 502, "BAD_GATEWAY", "bad gateway") }
			},
			want:   []string{"POST", "GET"},
			wantOK: true,
		},
		{
			name: "committed, answer slower than the attempt timeout: found by email",
			setup: func(f *fakeHub) {
				f.commitThen = func(w http.ResponseWriter, _ *http.Request) {
					f.mu.Unlock() // let the lookup in while this answer dawdles
					time.Sleep(400 * time.Millisecond)
					f.mu.Lock()
				}
			},
			mod:    func(c *hubspot.Config) { c.Timeout = 150 * time.Millisecond },
			want:   []string{"POST", "GET"},
			wantOK: true,
		},
		{
			name:   "503 before commit: not found by email, POST again",
			setup:  func(f *fakeHub) { f.intercept = failFirst(http.MethodPost, 1, 503) },
			want:   []string{"POST", "GET", "POST"},
			wantOK: true,
		},
		{
			name:  "503 on every POST: bounded, looked up each time",
			setup: func(f *fakeHub) { f.intercept = failFirst(http.MethodPost, 100, 503) },
			mod:   func(c *hubspot.Config) { c.MaxRetries = 2 },
			want:  []string{"POST", "GET", "POST", "GET", "POST", "GET"},
		},
		{
			// HubSpot gives an existing address no status of its own: a
			// 400 is checked by email once, never sent again.
			name:  "400 for an address nobody holds is final",
			setup: func(f *fakeHub) { f.intercept = failFirst(http.MethodPost, 100, 400) },
			want:  []string{"POST", "GET"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t, 2)
			tt.setup(f)
			c := newClient(t, f.srv.URL, newFakeClock(), tt.mod)
			u, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: email, FirstName: "Ada"})
			var methods []string
			for _, l := range f.log() {
				methods = append(methods, strings.Fields(l)[0])
			}
			if strings.Join(methods, " ") != strings.Join(tt.want, " ") {
				t.Errorf("requests %v, want %v", f.log(), tt.want)
			}
			if tt.wantOK {
				if err != nil || u == nil || u.Email != email {
					t.Fatalf("CreateUser = %+v, %v", u, err)
				}
				if n := f.usersWithEmail(email); n != 1 {
					t.Errorf("%d users with %s, want 1", n, email)
				}
			} else if err == nil || !strings.Contains(err.Error(), "create "+email) {
				t.Errorf("err = %v, want a wrapped create error", err)
			}
		})
	}
}

func TestCreateExistingAdopts(t *testing.T) {
	// HubSpot documents no status for an address that exists: a 409 and a
	// 400 both lead to reading the user by email and adopting it.
	for _, status := range []int{http.StatusConflict, http.StatusBadRequest} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			f := newFakeHub(t, 3)
			existing := f.users["102"]
			if status == http.StatusBadRequest {
				f.intercept = func(w http.ResponseWriter, r *http.Request, _ int) bool {
					if r.Method != http.MethodPost {
						return false
					}
					hsError(w, 400, "VALIDATION_ERROR", "A user with this email already exists")
					return true
				}
			}
			c := newClient(t, f.srv.URL, newFakeClock(), nil)
			u, err := c.CreateUser(context.Background(), hubspot.UserCreate{Email: strings.ToUpper(existing.Email)})
			if !errors.Is(err, hubspot.ErrExists) || !hubspot.IsPermanent(err) {
				t.Fatalf("err = %v, want ErrExists", err)
			}
			var he *hubspot.Error
			if !errors.As(err, &he) || he.StatusCode != status || he.CorrelationID == "" {
				t.Errorf("error = %+v, want HubSpot's %d kept", he, status)
			}
			if u == nil || u.ID != existing.ID {
				t.Fatalf("user = %+v, want existing %s", u, existing.ID)
			}
			if got := f.log(); len(got) != 2 || !strings.HasPrefix(got[1], "GET ") || !strings.Contains(got[1], "idProperty=EMAIL") {
				t.Errorf("requests %v, want POST then GET by email", got)
			}
		})
	}
}

func TestDeleteAmbiguousThen404(t *testing.T) {
	f := newFakeHub(t, 2)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.Method != http.MethodDelete || n > 1 {
			return false
		}
		f.mu.Lock()
		delete(f.users, "101") // applied, then the answer is lost
		f.mu.Unlock()
		dropConnection(w)
		return true
	}
	c := newClient(t, f.srv.URL, newFakeClock(), nil)
	if err := c.DeleteUser(context.Background(), "101"); err != nil {
		t.Fatalf("DeleteUser = %v, want success (retry answered 404)", err)
	}
	if got := f.log(); len(got) != 2 {
		t.Errorf("requests %v, want two DELETEs", got)
	}
	// Without an ambiguous attempt first, 404 is an error.
	if err := c.DeleteUser(context.Background(), "101"); !hubspot.IsNotFound(err) {
		t.Errorf("DeleteUser of a missing user = %v, want 404", err)
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	f := newFakeHub(t, 2)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n <= 2 {
			dropConnection(w)
			return true
		}
		return false
	}
	c := newClient(t, f.srv.URL, newFakeClock(), nil)
	users, err := c.AllUsers(context.Background())
	if err != nil || len(users) != 2 {
		t.Fatalf("AllUsers = %d users, %v", len(users), err)
	}
	if f.count() != 3 {
		t.Errorf("requests %v, want 3", f.log())
	}
}

func TestContextCancelStopsRetrying(t *testing.T) {
	f := newFakeHub(t, 1)
	f.intercept = failFirst(http.MethodGet, 100, 503)
	ctx, cancel := context.WithCancel(context.Background())
	clk := newFakeClock()
	c := newClient(t, f.srv.URL, clk, func(cfg *hubspot.Config) {
		cfg.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return clk.Sleep(ctx, d) }
	})
	_, err := c.GetUser(ctx, "101")
	if !errors.Is(err, context.Canceled) || f.count() != 1 {
		t.Errorf("err = %v after %d requests, want context.Canceled after 1", err, f.count())
	}
}

func TestWaitDeleted(t *testing.T) {
	tests := []struct {
		name      string
		stale     int // GETs answered 200 after the delete
		timeout   time.Duration
		wantErr   error
		wantPolls int
	}{
		{"gone at once", 0, 10 * time.Second, nil, 1},
		{"eventually consistent", 3, 10 * time.Second, nil, 4},
		{"still there after the timeout", 1000, 2 * time.Second, hubspot.ErrDeletePending, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHub(t, 1)
			stale := tt.stale
			f.intercept = func(w http.ResponseWriter, r *http.Request, _ int) bool {
				if r.Method == http.MethodGet && stale > 0 {
					stale--
					writeJSON(w, 200, hubspot.User{ID: "101", Email: "user00@example.com", RoleIDs: []string{}})
					return true
				}
				return false
			}
			c := newClient(t, f.srv.URL, newFakeClock(), nil)
			ctx := context.Background()
			if err := c.DeleteUser(ctx, "101"); err != nil {
				t.Fatal(err)
			}
			err := c.WaitDeleted(ctx, "101", tt.timeout)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("WaitDeleted = %v, want %v", err, tt.wantErr)
			}
			if tt.wantPolls > 0 && f.count()-1 != tt.wantPolls {
				t.Errorf("%d polls, want %d", f.count()-1, tt.wantPolls)
			}
		})
	}
}
