package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/preflight"
)

// Tokens of the preflight portal: a private app with every scope, and two
// OAuth apps, one without any users write scope, one without the CRM
// users-object write scope.
const (
	checkTokenFull        = "pat-na1-check-full-SECRET"
	checkTokenNoWrite     = "oauth-check-no-users-write-SECRET"
	checkTokenNoCRMWrite  = "oauth-check-no-crm-write-SECRET"
	checkTokenUnknown     = "pat-na1-check-unknown-SECRET"
	checkTokenNoTeamsRead = "pat-na1-check-no-teams-read-SECRET"
)

func checkScopes(drop ...string) []string {
	all := []string{
		hubspotsim.ScopeUsersRead, hubspotsim.ScopeUsersWrite, hubspotsim.ScopeCRMUsersRead, hubspotsim.ScopeCRMUsersWrite,
		hubspotsim.ScopeTeamsRead, hubspotsim.ScopeTeamsWrite, hubspotsim.ScopeBillingWrite, hubspotsim.ScopeSecurityRead,
	}
	return slices.DeleteFunc(all, func(s string) bool { return slices.Contains(drop, s) })
}

// startCheckSim is the demo portal with the preflight's tokens.
func startCheckSim(t *testing.T) *hubspotsim.Server {
	t.Helper()
	seed := hubspotsim.DefaultSeed()
	seed.Tokens = append(seed.Tokens,
		hubspotsim.SeedToken{Token: checkTokenFull, Scopes: checkScopes()},
		hubspotsim.SeedToken{Token: checkTokenNoWrite, OAuth: true, Scopes: checkScopes(hubspotsim.ScopeUsersWrite, hubspotsim.ScopeCRMUsersWrite)},
		hubspotsim.SeedToken{Token: checkTokenNoCRMWrite, OAuth: true, Scopes: checkScopes(hubspotsim.ScopeCRMUsersWrite)},
		hubspotsim.SeedToken{Token: checkTokenNoTeamsRead, Scopes: checkScopes(hubspotsim.ScopeTeamsRead)},
	)
	srv, err := hubspotsim.Start(hubspotsim.Config{Seed: seed}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

// writeCheckConfig writes a configuration for the simulator with token,
// role as the Sales Managers' role, and extra YAML at the end.
func writeCheckConfig(t *testing.T, sim *hubspotsim.Server, token, role, extra string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fmt.Sprintf(`store:
  path: %s
auth:
  tokens:
    - name: test
      token: serve-token-for-tests-0123
hubspot:
  base_url: %s
  token: %s
mapping:
  default_role: Sales Representative
  roles:
    - {group: Sales Managers, role: %s}
  teams:
    - {group: EMEA Sales Reps, team: EMEA Sales}
log:
  format: json
%s`, filepath.Join(dir, "bridge.db"), sim.URL, token, role, extra)
	path := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runCheck runs `scimbridge hubspot check` in-process and checks that it
// wrote nothing to the portal and showed no token.
func runCheck(t *testing.T, sim *hubspotsim.Server, args ...string) (int, string, string) {
	t.Helper()
	before := sim.Sim.State()
	sim.Sim.ResetStats()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"hubspot", "check"}, args...), &stdout, &stderr)
	if after := sim.Sim.State(); !reflect.DeepEqual(before, after) {
		t.Errorf("the portal changed:\nbefore %+v\nafter  %+v", before, after)
	}
	for ep, st := range sim.Sim.Stats().Endpoints {
		if !strings.HasPrefix(ep, "GET ") && st.Calls > 0 {
			t.Errorf("%d calls of %s: the check may only read", st.Calls, ep)
		}
	}
	if strings.Contains(stdout.String()+stderr.String(), "SECRET") {
		t.Errorf("a token was printed:\n%s\n%s", stdout.String(), stderr.String())
	}
	return code, stdout.String(), stderr.String()
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("output lacks %q:\n%s", l, out)
		}
	}
}

func TestHubSpotCheckFullScopes(t *testing.T) {
	sim := startCheckSim(t)
	cfg := writeCheckConfig(t, sim, checkTokenFull, "Sales Manager", "")
	code, out, errOut := runCheck(t, sim, "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s\n%s", code, out, errOut)
	}
	wantLines(t, out,
		"HubSpot preflight of "+sim.URL+" (users API 2026-03)",
		"OK    token         accepted (a private-app token or service key",
		"WARN  scopes        not verifiable with this token type: settings.users.write (or crm.objects.users.write)",
		"granted: settings.users.read (or crm.objects.users.read)",
		"granted: account-info.security.read",
		"OK    api_versions  users 2026-03 answer",
		"OK    roles         every mapped role exists (Sales Representative, Sales Manager)",
		"OK    teams         every mapped team exists (EMEA Sales)",
		"OK    paid_seats    no mapped role takes a paid seat",
		"free seats: not reported by users API 2026-03",
		"OK    super_admins  1 super admin(s) among 1 users",
		"- admin@example.com",
		fmt.Sprintf("OK    portal        portal %d (STANDARD), time zone UTC as hubspot.time_zone", hubspotsim.PortalID),
		"OK    api_usage     ",
		"requests used today",
		"OK    rate_limits   100 requests per 10s",
		"daily 250000",
		"0 blocking, 1 warning(s): provisioning can start",
	)
}

func TestHubSpotCheckMissingScopes(t *testing.T) {
	sim := startCheckSim(t)
	tests := []struct {
		name, token, extra string
		want               []string
	}{
		{"no users write scope", checkTokenNoWrite, "",
			[]string{"FAIL  scopes        missing settings.users.write (or crm.objects.users.write)", "missing: settings.users.write (or crm.objects.users.write)"}},
		{"profile without the CRM write scope", checkTokenNoCRMWrite, "profile:\n  properties: {title: hs_job_title, department: department}\n",
			[]string{"FAIL  scopes        missing crm.objects.users.write", "crm users object 2026-03 answer", "OK    profile"}},
		{"no team list scope (private app, probed)", checkTokenNoTeamsRead, "",
			[]string{"FAIL  scopes        missing settings.users.teams.read", "HubSpot names the missing scope: settings.users.teams.read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := writeCheckConfig(t, sim, tt.token, "Sales Manager", tt.extra)
			code, out, errOut := runCheck(t, sim, "--config", cfg)
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errOut)
			}
			wantLines(t, out, append(tt.want, "1 blocking")...)
		})
	}
}

func TestHubSpotCheckMisnamedRole(t *testing.T) {
	sim := startCheckSim(t)
	cfg := writeCheckConfig(t, sim, checkTokenFull, "Sales Mgr", "")
	code, out, errOut := runCheck(t, sim, "--config", cfg)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errOut)
	}
	wantLines(t, out,
		"FAIL  roles         1 mapped role(s) unknown to HubSpot",
		`roles[0]: HubSpot has no role "Sales Mgr" (roles: Marketing Specialist, Restricted, Sales Hub Professional Seat, Sales Manager, Sales Representative, Support Agent)`,
		"1 blocking",
	)
}

func TestHubSpotCheckBadToken(t *testing.T) {
	sim := startCheckSim(t)
	cfg := writeCheckConfig(t, sim, checkTokenUnknown, "Sales Manager", "")
	code, out, errOut := runCheck(t, sim, "--config", cfg)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errOut)
	}
	wantLines(t, out, "FAIL  token         HubSpot refused the token (401): check hubspot.token", "1 blocking")
}

func TestHubSpotCheckJSON(t *testing.T) {
	sim := startCheckSim(t)
	cfg := writeCheckConfig(t, sim, checkTokenNoWrite, "Sales Hub Professional Seat",
		"profile:\n  properties: {title: hs_job_title}\nprovisioning:\n  manage_teams: true\n")
	code, out, errOut := runCheck(t, sim, "--config", cfg, "--output", "json")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, out, errOut)
	}
	var rep struct {
		BaseURL  string `json:"baseUrl"`
		Blocking int    `json:"blocking"`
		Checks   []struct {
			Check   string          `json:"check"`
			Status  string          `json:"status"`
			Summary string          `json:"summary"`
			Data    json.RawMessage `json:"data"`
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	var got []string
	for _, c := range rep.Checks {
		got = append(got, c.Check)
		if c.Status != "OK" && c.Status != "WARN" && c.Status != "FAIL" || c.Summary == "" {
			t.Errorf("check %+v", c)
		}
	}
	want := []string{preflight.CheckToken, preflight.CheckScopes, preflight.CheckAPIVersions, preflight.CheckRoles, preflight.CheckTeams,
		preflight.CheckProfile, preflight.CheckPaidSeats, preflight.CheckSuperAdmins, preflight.CheckPortal, preflight.CheckAPIUsage, preflight.CheckRateLimits}
	if !slices.Equal(got, want) {
		t.Errorf("checks %q, want %q", got, want)
	}
	if rep.BaseURL != sim.URL || rep.Blocking != 1 {
		t.Errorf("baseUrl %q, blocking %d", rep.BaseURL, rep.Blocking)
	}
	byCheck := map[string]json.RawMessage{}
	for _, c := range rep.Checks {
		byCheck[c.Check] = c.Data
	}
	var scopes preflight.ScopeData
	if err := json.Unmarshal(byCheck[preflight.CheckScopes], &scopes); err != nil {
		t.Fatal(err)
	}
	statusOf := map[string]string{}
	for _, n := range scopes.Needs {
		statusOf[n.Scopes[0]] = n.Status
	}
	wantScopes := map[string]string{
		"settings.users.read": "granted", "settings.users.write": "missing", "settings.users.teams.read": "granted",
		"settings.users.teams.write": "granted", "settings.billing.write": "granted", "crm.objects.users.read": "granted",
		"crm.objects.users.write": "missing", "account-info.security.read": "granted",
	}
	if scopes.Source != "token information" || !reflect.DeepEqual(statusOf, wantScopes) {
		t.Errorf("scopes %+v", scopes)
	}
	var seats preflight.SeatData
	if err := json.Unmarshal(byCheck[preflight.CheckPaidSeats], &seats); err != nil {
		t.Fatal(err)
	}
	if len(seats.PaidRoles) != 1 || seats.PaidRoles[0].Role != "Sales Hub Professional Seat" || seats.PaidRoles[0].Where != "roles[0]" {
		t.Errorf("paid seats %+v", seats)
	}
	var admins preflight.SuperAdminData
	if err := json.Unmarshal(byCheck[preflight.CheckSuperAdmins], &admins); err != nil {
		t.Fatal(err)
	}
	if admins.Count != 1 || !slices.Equal(admins.Emails, []string{"admin@example.com"}) {
		t.Errorf("super admins %+v", admins)
	}
	var limits preflight.RateLimitHeaders
	if err := json.Unmarshal(byCheck[preflight.CheckRateLimits], &limits); err != nil {
		t.Fatal(err)
	}
	if !limits.Seen || limits.Max != 100 || limits.IntervalMilliseconds != 10000 || limits.DailySeen {
		t.Errorf("rate limits of an OAuth app %+v", limits)
	}
}

func TestHubSpotCheckUsage(t *testing.T) {
	sim := startCheckSim(t)
	noToken := writeCheckConfig(t, sim, "", "Sales Manager", "")
	cfg := writeCheckConfig(t, sim, checkTokenFull, "Sales Manager", "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"hubspot"}, "usage: scimbridge hubspot check"},
		{"unknown subcommand", []string{"hubspot", "probe"}, "usage: scimbridge hubspot check"},
		{"no config", []string{"hubspot", "check"}, "--config is required"},
		{"bad output", []string{"hubspot", "check", "--config", cfg, "--output", "xml"}, "--output is table or json"},
		{"no token", []string{"hubspot", "check", "--config", noToken}, "hubspot.token is not set"},
		{"missing file", []string{"hubspot", "check", "--config", filepath.Join(t.TempDir(), "none.yaml")}, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tt.args, &stdout, &stderr); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}
