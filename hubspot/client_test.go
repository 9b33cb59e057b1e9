package hubspot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
)

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		cfg     hubspot.Config
		wantErr string
	}{
		{"defaults", hubspot.Config{Token: "t"}, ""},
		{"v3", hubspot.Config{Token: "t", APIVersion: "v3"}, ""},
		{"no token", hubspot.Config{}, "token is required"},
		{"token with a newline", hubspot.Config{Token: "abc\nX-Evil: 1"}, "white space"},
		{"unknown version", hubspot.Config{Token: "t", APIVersion: "v4"}, `unknown API version "v4"`},
		{"bad scheme", hubspot.Config{Token: "t", BaseURL: "ftp://api.hubapi.com"}, "want http(s)://host"},
		{"credentials in URL", hubspot.Config{Token: "t", BaseURL: "https://u:p@api.hubapi.com"}, "no credentials"},
		{"negative rate", hubspot.Config{Token: "t", RateLimit: -1}, "must not be negative"},
		{"all problems at once", hubspot.Config{APIVersion: "x", RateLimit: -1}, "token is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := hubspot.New(tt.cfg)
			if tt.wantErr == "" {
				if err != nil || c == nil {
					t.Fatalf("New = %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "Evil") || strings.Contains(err.Error(), "u:p") {
				t.Errorf("error echoes a secret: %v", err)
			}
		})
	}
	c, _ := hubspot.New(hubspot.Config{Token: "t"})
	if st := c.Limiter().State(); st.Limit != 100 || st.Interval != 10*time.Second || st.DailyLimit != 250000 || c.APIVersion() != "2026-03" {
		t.Errorf("defaults: %+v, version %s", st, c.APIVersion())
	}
	c, _ = hubspot.New(hubspot.Config{Token: "t", DailyLimit: -1})
	if st := c.Limiter().State(); st.DailyLimit != 0 {
		t.Errorf("DailyLimit -1: %+v, want unknown (0)", st)
	}
}

// recorder records every request as "METHOD path?query body" and answers
// it with its answer function (newRecorder: a plausible success).
type recorder struct {
	mu   sync.Mutex
	seen []string
	srv  *httptest.Server
}

func newRecorder(t *testing.T) *recorder { return newRecorderWith(t, plausibleSuccess) }

func newRecorderWith(t *testing.T, answer http.HandlerFunc) *recorder {
	rec := &recorder{}
	rec.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		line := r.Method + " " + r.URL.RequestURI()
		if len(body) > 0 {
			line += " " + string(bytes.TrimSpace(body))
		}
		rec.mu.Lock()
		rec.seen = append(rec.seen, line)
		rec.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(rec.srv.Close)
	return rec
}

// plausibleSuccess answers a request of any kind with a success.
func plausibleSuccess(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	case strings.HasSuffix(r.URL.Path, "/members") && r.Method == http.MethodPost:
		writeJSON(w, 201, map[string]string{"userId": "7", "type": "EXTRA"})
	case r.Method == http.MethodGet && (strings.HasSuffix(r.URL.Path, "/members") || strings.HasSuffix(r.URL.Path, "/roles") ||
		strings.HasSuffix(r.URL.Path, "/teams") || strings.HasSuffix(r.URL.Path, "/2026-09-beta") ||
		strings.HasSuffix(r.URL.Path, "/users") || strings.HasSuffix(r.URL.Path, "/2026-03") || strings.Contains(r.URL.Path, "/activity/")):
		writeJSON(w, 200, map[string]any{"results": []any{}})
	case strings.Contains(r.URL.Path, "/settings/teams/"):
		writeJSON(w, 200, map[string]string{"id": "5", "name": "EMEA", "parentTeamId": "1"})
	default:
		writeJSON(w, 200, hubspot.User{ID: "7", Email: "a@example.com", RoleIDs: []string{}})
	}
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.seen
	r.seen = nil
	return s
}

func TestVersionPaths(t *testing.T) {
	ctx := context.Background()
	first := "Ada"
	calls := []struct {
		name string
		call func(c *hubspot.Client) error
		want map[string]string // by version
	}{
		{"list", func(c *hubspot.Client) error { _, _, err := c.ListUsers(ctx, "abc", 0); return err }, map[string]string{
			"2026-03": "GET /settings/users/2026-03?after=abc&limit=100",
			"v3":      "GET /settings/v3/users?after=abc&limit=100",
		}},
		{"get", func(c *hubspot.Client) error { _, err := c.GetUser(ctx, "7"); return err }, map[string]string{
			"2026-03": "GET /settings/users/2026-03/7",
			"v3":      "GET /settings/v3/users/7",
		}},
		{"get by email, escaped", func(c *hubspot.Client) error { _, err := c.GetUserByEmail(ctx, "a+b/c@example.com"); return err }, map[string]string{
			"2026-03": "GET /settings/users/2026-03/a%2Bb%2Fc@example.com?idProperty=EMAIL",
			"v3":      "GET /settings/v3/users/a%2Bb%2Fc@example.com?idProperty=EMAIL",
		}},
		{"create", func(c *hubspot.Client) error {
			_, err := c.CreateUser(ctx, hubspot.UserCreate{Email: "a@example.com", RoleID: "3"})
			return err
		}, map[string]string{
			"2026-03": `POST /settings/users/2026-03 {"email":"a@example.com","sendWelcomeEmail":false,"roleId":"3"}`,
			"v3":      `POST /settings/v3/users {"email":"a@example.com","sendWelcomeEmail":false,"roleId":"3"}`,
		}},
		{"update", func(c *hubspot.Client) error {
			_, err := c.UpdateUser(ctx, "7", hubspot.UserUpdate{FirstName: &first})
			return err
		}, map[string]string{
			"2026-03": `PUT /settings/users/2026-03/7 {"firstName":"Ada"}`,
			"v3":      `PUT /settings/v3/users/7 {"firstName":"Ada"}`,
		}},
		{"delete", func(c *hubspot.Client) error { return c.DeleteUser(ctx, "7") }, map[string]string{
			"2026-03": "DELETE /settings/users/2026-03/7",
			"v3":      "DELETE /settings/v3/users/7",
		}},
		{"roles", func(c *hubspot.Client) error { _, err := c.Roles(ctx); return err }, map[string]string{
			"2026-03": "GET /settings/users/2026-03/roles",
			"v3":      "GET /settings/v3/users/roles",
		}},
		{"teams", func(c *hubspot.Client) error { _, err := c.Teams(ctx); return err }, map[string]string{
			"2026-03": "GET /settings/users/2026-03/teams",
			"v3":      "GET /settings/v3/users/teams",
		}},
		{"logins, limit capped at 200", func(c *hubspot.Client) error { _, _, err := c.Logins(ctx, "7", "", 500); return err }, map[string]string{
			"2026-03": "GET /account-info/2026-03/activity/login?limit=200&userId=7",
			"v3":      "GET /account-info/v3/activity/login?limit=200&userId=7",
		}},
	}
	for _, version := range []string{"2026-03", "v3"} {
		for _, tt := range calls {
			t.Run(version+"/"+tt.name, func(t *testing.T) {
				rec := newRecorder(t)
				c := newClient(t, rec.srv.URL, newFakeClock(), func(cfg *hubspot.Config) { cfg.APIVersion = version })
				if err := tt.call(c); err != nil {
					t.Fatal(err)
				}
				if got := rec.take(); len(got) != 1 || got[0] != tt.want[version] {
					t.Errorf("requests %q, want %q", got, tt.want[version])
				}
			})
		}
	}
}

func TestTeamsAPI(t *testing.T) {
	ctx := context.Background()
	m := hubspot.TeamMember{UserID: "7", Type: hubspot.MemberExtra}
	calls := []struct {
		name string
		call func(c *hubspot.Client) error
		want []string
	}{
		{"create", func(c *hubspot.Client) error { _, err := c.CreateTeam(ctx, "EMEA", nil); return err },
			[]string{`POST /settings/teams/V {"name":"EMEA","members":[]}`}},
		{"rename keeps the parent", func(c *hubspot.Client) error { _, err := c.RenameTeam(ctx, "5", "APAC"); return err },
			[]string{"GET /settings/teams/V/5", `PATCH /settings/teams/V/5 {"name":"APAC","parentTeamId":"1"}`}},
		{"delete", func(c *hubspot.Client) error { return c.DeleteTeam(ctx, "5") },
			[]string{"DELETE /settings/teams/V/5"}},
		{"add member", func(c *hubspot.Client) error { return c.AddTeamMember(ctx, "5", m) },
			[]string{`POST /settings/teams/V/5/members {"userId":"7","type":"EXTRA"}`}},
		{"remove member", func(c *hubspot.Client) error { return c.RemoveTeamMember(ctx, "5", "7", hubspot.MemberDefault) },
			[]string{"DELETE /settings/teams/V/5/members/7?type=DEFAULT"}},
		{"members", func(c *hubspot.Client) error { _, err := c.TeamMembers(ctx, "5"); return err },
			[]string{"GET /settings/teams/V/5/members?limit=100"}},
	}
	for _, version := range []string{"", hubspot.TeamsVersion202609Beta} {
		want := version
		if want == "" {
			want = hubspot.TeamsVersion202609 // the GA version is the default
		}
		for _, tt := range calls {
			t.Run(want+"/"+tt.name, func(t *testing.T) {
				rec := newRecorder(t)
				c := newClient(t, rec.srv.URL, newFakeClock(), func(cfg *hubspot.Config) { cfg.TeamsAPIVersion = version })
				if err := tt.call(c); err != nil {
					t.Fatal(err)
				}
				var exp []string
				for _, w := range tt.want {
					exp = append(exp, strings.ReplaceAll(w, "/V", "/"+want))
				}
				if got := rec.take(); strings.Join(got, "\n") != strings.Join(exp, "\n") {
					t.Errorf("requests\n %q\nwant\n %q", got, exp)
				}
			})
		}
	}
	if _, err := hubspot.New(hubspot.Config{Token: "t", TeamsAPIVersion: "2025-01"}); err == nil {
		t.Error("an unknown Teams API version was accepted")
	}
}

func TestLoginDecoding(t *testing.T) {
	srv := cannedServer(t, 200, nil, `{"results":[
		{"id":"1","userId":123,"email":"a@example.com","loginAt":"2026-05-01T10:00:00.123Z","loginSucceeded":true,"ipAddress":"192.0.2.1","location":"Berlin"},
		{"id":"2","userId":"124","loginAt":1746093600000,"loginSucceeded":false}],
		"paging":{"next":{"after":"MTA=","link":"?after=MTA="}}}`)
	c := newClient(t, srv.URL, newFakeClock(), nil)
	logins, next, err := c.Logins(context.Background(), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := []hubspot.Login{
		{ID: "1", UserID: "123", Email: "a@example.com", LoginAt: time.Date(2026, 5, 1, 10, 0, 0, 123e6, time.UTC),
			LoginSucceeded: true, IPAddress: "192.0.2.1", Location: "Berlin"},
		{ID: "2", UserID: "124", LoginAt: time.UnixMilli(1746093600000).UTC()},
	}
	if next != "MTA=" || len(logins) != 2 {
		t.Fatalf("logins %+v next %q", logins, next)
	}
	for i := range want {
		if !logins[i].LoginAt.Equal(want[i].LoginAt) {
			t.Errorf("login %d at %s, want %s", i, logins[i].LoginAt, want[i].LoginAt)
		}
		logins[i].LoginAt, want[i].LoginAt = time.Time{}, time.Time{}
		if logins[i] != want[i] {
			t.Errorf("login %d = %+v, want %+v", i, logins[i], want[i])
		}
	}
}

// TestTokenNeverLeaks drives failures of every kind and checks that the
// token appears in no error and no log line, while HubSpot receives it.
func TestTokenNeverLeaks(t *testing.T) {
	var logs bytes.Buffer
	log := zerolog.New(&logs).Level(zerolog.DebugLevel)
	f := newFakeHub(t, 2)
	f.intercept = func(w http.ResponseWriter, r *http.Request, n int) bool {
		switch n % 5 {
		case 1:
			hsError(w, 503, "INTERNAL_ERROR", "echo "+r.Header.Get("Authorization")[:5])
		case 2:
			dropConnection(w)
		case 3:
			rateLimited(w, hubspot.PolicyTenSecondly)
		case 4:
			hsError(w, 401, "INVALID_AUTHENTICATION", "Authentication credentials not found")
		default:
			return false
		}
		return true
	}
	c := newClient(t, f.srv.URL, newFakeClock(), func(cfg *hubspot.Config) { cfg.Log = log })
	ctx := context.Background()
	var errs []error
	for range 3 {
		_, err := c.GetUser(ctx, "101")
		errs = append(errs, err)
		_, err = c.CreateUser(ctx, hubspot.UserCreate{Email: "new@example.com"})
		errs = append(errs, err)
	}
	closed := newClient(t, "http://127.0.0.1:1", newFakeClock(), func(cfg *hubspot.Config) { cfg.Log = log; cfg.MaxRetries = 1 })
	_, err := closed.AllUsers(ctx)
	errs = append(errs, err)

	for _, err := range errs {
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("token in error: %v", err)
		}
	}
	if strings.Contains(logs.String(), "SECRET") {
		t.Errorf("token in logs:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"correlation_id":"0c5e1e9c-0000-4000-8000-000000000401"`) {
		t.Errorf("error log lacks the correlation id:\n%s", logs.String())
	}
	var lines int
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil {
			t.Errorf("log line not JSON: %s", line)
		}
		lines++
	}
	if lines == 0 {
		t.Error("no logs")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.auths {
		if a != "Bearer "+testToken {
			t.Fatalf("Authorization %q", a)
		}
	}
}

func TestUserUpdateJSON(t *testing.T) {
	role, team := "3", ""
	tests := []struct {
		name string
		in   hubspot.UserUpdate
		want string
	}{
		{"nil teams left out", hubspot.UserUpdate{RoleID: &role}, `{"roleId":"3"}`},
		{"empty teams cleared", hubspot.UserUpdate{RoleID: &role, PrimaryTeamID: &team, SecondaryTeamIDs: []string{}},
			`{"roleId":"3","primaryTeamId":"","secondaryTeamIds":[]}`},
		{"teams sent", hubspot.UserUpdate{SecondaryTeamIDs: []string{"1", "2"}}, `{"secondaryTeamIds":["1","2"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.in)
			if err != nil || string(got) != tt.want {
				t.Errorf("json = %s, %v; want %s", got, err, tt.want)
			}
		})
	}
}
