package hubspotsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// fresh is a client that never reuses connections, so the transport never
// retries a request whose connection was dropped.
func fresh(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func newUserBody(email string) map[string]any {
	return map[string]any{"email": email, "sendWelcomeEmail": false}
}

func TestServerErrors(t *testing.T) {
	tests := []struct {
		name     string
		faults   Faults
		statuses []int
		html     bool
	}{
		{"default statuses", Faults{ErrorRate: 1}, []int{502, 503, 504}, false},
		{"chosen status", Faults{ErrorRate: 1, ErrorStatuses: []int{503}}, []int{503}, false},
		{"html from the CDN", Faults{ErrorRate: 1, ErrorStatuses: []int{502, 504}, HTMLErrors: true}, []int{502, 504}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{Faults: tt.faults})
			seen := map[int]bool{}
			for i := range 30 {
				r := e.do("POST", usersPath, tokFull, newUserBody(fmt.Sprintf("x%d@example.com", i)))
				if !slices.Contains(tt.statuses, r.status) {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				seen[r.status] = true
				if tt.html {
					if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "<html>") {
						t.Errorf("not an HTML page: %s", r.body)
					}
					continue
				}
				var b errorBody
				r.decode(t, &b)
				if b.Status != "error" || b.Category == "" || b.CorrelationID == "" {
					t.Errorf("5xx body %s", r.body)
				}
			}
			if len(seen) != len(tt.statuses) {
				t.Errorf("saw statuses %v, want all of %v", seen, tt.statuses)
			}
			// A 5xx fault is not applied.
			if n := len(e.sim.State().Users); n != 1 {
				t.Errorf("%d users, want only the admin", n)
			}
		})
	}
}

func TestFaultScope(t *testing.T) {
	tests := []struct {
		name              string
		faults            Faults
		getFails, putFail bool
	}{
		{"writes only", Faults{ErrorRate: 1, Methods: []string{"WRITES"}}, false, true},
		{"GET only", Faults{ErrorRate: 1, Methods: []string{"get"}}, true, false},
		{"other paths", Faults{ErrorRate: 1, Paths: []string{"/settings/teams/"}}, false, false},
		{"users paths", Faults{ErrorRate: 1, Paths: []string{"/settings/users/"}}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{})
			u := e.createUser("s@example.com", nil)
			e.sim.SetFaults(tt.faults)
			g := e.do("GET", usersPath+"/"+u.ID, tokFull, nil)
			p := e.do("PUT", usersPath+"/"+u.ID, tokFull, map[string]any{"firstName": "X"})
			if (g.status >= 500) != tt.getFails || (p.status >= 500) != tt.putFail {
				t.Errorf("GET %d, PUT %d", g.status, p.status)
			}
		})
	}
}

func TestLatency(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{Latency: 40 * time.Millisecond, LatencyJitter: 20 * time.Millisecond}})
	for range 3 {
		start := time.Now()
		e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Errorf("answered in %v, latency 40ms", d)
		}
	}
}

func TestTimeouts(t *testing.T) {
	t.Run("drop without applying", func(t *testing.T) {
		e := newEnv(t, Config{Faults: Faults{TimeoutRate: 1, TimeoutHold: 150 * time.Millisecond}})
		start := time.Now()
		r := doReq(t, fresh(0), e.srv.URL, "POST", usersPath, tokFull, newUserBody("t@example.com"))
		if r.err == nil {
			t.Fatalf("answered %d: %s", r.status, r.body)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("dropped after %v, hold 150ms", d)
		}
		if _, ok := findUser(e.sim.State(), "t@example.com"); ok {
			t.Errorf("a dropped request was applied")
		}
		if st := e.sim.Stats(); st.Aborted != 1 || st.Calls("POST /settings/users/{version}", 0) != 1 {
			t.Errorf("stats %+v", st)
		}
	})
	t.Run("client gives up first", func(t *testing.T) {
		e := newEnv(t, Config{Faults: Faults{TimeoutRate: 1, TimeoutHold: 5 * time.Second}})
		start := time.Now()
		r := doReq(t, fresh(100*time.Millisecond), e.srv.URL, "GET", usersPath, tokFull, nil)
		if r.err == nil || !strings.Contains(r.err.Error(), "Timeout") {
			t.Fatalf("want a client timeout, got %v %d", r.err, r.status)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("took %v", d)
		}
	})
	t.Run("answer late", func(t *testing.T) {
		e := newEnv(t, Config{Faults: Faults{TimeoutRate: 1, TimeoutHold: 100 * time.Millisecond, TimeoutAnswer: true}})
		start := time.Now()
		doReq(t, fresh(0), e.srv.URL, "POST", usersPath, tokFull, newUserBody("late@example.com")).wantStatus(t, 201)
		if d := time.Since(start); d < 100*time.Millisecond {
			t.Errorf("answered after %v, hold 100ms", d)
		}
	})
}

func TestStorm(t *testing.T) {
	e := newEnv(t, Config{Limits: Limits{TenSecondly: 100, Daily: 1000}})
	e.sim.SetFaults(Faults{Storm: 5 * time.Second})
	for range 10 {
		r := e.do("POST", usersPath, tokFull, newUserBody("storm@example.com"))
		want429(t, r, hubspot.PolicyTenSecondly)
		if header(t, r, "X-HubSpot-RateLimit-Remaining") != 0 {
			t.Errorf("storm headers %v", r.header)
		}
	}
	if _, ok := findUser(e.sim.State(), "storm@example.com"); ok {
		t.Errorf("a storm 429 was applied")
	}
	e.clock.Advance(5 * time.Second)
	r := e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200)
	// The storm's 429s counted toward nothing.
	if header(t, r, "X-HubSpot-RateLimit-Remaining") != 99 || header(t, r, "X-HubSpot-RateLimit-Daily-Remaining") != 999 {
		t.Errorf("after the storm: %v", r.header)
	}
}

func TestLostAnswersAreCommitted(t *testing.T) {
	e := newEnv(t, Config{})
	u := e.createUser("keep@example.com", nil)
	e.sim.AcceptInvite(u.Email) // so that its names may change
	e.sim.SetFaults(Faults{LostAnswerRate: 1})
	c := fresh(5 * time.Second)

	if r := doReq(t, c, e.srv.URL, "POST", usersPath, tokFull, newUserBody("lost@example.com")); r.err == nil {
		t.Fatalf("create answered %d", r.status)
	}
	if r := doReq(t, c, e.srv.URL, "PUT", usersPath+"/"+u.ID, tokFull, map[string]any{"firstName": "Lost"}); r.err == nil {
		t.Fatalf("update answered %d", r.status)
	}
	// Reads are never lost.
	got := doReq(t, c, e.srv.URL, "GET", usersPath+"/"+u.ID, tokFull, nil).wantStatus(t, 200).user(t)
	if got.FirstName != "Lost" {
		t.Errorf("the update whose answer was lost was not applied: %+v", got)
	}
	lost, ok := findUser(e.sim.State(), "lost@example.com")
	if !ok {
		t.Fatalf("the create whose answer was lost was not applied")
	}
	if r := doReq(t, c, e.srv.URL, "DELETE", usersPath+"/"+lost.ID, tokFull, nil); r.err == nil {
		t.Fatalf("delete answered %d", r.status)
	}
	if _, ok := findUser(e.sim.State(), "lost@example.com"); ok {
		t.Errorf("the delete whose answer was lost was not applied")
	}
	// The client's recovery path: create again → the email exists (400
	// by default, Behaviour.DuplicateEmailStatus), read by email.
	e.sim.SetFaults(Faults{})
	e.do("POST", usersPath, tokFull, newUserBody("keep@example.com")).wantError(t, 400, catValidation, "email")
	if st := e.sim.Stats(); st.Aborted != 3 {
		t.Errorf("%d aborted calls, want 3", st.Aborted)
	}
}

func TestNestedErrors(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{NestedErrorRate: 1}})
	eb := e.do("GET", usersPath+"/424242", tokFull, nil).wantError(t, 404, catNotFound, "")
	var inner errorBody
	if err := json.Unmarshal([]byte(eb.Message), &inner); err != nil {
		t.Fatalf("message %q is not a JSON envelope: %v", eb.Message, err)
	}
	if inner.Status != "error" || inner.Category != catNotFound || !strings.Contains(inner.Message, "424242") || inner.CorrelationID != eb.CorrelationID {
		t.Errorf("inner envelope %+v", inner)
	}
	// Validation details travel inside.
	eb = e.do("POST", usersPath, tokFull, map[string]any{"sendWelcomeEmail": true}).wantError(t, 400, catValidation, "")
	if err := json.Unmarshal([]byte(eb.Message), &inner); err != nil || len(inner.Errors) == 0 || inner.Errors[0].In != "email" {
		t.Errorf("inner %+v (%v)", inner, err)
	}
}

func TestFaultsAreDeterministic(t *testing.T) {
	run := func(f Faults, seed int64) []int {
		e := newEnv(t, Config{Faults: f, RandSeed: seed})
		var out []int
		for range 40 {
			out = append(out, e.do("GET", usersPath, tokFull, nil).status)
		}
		return out
	}
	f := Faults{ErrorRate: 0.5}
	a, b := run(f, 7), run(f, 7)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different runs:\n%v\n%v", a, b)
	}
	if c := run(f, 8); slices.Equal(a, c) {
		t.Errorf("different seeds, same run %v", a)
	}
	ok := slices.ContainsFunc(a, func(s int) bool { return s == 200 }) && slices.ContainsFunc(a, func(s int) bool { return s >= 500 })
	if !ok {
		t.Errorf("rate 0.5 gave %v", a)
	}
	// Faults.Seed reseeds at SetFaults.
	e := newEnv(t, Config{})
	e.sim.SetFaults(Faults{ErrorRate: 0.5, Seed: 7})
	var d []int
	for range 40 {
		d = append(d, e.do("GET", usersPath, tokFull, nil).status)
	}
	if !slices.Equal(a, d) {
		t.Errorf("Faults.Seed 7 differs from RandSeed 7:\n%v\n%v", a, d)
	}
}

func TestEventuallyConsistentDelete(t *testing.T) {
	e := newEnv(t, Config{Faults: Faults{DeletedReadableFor: 2 * time.Second, DeletedListedFor: 5 * time.Second}})
	u := e.createUser("ec@example.com", map[string]any{"roleId": roleRep})
	keep := e.createUser("zz@example.com", nil)
	e.do("DELETE", usersPath+"/"+u.ID, tokFull, nil).wantStatus(t, 204)

	listed := func() bool {
		var p listPage
		e.do("GET", usersPath+"?limit=1&after="+adminID, tokFull, nil).wantStatus(t, 200).decode(t, &p)
		return len(p.Results) == 1 && p.Results[0].ID == u.ID && p.Paging != nil
	}
	got := e.do("GET", usersPath+"/"+u.ID, tokFull, nil).wantStatus(t, 200).user(t)
	if got.RoleID != roleRep {
		t.Errorf("ghost %+v", got)
	}
	e.do("GET", usersPath+"/ec@example.com?idProperty=EMAIL", tokFull, nil).wantStatus(t, 200)
	if !listed() {
		t.Errorf("deleted user not listed during the lag")
	}
	// The team views and the state are already consistent.
	if _, ok := findUser(e.sim.State(), "ec@example.com"); ok {
		t.Errorf("state still has the deleted user")
	}
	e.clock.Advance(2 * time.Second)
	e.do("GET", usersPath+"/"+u.ID, tokFull, nil).wantError(t, 404, catNotFound, "")
	if !listed() {
		t.Errorf("deleted user not listed during the list lag")
	}
	e.clock.Advance(3 * time.Second)
	var p listPage
	e.do("GET", usersPath, tokFull, nil).wantStatus(t, 200).decode(t, &p)
	if len(p.Results) != 2 || p.Results[1].ID != keep.ID {
		t.Errorf("after the lag: %+v", p.Results)
	}
}

func TestFaultsOverHTTP(t *testing.T) {
	e := newEnv(t, Config{})
	var got Faults
	e.do("POST", "/_sim/faults", "", `{"errorRate": 0.25, "latency": "5ms", "methods": ["WRITES"], "storm": "1s", "deletedListedFor": "2s"}`).wantStatus(t, 200).decode(t, &got)
	want := Faults{ErrorRate: 0.25, Latency: 5 * time.Millisecond, Methods: []string{"WRITES"}, Storm: time.Second, DeletedListedFor: 2 * time.Second}
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(e.sim.Faults()) != fmt.Sprint(want) {
		t.Errorf("faults %+v, want %+v", got, want)
	}
	r := e.do("GET", "/_sim/faults", "", nil).wantStatus(t, 200)
	if !strings.Contains(string(r.body), `"latency":"5ms"`) {
		t.Errorf("GET /_sim/faults %s", r.body)
	}
	// What GET answers can be posted back.
	e.do("POST", "/_sim/faults", "", string(r.body)).wantStatus(t, 200)
	for _, bad := range []string{`{"errorRate": 2}`, `{"eror": 1}`, `{"latency": 5}`, `{"timeoutRate": 0.5}`, `{"errorStatuses": [404]}`, `not json`} {
		e.do("POST", "/_sim/faults", "", bad).wantError(t, 400, catValidation, "")
	}
	e.do("POST", "/_sim/faults", "", `{}`).wantStatus(t, 200)
	if f := e.sim.Faults(); fmt.Sprint(f) != fmt.Sprint(Faults{}) {
		t.Errorf("{} left %+v", f)
	}
	if _, err := New(Config{Faults: Faults{ErrorRate: -1}}); err == nil {
		t.Errorf("New accepted a negative rate")
	}
}
