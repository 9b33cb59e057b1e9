package hubspot_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

// fakeHub is a small HubSpot stand-in for sequencing-specific tests: it
// answers with HubSpot's exact shapes (error envelopes, paging, rate limit
// headers) and lets a test intercept any request (first attempt 503,
// commit then drop the connection, 429 bodies…) and count requests.
type fakeHub struct {
	t       *testing.T
	srv     *httptest.Server
	version string // users path segment: "2026-03" or "v3"

	mu       sync.Mutex
	users    map[string]*hubspot.User // by id
	nextID   int
	requests []string // "METHOD path?query"
	auths    []string
	// intercept, when set, sees every request first; it returns true when
	// it has answered (or dropped) the request. n counts the requests so
	// far, this one included.
	intercept func(w http.ResponseWriter, r *http.Request, n int) bool
	// commitThen, when set, lets the create happen and then calls it
	// instead of writing the answer (to drop the connection or send 5xx).
	commitThen func(w http.ResponseWriter, r *http.Request)
	headers    http.Header // added to every answer
}

func newFakeHub(t *testing.T, nUsers int) *fakeHub {
	t.Helper()
	f := &fakeHub{t: t, version: "2026-03", users: map[string]*hubspot.User{}, nextID: 100, headers: http.Header{}}
	for i := range nUsers {
		f.add(fmt.Sprintf("user%02d@example.com", i), "User", strconv.Itoa(i))
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeHub) add(email, first, last string) *hubspot.User {
	f.nextID++
	u := &hubspot.User{ID: strconv.Itoa(f.nextID), Email: email, FirstName: first, LastName: last, RoleIDs: []string{}}
	f.users[u.ID] = u
	return u
}

func (f *fakeHub) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.requests)
}

func (f *fakeHub) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

func (f *fakeHub) usersWithEmail(email string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, u := range f.users {
		if strings.EqualFold(u.Email, email) {
			n++
		}
	}
	return n
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// hsError writes HubSpot's error envelope.
func hsError(w http.ResponseWriter, status int, category, msg string) {
	writeJSON(w, status, map[string]any{
		"status": "error", "message": msg, "category": category,
		"correlationId": fmt.Sprintf("0c5e1e9c-0000-4000-8000-%012d", status),
	})
}

// dropConnection closes the connection without an answer.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("no hijacker")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

var emailRE = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)

func (f *fakeHub) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	n := len(f.requests)
	intercept := f.intercept
	for k, v := range f.headers {
		w.Header()[k] = v
	}
	f.mu.Unlock()
	if intercept != nil && intercept(w, r, n) {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	base := "/settings/users/" + f.version
	if f.version == "v3" {
		base = "/settings/v3/users"
	}
	path := r.URL.Path
	switch {
	case path == base && r.Method == http.MethodGet:
		f.list(w, r)
	case path == base && r.Method == http.MethodPost:
		var in hubspot.UserCreate
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || !emailRE.MatchString(in.Email) {
			writeJSON(w, 400, map[string]any{
				"status": "error", "message": "Invalid input JSON on line 1", "category": "VALIDATION_ERROR",
				"correlationId": "7a5e1e9c-0000-4000-8000-000000000400",
				"errors":        []map[string]any{{"message": "email must be a valid address", "in": "email", "code": "INVALID_EMAIL"}},
			})
			return
		}
		for _, u := range f.users {
			if strings.EqualFold(u.Email, in.Email) {
				hsError(w, 409, "CONFLICT", "A user with email "+u.Email+" already exists")
				return
			}
		}
		u := f.add(in.Email, in.FirstName, in.LastName)
		u.RoleID, u.PrimaryTeamID, u.SecondaryTeamIDs = in.RoleID, in.PrimaryTeamID, in.SecondaryTeamIDs
		if f.commitThen != nil {
			f.commitThen(w, r)
			return
		}
		w.Header().Set("Location", base+"/"+u.ID)
		writeJSON(w, 201, u)
	case path == base+"/roles":
		writeJSON(w, 200, map[string]any{"results": []hubspot.Role{{ID: "1", Name: "Sales", RequiresBillingWrite: true}, {ID: "2", Name: "Viewer"}}})
	case path == base+"/teams":
		writeJSON(w, 200, map[string]any{"results": []hubspot.Team{{ID: "10", Name: "EMEA", UserIDs: []string{}, SecondaryUserIDs: []string{}}}})
	case strings.HasPrefix(path, base+"/"):
		f.user(w, r, strings.TrimPrefix(path, base+"/"))
	case path == "/account-info/2026-03/activity/login" || path == "/account-info/v3/activity/login":
		writeJSON(w, 200, map[string]any{"results": []map[string]any{{
			"id": "1", "userId": 101, "email": "user00@example.com", "loginAt": "2026-05-01T10:00:00Z", "loginSucceeded": true,
		}}})
	default:
		hsError(w, 404, "OBJECT_NOT_FOUND", "no route "+path)
	}
}

func (f *fakeHub) sorted() []*hubspot.User {
	all := make([]*hubspot.User, 0, len(f.users))
	for _, u := range f.users {
		all = append(all, u)
	}
	sort.Slice(all, func(i, j int) bool {
		return len(all[i].ID) < len(all[j].ID) || len(all[i].ID) == len(all[j].ID) && all[i].ID < all[j].ID
	})
	return all
}

func (f *fakeHub) list(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	start := 0
	all := f.sorted()
	if after := r.URL.Query().Get("after"); after != "" {
		for i, u := range all {
			if u.ID == after {
				start = i
			}
		}
	}
	end := min(start+limit, len(all))
	out := map[string]any{"results": all[start:end]}
	if end < len(all) {
		out["paging"] = map[string]any{"next": map[string]any{"after": all[end].ID, "link": "?after=" + all[end].ID}}
	}
	writeJSON(w, 200, out)
}

func (f *fakeHub) user(w http.ResponseWriter, r *http.Request, key string) {
	var u *hubspot.User
	if r.URL.Query().Get("idProperty") == "EMAIL" {
		for _, x := range f.users {
			if strings.EqualFold(x.Email, key) {
				u = x
			}
		}
	} else {
		u = f.users[key]
	}
	if u == nil {
		hsError(w, 404, "OBJECT_NOT_FOUND", "Unable to find user "+key)
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, 200, u)
	case http.MethodPut:
		var in hubspot.UserUpdate
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			hsError(w, 400, "VALIDATION_ERROR", err.Error())
			return
		}
		if in.FirstName != nil {
			u.FirstName = *in.FirstName
		}
		if in.LastName != nil {
			u.LastName = *in.LastName
		}
		writeJSON(w, 200, u)
	case http.MethodDelete:
		delete(f.users, u.ID)
		w.WriteHeader(204)
	}
}

// fakeClock is an injected clock whose Sleep advances time at once and
// records what was slept.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	if d > 0 {
		c.t = c.t.Add(d)
	}
	return nil
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *fakeClock) Slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

const testToken = "pat-na1-00000000-SECRET-TOKEN-0000"

// newClient returns a client for url with an injected clock. Unless mod
// brings its own HTTPClient, the client checks its traffic against the
// contract (contractTransport): every request, and the answers of a
// simulator.
func newClient(t *testing.T, url string, clk *fakeClock, mod func(*hubspot.Config)) *hubspot.Client {
	t.Helper()
	cfg := hubspot.Config{BaseURL: url, Token: testToken, Now: clk.Now, Sleep: clk.Sleep, Timeout: 2 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: contractTransport(t, cfg.BaseURL)}
	}
	c, err := hubspot.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
