package hubspotsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

func TestInspectState(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 1}})
	u := e.createUser("s@example.com", map[string]any{"roleId": roleManager, "primaryTeamId": teamNA})
	// Neither authenticated nor rate limited (the window of 1 is spent).
	var st State
	for range 3 {
		e.do("GET", "/_sim/state", "", nil).wantStatus(t, 200).decode(t, &st)
	}
	if len(st.Users) != 2 || st.Users[1].ID != u.ID || st.Users[1].RoleID != roleManager || len(st.Roles) != 3 || len(st.Teams) != 3 {
		t.Errorf("state %+v", st)
	}
	if !slices.Equal(st.Teams[1].UserIDs, []string{u.ID}) {
		t.Errorf("team NA %+v", st.Teams[1])
	}
	// State is a deep copy.
	in := e.sim.State()
	in.Users[0].RoleIDs = append(in.Users[0].RoleIDs, "x")
	in.Teams[0].UserIDs[0] = "x"
	if again := e.sim.State(); slices.Contains(again.Users[0].RoleIDs, "x") || again.Teams[0].UserIDs[0] == "x" {
		t.Errorf("State shares memory with the simulator")
	}
}

func TestInspectStats(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 3, Daily: 1000}})
	e.createUser("a@example.com", nil)
	e.do("POST", usersPath, tokFull, newUserBody("a@example.com")).wantStatus(t, 400) // the email exists
	e.do("GET", usersPath+"/1", tokFull, nil).wantStatus(t, 404)
	e.do("GET", usersPath+"/2", tokFull, nil).wantStatus(t, 429)
	e.do("GET", "/settings/v3/users/3", tokFull, nil).wantStatus(t, 429)
	e.do("GET", "/nowhere", tokFull, nil).wantStatus(t, 404)
	e.do("GET", usersPath, "nope", nil).wantStatus(t, 401)

	var st Stats
	e.do("GET", "/_sim/stats", "", nil).wantStatus(t, 200).decode(t, &st)
	if st.Total != 7 || st.RateLimited != 2 || st.ByStatus["201"] != 1 || st.ByStatus["400"] != 1 || st.ByStatus["404"] != 2 || st.ByStatus["429"] != 2 || st.ByStatus["401"] != 1 {
		t.Errorf("stats %+v", st)
	}
	tests := []struct {
		endpoint string
		status   int
		want     int64
	}{
		{"POST /settings/users/{version}", 0, 2},
		{"POST /settings/users/{version}", 201, 1},
		{"POST /settings/users/{version}", 400, 1},
		{"GET /settings/users/{version}/{userId}", 404, 1},
		{"GET /settings/users/{version}/{userId}", 429, 1},
		{"GET /settings/v3/users/{userId}", 429, 1},
		{"GET /settings/users/{version}", 401, 1},
		{"unmatched", 404, 1},
	}
	for _, tt := range tests {
		if got := st.Calls(tt.endpoint, tt.status); got != tt.want {
			t.Errorf("%s %d: %d calls, want %d", tt.endpoint, tt.status, got, tt.want)
		}
	}
	if len(st.PerSecond) != 1 || st.PerSecond[0].Count != 7 {
		t.Errorf("per second %+v", st.PerSecond)
	}
	e.do("POST", "/_sim/reset-stats", "", nil).wantStatus(t, 204)
	if st := e.sim.Stats(); st.Total != 0 || len(st.Endpoints) != 0 || len(st.PerSecond) != 0 {
		t.Errorf("after reset %+v", st)
	}
}

func TestInspectLogins(t *testing.T) {
	e := newEnv(t, Config{})
	e.do("POST", "/_sim/logins", "", `{"email": "admin@example.com", "ago": "1h", "succeeded": false}`).wantStatus(t, 204)
	e.do("POST", "/_sim/logins", "", `{"emial": "x"}`).wantStatus(t, 400)
	var p loginPage
	e.do("GET", loginPath, tokFull, nil).wantStatus(t, 200).decode(t, &p)
	if len(p.Results) != 1 || p.Results[0].LoginSucceeded || !p.Results[0].LoginAt.Equal(e.clock.Now().Add(-3600e9)) {
		t.Errorf("logins %+v", p.Results)
	}
}

// TestConcurrentCreates races creates of the same emails: exactly one
// wins each, the rest are told the email exists (400 by default), and ids
// stay unique.
func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t, Config{})
	const emails, workers = 40, 8
	var created, conflicts atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			c := e.srv.Client()
			for i := range emails {
				email := fmt.Sprintf("User%02d@Example.com", (i+w*5)%emails)
				if w%2 == 1 {
					email = fmt.Sprintf("user%02d@example.com", (i+w*5)%emails)
				}
				r := doReq(t, c, e.srv.URL, "POST", usersPath, tokFull, map[string]any{
					"email": email, "sendWelcomeEmail": false, "primaryTeamId": []string{teamEMEA, teamNA, teamAPAC}[i%3],
					"secondaryTeamIds": []string{teamAPAC},
				})
				switch r.status {
				case http.StatusCreated:
					created.Add(1)
				case http.StatusBadRequest:
					if !strings.Contains(string(r.body), "already exists") {
						t.Errorf("status 400: %s", r.body)
					}
					conflicts.Add(1)
				default:
					t.Errorf("status %d: %s", r.status, r.body)
				}
			}
		})
	}
	// Readers and team writers meanwhile.
	// (Off the test goroutine: t.Errorf only.)
	wg.Go(func() {
		for range 50 {
			for _, p := range []string{usersPath + "?limit=7", usersPath + "/teams"} {
				if r := doReq(t, e.srv.Client(), e.srv.URL, "GET", p, tokFull, nil); r.status != 200 {
					t.Errorf("GET %s: %d", p, r.status)
				}
			}
		}
	})
	wg.Go(func() {
		for i := range 30 {
			r := doReq(t, e.srv.Client(), e.srv.URL, "GET", fmt.Sprintf("%s/user%02d@example.com?idProperty=EMAIL", usersPath, i), tokFull, nil)
			var u struct{ ID string }
			if r.status != http.StatusOK || json.Unmarshal(r.body, &u) != nil {
				continue
			}
			if r := doReq(t, e.srv.Client(), e.srv.URL, "POST", teamsBase+"/"+teamNA+"/members", tokFull, map[string]string{"userId": u.ID, "type": "DEFAULT"}); r.status != 201 {
				t.Errorf("add member: %d %s", r.status, r.body)
			}
		}
	})
	wg.Wait()
	if created.Load() != emails || conflicts.Load() != emails*(workers-1) {
		t.Errorf("%d created, %d conflicts", created.Load(), conflicts.Load())
	}
	st := e.sim.State()
	ids := map[string]bool{}
	for _, u := range st.Users {
		if ids[u.ID] {
			t.Errorf("id %s twice", u.ID)
		}
		ids[u.ID] = true
	}
	if len(st.Users) != emails+1 {
		t.Errorf("%d users", len(st.Users))
	}
	checkTeams(t, st)
}

// TestHandlerInProcess drives the handler without a network, as a
// benchmark harness may.
func TestHandlerInProcess(t *testing.T) {
	sim, err := New(Config{Seed: testSeed()})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("GET", usersPath+"/"+adminID, nil)
	req.Header.Set("Authorization", "Bearer "+tokFull)
	rec := httptest.NewRecorder()
	sim.Handler().ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Errorf("status %d: %s", rec.Code, rec.Body)
	}
}
