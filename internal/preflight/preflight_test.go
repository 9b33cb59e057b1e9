package preflight

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/provision"
)

var now = time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)

func hsErr(status int, category string, missing ...string) error {
	e := &hubspot.Error{StatusCode: status, Category: category, Message: http.StatusText(status), Method: "GET", Path: "/x"}
	if len(missing) > 0 {
		e.Context = map[string][]string{"missingScopes": missing}
	}
	return fmt.Errorf("hubspot: read: %w", e)
}

func ok[T any](v T) Result[T]           { return Result[T]{Read: true, Value: v} }
func failed[T any](err error) Result[T] { return Result[T]{Read: true, Err: err} }

func baseSettings() Settings {
	return Settings{
		BaseURL: "https://api.hubapi.com", APIVersion: "2026-03", TeamsAPIVersion: "2026-09",
		Rules: provision.Rules{
			DefaultRole: "Sales Representative",
			Roles:       []provision.RoleRule{{Group: "Managers", Role: "Sales Manager"}},
			Teams:       []provision.TeamRule{{Group: "EMEA Reps", Team: "EMEA Sales"}},
		},
		TimeZone: "UTC", DailyLimit: 250000, RateLimit: 100, RateInterval: 10 * time.Second, Now: now,
	}
}

// privateFacts is a healthy portal read with a private-app token.
func privateFacts() Facts {
	return Facts{
		TokenInfo: failed[*hubspot.TokenInfo](hsErr(404, "OBJECT_NOT_FOUND")),
		Users: ok([]hubspot.User{
			{ID: "1", Email: "Zed@example.com", SuperAdmin: true},
			{ID: "2", Email: "ada@example.com", SuperAdmin: true},
			{ID: "3", Email: "rep@example.com"},
		}),
		Roles: ok([]hubspot.Role{{ID: "31", Name: "Sales Manager"}, {ID: "32", Name: "Sales Representative"},
			{ID: "33", Name: "Pro Seat", RequiresBillingWrite: true}}),
		Teams:   ok([]hubspot.Team{{ID: "51", Name: "EMEA Sales"}, {ID: "52", Name: "NA Sales"}}),
		Logins:  ok([]hubspot.Login{}),
		Details: ok(&hubspot.AccountDetails{PortalID: 62515, TimeZone: "UTC", AccountType: "STANDARD"}),
		Usage: ok([]hubspot.APIUsage{{Name: "private-apps-api-calls-daily", UsageLimit: 250000, CurrentUsage: 1000,
			FetchStatus: "SUCCESS", ResetsAt: time.Date(2026, 9, 2, 0, 0, 0, 0, time.UTC)}}),
		Seats:   Result[[]hubspot.Seat]{},
		Headers: RateLimitHeaders{Seen: true, Max: 100, Remaining: 91, IntervalMilliseconds: 10000, DailySeen: true, Daily: 250000, DailyRemaining: 249000},
		CRMProperties: Result[[]hubspot.Property]{
			Value: []hubspot.Property{{Name: "hs_job_title"}, {Name: "department"}, {Name: "hs_created_by", ReadOnly: true}},
		},
		TeamsAPI: Result[[]hubspot.Team]{Value: []hubspot.Team{{ID: "51", Name: "EMEA Sales"}}},
	}
}

func allScopes() []string {
	return []string{"settings.users.read", "settings.users.write", "crm.objects.users.read", "crm.objects.users.write",
		"settings.users.teams.read", "settings.users.teams.write", "settings.billing.write", "account-info.security.read"}
}

func without(all []string, drop ...string) []string {
	var out []string
	for _, s := range all {
		keep := true
		for _, d := range drop {
			keep = keep && s != d
		}
		if keep {
			out = append(out, s)
		}
	}
	return out
}

// oauth makes the facts those of an OAuth token with scopes: no usage
// read, no daily headers.
func oauth(f *Facts, scopes []string) {
	f.TokenInfo = ok(&hubspot.TokenInfo{HubID: 62515, AppID: 456, User: "ada@example.com", Scopes: scopes, ExpiresIn: 1754})
	f.Usage = Result[[]hubspot.APIUsage]{}
	f.Headers.DailySeen, f.Headers.Daily, f.Headers.DailyRemaining = false, 0, 0
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name     string
		settings func(*Settings)
		facts    func(*Facts)
		// want maps checks to statuses; checks left out must be OK.
		want map[string]Status
		// contains maps checks to text their summary or details must hold.
		contains map[string][]string
		// absent: checks that must not be reported.
		absent []string
	}{
		{
			name: "private-app token, healthy portal",
			want: map[string]Status{CheckScopes: Warn},
			contains: map[string][]string{
				CheckToken:       {"private-app token or service key"},
				CheckScopes:      {"not verifiable with this token type: settings.users.write (or crm.objects.users.write)", "granted: settings.users.read (or crm.objects.users.read)"},
				CheckSuperAdmins: {"2 super admin(s) among 3 users", "ada@example.com", "Zed@example.com"},
				CheckPaidSeats:   {"no mapped role takes a paid seat", "not reported by users API 2026-03"},
				CheckAPIUsage:    {"1000 of 250000 requests used today, 249000 left"},
				CheckRateLimits:  {"100 requests per 10s, 91 left", "daily 250000, 249000 left"},
				CheckPortal:      {"portal 62515 (STANDARD), time zone UTC"},
				CheckAPIVersions: {"users API 2026-03: answers"},
			},
			absent: []string{CheckProfile},
		},
		{
			name:  "OAuth token with every scope",
			facts: func(f *Facts) { oauth(f, allScopes()) },
			want:  map[string]Status{CheckToken: Warn},
			contains: map[string][]string{
				CheckToken:      {"OAuth access token of app 456 for portal 62515", "does not refresh"},
				CheckScopes:     {"every needed scope is granted (token information)"},
				CheckAPIUsage:   {"OAuth app: no daily limit", "hubspot.daily_limit is 250000"},
				CheckRateLimits: {"no daily headers (OAuth apps have no daily limit)"},
			},
		},
		{
			name:  "OAuth token without a users write scope",
			facts: func(f *Facts) { oauth(f, without(allScopes(), "settings.users.write", "crm.objects.users.write")) },
			want:  map[string]Status{CheckToken: Warn, CheckScopes: Fail},
			contains: map[string][]string{
				CheckScopes: {"missing settings.users.write (or crm.objects.users.write)"},
			},
		},
		{
			name:  "crm.objects.users.write stands in for settings.users.write",
			facts: func(f *Facts) { oauth(f, without(allScopes(), "settings.users.write")) },
			want:  map[string]Status{CheckToken: Warn},
		},
		{
			name: "profile configured, OAuth token without crm.objects.users.write",
			settings: func(s *Settings) {
				s.ProfileProperties = []string{"department", "hs_job_title"}
			},
			facts: func(f *Facts) {
				oauth(f, without(allScopes(), "crm.objects.users.write"))
				f.CRMProperties.Read = true
			},
			want: map[string]Status{CheckToken: Warn, CheckScopes: Fail},
			contains: map[string][]string{
				CheckScopes:      {"missing crm.objects.users.write"},
				CheckAPIVersions: {"crm users object API 2026-03: answers"},
				CheckProfile:     {"every profile property exists and is writable (department, hs_job_title)"},
			},
		},
		{
			name:     "profile property missing or read-only",
			settings: func(s *Settings) { s.ProfileProperties = []string{"cost_center", "hs_created_by"} },
			facts:    func(f *Facts) { f.CRMProperties.Read = true },
			want:     map[string]Status{CheckScopes: Warn, CheckProfile: Fail},
			contains: map[string][]string{
				CheckProfile: {"2 of 2 profile properties cannot be written", `no property "cost_center"`, `"hs_created_by" is read-only`},
			},
		},
		{
			name: "private-app token without the team list scope",
			facts: func(f *Facts) {
				f.Teams = failed[[]hubspot.Team](hsErr(403, "MISSING_SCOPES", "settings.users.teams.read"))
			},
			want: map[string]Status{CheckScopes: Fail, CheckTeams: Warn},
			contains: map[string][]string{
				CheckScopes: {"missing settings.users.teams.read", "HubSpot names the missing scope: settings.users.teams.read"},
				CheckTeams:  {"HubSpot refused the read (403"},
			},
		},
		{
			name: "no login log scope: a warning",
			facts: func(f *Facts) {
				f.Logins = failed[[]hubspot.Login](hsErr(403, "MISSING_SCOPES", "account-info.security.read"))
			},
			want:     map[string]Status{CheckScopes: Warn},
			contains: map[string][]string{CheckScopes: {"missing account-info.security.read (access reviews lack logins)"}},
		},
		{
			name: "token refused",
			facts: func(f *Facts) {
				*f = Facts{TokenInfo: failed[*hubspot.TokenInfo](hsErr(404, "OBJECT_NOT_FOUND")),
					Users: failed[[]hubspot.User](hsErr(401, "INVALID_AUTHENTICATION")), Stopped: StoppedUnauthorized}
			},
			want: map[string]Status{CheckToken: Fail, CheckScopes: Warn, CheckAPIVersions: Warn, CheckRoles: Warn, CheckTeams: Warn,
				CheckPaidSeats: Warn, CheckSuperAdmins: Warn, CheckPortal: Warn, CheckAPIUsage: Warn, CheckRateLimits: Warn},
			contains: map[string][]string{CheckToken: {"HubSpot refused the token (401)"}, CheckRoles: {"not checked: the token was refused"},
				CheckSuperAdmins: {"not checked: the token was refused"}},
		},
		{
			name: "HubSpot unreachable",
			facts: func(f *Facts) {
				*f = Facts{TokenInfo: failed[*hubspot.TokenInfo](errors.New("dial tcp 127.0.0.1:1: connection refused")), Stopped: StoppedUnreachable}
			},
			want: map[string]Status{CheckToken: Fail, CheckScopes: Warn, CheckAPIVersions: Warn, CheckRoles: Warn, CheckTeams: Warn,
				CheckPaidSeats: Warn, CheckSuperAdmins: Warn, CheckPortal: Warn, CheckAPIUsage: Warn, CheckRateLimits: Warn},
			contains: map[string][]string{CheckToken: {"could not be reached at https://api.hubapi.com", "connection refused"}},
		},
		{
			name: "unknown users API version",
			facts: func(f *Facts) {
				f.Users = failed[[]hubspot.User](hsErr(404, "OBJECT_NOT_FOUND"))
				f.Roles = failed[[]hubspot.Role](hsErr(404, "OBJECT_NOT_FOUND"))
				f.Teams = failed[[]hubspot.Team](hsErr(404, "OBJECT_NOT_FOUND"))
			},
			want: map[string]Status{CheckAPIVersions: Fail, CheckScopes: Warn, CheckRoles: Warn, CheckTeams: Warn, CheckPaidSeats: Warn, CheckSuperAdmins: Warn},
			contains: map[string][]string{
				CheckAPIVersions: {"failing: users 2026-03", "unknown to HubSpot (404)"},
				CheckScopes:      {"could not verify settings.users.read"},
			},
		},
		{
			name: "misnamed role",
			settings: func(s *Settings) {
				s.Rules.Roles = append(s.Rules.Roles, provision.RoleRule{Group: "Support", Role: "Support Agent"})
			},
			want: map[string]Status{CheckScopes: Warn, CheckRoles: Fail},
			contains: map[string][]string{
				CheckRoles: {"1 mapped role(s) unknown", `roles[1]: HubSpot has no role "Support Agent" (roles: Pro Seat, Sales Manager, Sales Representative)`},
			},
		},
		{
			name:     "misnamed team",
			settings: func(s *Settings) { s.Rules.Teams[0].Team = "EMEA" },
			want:     map[string]Status{CheckScopes: Warn, CheckTeams: Fail},
			contains: map[string][]string{
				CheckTeams: {`teams[0]: HubSpot has no team "EMEA" (teams: EMEA Sales, NA Sales)`},
			},
		},
		{
			name:     "paid-seat role mapped, private-app token",
			settings: func(s *Settings) { s.Rules.DefaultRole = "pro seat" },
			want:     map[string]Status{CheckScopes: Warn},
			contains: map[string][]string{
				CheckPaidSeats: {"1 mapped role(s) take a paid seat (requiresBillingWrite): Pro Seat (default_role)", "free seats: not reported by users API 2026-03"},
				CheckScopes:    {"settings.billing.write"},
			},
		},
		{
			name:     "beta: seats read, one pool empty",
			settings: func(s *Settings) { s.APIVersion = "2026-09-beta"; s.Rules.DefaultRole = "Pro Seat" },
			facts: func(f *Facts) {
				zero, five := 0, 5
				f.Seats = ok([]hubspot.Seat{{Name: "Pro Seat", RemainingSeats: &zero}, {Name: "Core", RemainingSeats: &five}})
			},
			want: map[string]Status{CheckScopes: Warn, CheckPaidSeats: Warn},
			contains: map[string][]string{
				CheckPaidSeats: {"seat Pro Seat: 0 free", "seat Core: 5 free", "some seats have none free"},
				CheckScopes:    {"granted: settings.billing.write"},
			},
		},
		{
			name:     "beta: no billing scope",
			settings: func(s *Settings) { s.APIVersion = "2026-09-beta"; s.Rules.DefaultRole = "Pro Seat" },
			facts: func(f *Facts) {
				f.Seats = failed[[]hubspot.Seat](hsErr(403, "MISSING_SCOPES", "settings.billing.write"))
			},
			want: map[string]Status{CheckScopes: Fail},
			contains: map[string][]string{
				CheckScopes:    {"missing settings.billing.write"},
				CheckPaidSeats: {"not readable without settings.billing.write"},
			},
		},
		{
			name:     "time zone differs",
			settings: func(s *Settings) { s.TimeZone = "UTC" },
			facts:    func(f *Facts) { f.Details.Value.TimeZone = "America/New_York" },
			want:     map[string]Status{CheckScopes: Warn, CheckPortal: Warn},
			contains: map[string][]string{CheckPortal: {"time zone America/New_York, but hubspot.time_zone is UTC", "set hubspot.time_zone: America/New_York"}},
		},
		{
			name:     "time zone alias",
			settings: func(s *Settings) { s.TimeZone = "Etc/UTC" },
			want:     map[string]Status{CheckScopes: Warn},
		},
		{
			name: "usage from headers when the usage read fails",
			facts: func(f *Facts) {
				f.Usage = failed[[]hubspot.APIUsage](hsErr(403, "MISSING_SCOPES"))
				f.Headers.DailyRemaining = 200000
			},
			want:     map[string]Status{CheckScopes: Warn},
			contains: map[string][]string{CheckAPIUsage: {"50000 of 250000 requests used today, 200000 left (from the X-HubSpot-RateLimit-Daily headers)"}},
		},
		{
			name: "little of the daily budget left",
			facts: func(f *Facts) {
				f.Usage.Value[0].CurrentUsage = 240000
			},
			want:     map[string]Status{CheckScopes: Warn, CheckAPIUsage: Warn},
			contains: map[string][]string{CheckAPIUsage: {"less than 10%"}},
		},
		{
			name: "no usage and no daily headers",
			facts: func(f *Facts) {
				f.Usage = failed[[]hubspot.APIUsage](hsErr(404, "OBJECT_NOT_FOUND"))
				f.Headers = RateLimitHeaders{Seen: true, Max: 190, Remaining: 189, IntervalMilliseconds: 10000}
			},
			want: map[string]Status{CheckScopes: Warn, CheckAPIUsage: Warn},
			contains: map[string][]string{
				CheckAPIUsage:   {"today's API usage is unknown"},
				CheckRateLimits: {"190 requests per 10s", "hubspot.rate_limit is 100 per 10s, HubSpot's 190 per 10s", "HubSpot leaves them out for OAuth apps only"},
			},
		},
		{
			name:     "managed teams: unknown Teams API version",
			settings: func(s *Settings) { s.ManageTeams = true; s.TeamsAPIVersion = "2026-09-beta" },
			facts: func(f *Facts) {
				f.TeamsAPI = failed[[]hubspot.Team](hsErr(404, "OBJECT_NOT_FOUND"))
			},
			want: map[string]Status{CheckScopes: Warn, CheckAPIVersions: Fail},
			contains: map[string][]string{
				CheckAPIVersions: {"teams API 2026-09-beta: unknown to HubSpot (404)"},
				CheckScopes:      {"settings.users.teams.write"},
			},
		},
		{
			name:     "managed teams: the Teams API answers 403",
			settings: func(s *Settings) { s.ManageTeams = true },
			facts: func(f *Facts) {
				f.TeamsAPI = failed[[]hubspot.Team](hsErr(403, "MISSING_SCOPES", "settings.users.teams.read"))
			},
			want:     map[string]Status{CheckScopes: Warn},
			contains: map[string][]string{CheckAPIVersions: {"teams API 2026-09: answers (403 for missing scopes"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, f := baseSettings(), privateFacts()
			if tt.settings != nil {
				tt.settings(&s)
			}
			if tt.facts != nil {
				tt.facts(&f)
			}
			rep := Evaluate(s, f)
			blocking := 0
			for _, fd := range rep.Findings {
				want, ok := tt.want[fd.Check]
				if !ok {
					want = OK
				}
				if fd.Status != want {
					t.Errorf("%s: %s, want %s: %s %q", fd.Check, fd.Status, want, fd.Summary, fd.Details)
				}
				if fd.Status == Fail {
					blocking++
				}
			}
			if rep.Blocking != blocking || rep.OK() != (blocking == 0) {
				t.Errorf("blocking %d, OK %v; %d FAIL findings", rep.Blocking, rep.OK(), blocking)
			}
			for check, texts := range tt.contains {
				fd := rep.Finding(check)
				if fd == nil {
					t.Errorf("no %s finding", check)
					continue
				}
				all := fd.Summary + "\n" + strings.Join(fd.Details, "\n")
				for _, text := range texts {
					if !strings.Contains(all, text) {
						t.Errorf("%s lacks %q:\n%s", check, text, all)
					}
				}
			}
			for _, check := range tt.absent {
				if rep.Finding(check) != nil {
					t.Errorf("unexpected %s finding", check)
				}
			}
			for check := range tt.want {
				if rep.Finding(check) == nil {
					t.Errorf("no %s finding", check)
				}
			}
		})
	}
}

func TestRenderers(t *testing.T) {
	s, f := baseSettings(), privateFacts()
	f.Users.Value[0].Email = "evil\x1b[31m@example.com"
	rep := Evaluate(s, f)
	var table bytes.Buffer
	if err := WriteTable(&table, rep); err != nil {
		t.Fatal(err)
	}
	out := table.String()
	for _, want := range []string{"HubSpot preflight of https://api.hubapi.com (users API 2026-03)", "OK    token", "WARN  scopes",
		"- evil [31m@example.com", "0 blocking, 1 warning(s): provisioning can start"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a control character reached the table")
	}
	var js bytes.Buffer
	if err := WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Blocking int `json:"blocking"`
		Checks   []struct {
			Check  string          `json:"check"`
			Status Status          `json:"status"`
			Data   json.RawMessage `json:"data"`
		} `json:"checks"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Checks) != len(rep.Findings) || doc.Blocking != 0 {
		t.Errorf("JSON: %+v", doc)
	}
}

func TestHeaderRecorder(t *testing.T) {
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		if r.URL.Path == "/a" {
			h.Set("X-HubSpot-RateLimit-Max", "190")
			h.Set("X-HubSpot-RateLimit-Remaining", "150")
			h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		}
		return &http.Response{StatusCode: 200, Header: h, Body: http.NoBody}, nil
	})
	rec := NewHeaderRecorder(rt)
	for _, p := range []string{"/a", "/b"} {
		req, _ := http.NewRequest(http.MethodGet, "http://example.com"+p, nil)
		if _, err := rec.RoundTrip(req); err != nil {
			t.Fatal(err)
		}
	}
	if got := rec.Headers(); got != (RateLimitHeaders{Seen: true, Max: 190, Remaining: 150, IntervalMilliseconds: 10000}) {
		t.Errorf("headers %+v", got)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
