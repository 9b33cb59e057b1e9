package hubspotsim

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/hubspot"
)

const yamlSeed = `
roles:
  - name: Sales Manager
  - id: "900"
    name: Seat
    requiresBillingWrite: true
teams:
  - name: EMEA Sales
  - id: "777"
    name: Nordics
    parent: EMEA Sales
users:
  - email: Boss@Example.com
    firstName: Bo
    lastName: Ss
    role: Seat
    primaryTeam: Nordics
    secondaryTeams: [EMEA Sales]
    superAdmin: true
  - email: rep@example.com
    role: "3000001"
    primaryTeam: "5000001"
    pending: true
tokens:
  - token: secret-1
    scopes: [settings.users.read]
    app: crm-sync
limits:
  tenSecondly: 190
  daily: 625000
  interval: 10s
  timeZone: Europe/Berlin
logins:
  - email: boss@example.com
    at: 2026-08-30T10:00:00Z
    ipAddress: 192.0.2.1
  - email: rep@example.com
    ago: 36h
    succeeded: false
`

const jsonSeed = `{
  "roles": [{"name": "Sales Manager"}, {"id": "900", "name": "Seat", "requiresBillingWrite": true}],
  "teams": [{"name": "EMEA Sales"}, {"id": "777", "name": "Nordics", "parent": "EMEA Sales"}],
  "users": [
    {"email": "Boss@Example.com", "firstName": "Bo", "lastName": "Ss", "role": "Seat", "primaryTeam": "Nordics", "secondaryTeams": ["EMEA Sales"], "superAdmin": true},
    {"email": "rep@example.com", "role": "3000001", "primaryTeam": "5000001", "pending": true}
  ],
  "tokens": [{"token": "secret-1", "scopes": ["settings.users.read"], "app": "crm-sync"}],
  "limits": {"tenSecondly": 190, "daily": 625000, "interval": "10s", "timeZone": "Europe/Berlin"},
  "logins": [
    {"email": "boss@example.com", "at": "2026-08-30T10:00:00Z", "ipAddress": "192.0.2.1"},
    {"email": "rep@example.com", "ago": "36h", "succeeded": false}
  ]
}`

func TestLoadSeed(t *testing.T) {
	for name, doc := range map[string]string{"seed.yaml": yamlSeed, "seed.json": jsonSeed} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
				t.Fatal(err)
			}
			seed, err := LoadSeed(path)
			if err != nil {
				t.Fatal(err)
			}
			if seed.Limits != (Limits{TenSecondly: 190, Daily: 625000, Interval: 10 * time.Second, TimeZone: "Europe/Berlin"}) {
				t.Errorf("limits %+v", seed.Limits)
			}
			if !seed.Logins[0].At.Equal(time.Date(2026, 8, 30, 10, 0, 0, 0, time.UTC)) || seed.Logins[1].Ago != 36*time.Hour || *seed.Logins[1].Succeeded {
				t.Errorf("logins %+v", seed.Logins)
			}
			e := newEnv(t, Config{Seed: seed})
			st := e.sim.State()
			wantRoles := []hubspot.Role{{ID: "3000001", Name: "Sales Manager"}, {ID: "900", Name: "Seat", RequiresBillingWrite: true}}
			if !slices.Equal(st.Roles, wantRoles) {
				t.Errorf("roles %+v", st.Roles)
			}
			if len(st.Teams) != 2 || st.Teams[0].ID != "777" || st.Teams[0].ParentTeamID != "5000001" || st.Teams[1].ID != "5000001" {
				t.Errorf("teams %+v", st.Teams)
			}
			boss, _ := findUser(st, "boss@example.com")
			if boss.Email != "boss@example.com" || boss.RoleID != "900" || boss.PrimaryTeamID != "777" || !slices.Equal(boss.SecondaryTeamIDs, []string{"5000001"}) || !boss.SuperAdmin {
				t.Errorf("boss %+v", boss)
			}
			rep, _ := findUser(st, "rep@example.com")
			if rep.RoleID != "3000001" || rep.PrimaryTeamID != "5000001" || rep.SuperAdmin {
				t.Errorf("rep %+v", rep)
			}
			checkTeams(t, st)
			// The seeded token works, with its scopes and limits.
			r := e.do("GET", usersPath, "secret-1", nil).wantStatus(t, 200)
			if r.header.Get("X-HubSpot-RateLimit-Max") != "190" {
				t.Errorf("headers %v", r.header)
			}
			e.do("POST", usersPath, "secret-1", newUserBody("x@example.com")).wantError(t, 403, catScopes, "")
			e.do("GET", usersPath, tokFull, nil).wantError(t, 401, catAuth, "")
		})
	}
}

func TestSeedErrors(t *testing.T) {
	tests := []struct{ name, doc, want string }{
		{"unknown field", "rolez: []", "rolez"},
		{"unknown role", "users: [{email: a@example.com, role: Nope}]", `role "Nope"`},
		{"unknown team", "users: [{email: a@example.com, primaryTeam: Nope}]", `primaryTeam "Nope"`},
		{"unknown secondary team", "users: [{email: a@example.com, secondaryTeams: [Nope]}]", `"Nope"`},
		{"duplicate email", "users: [{email: a@example.com}, {email: A@example.com}]", "twice"},
		{"bad email", "users: [{email: nope}]", "not valid"},
		{"duplicate role", "roles: [{name: A}, {name: a}]", "twice"},
		{"non-numeric role id", "roles: [{id: abc, name: A}]", "not numeric"},
		{"duplicate team", "teams: [{name: A}, {name: A}]", "twice"},
		{"unknown parent", "teams: [{name: A, parent: B}]", "parent"},
		{"duplicate token", "tokens: [{token: t}, {token: t}]", "twice"},
		{"bad duration", "logins: [{email: a@example.com, ago: soon}]", "soon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seed, err := ParseSeed([]byte(tt.doc))
			if err == nil {
				_, err = New(Config{Seed: seed})
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
	if _, err := LoadSeed(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Errorf("LoadSeed of a missing file succeeded")
	}
}

func TestDefaultSeed(t *testing.T) {
	srv, err := Start(Config{}, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") || srv.Addr() == "" {
		t.Errorf("URL %q", srv.URL)
	}
	st := srv.Sim.State()
	var roleNames, teamNames []string
	paid := 0
	for _, r := range st.Roles {
		roleNames = append(roleNames, r.Name)
		if r.RequiresBillingWrite {
			paid++
		}
	}
	for _, tm := range st.Teams {
		teamNames = append(teamNames, tm.Name)
	}
	for _, want := range []string{"Sales Manager", "Sales Representative", "Marketing Specialist", "Support Agent", "Restricted"} {
		if !slices.Contains(roleNames, want) {
			t.Errorf("no role %q in %v", want, roleNames)
		}
	}
	if paid != 1 {
		t.Errorf("%d paid-seat roles", paid)
	}
	if !slices.Equal(teamNames, []string{"EMEA Sales", "NA Sales", "APAC Sales", "Support", "Marketing"}) {
		t.Errorf("teams %v", teamNames)
	}
	if admin, ok := findUser(st, "admin@example.com"); !ok || !admin.SuperAdmin {
		t.Errorf("no super admin: %+v", st.Users)
	}
	// The demo token reaches every API.
	c := fresh(5 * time.Second)
	for _, p := range []string{usersPath, usersPath + "/roles", usersPath + "/teams", teamsBase, loginPath} {
		r := doReq(t, c, srv.URL, "GET", p, DemoToken, nil).wantStatus(t, 200)
		if p == loginPath && !strings.Contains(string(r.body), "admin@example.com") {
			t.Errorf("no seeded login: %s", r.body)
		}
	}
	doReq(t, c, srv.URL, "POST", usersPath, DemoToken, map[string]any{"email": "p@example.com", "sendWelcomeEmail": false, "roleId": "3000006"}).wantStatus(t, 201)
	if err := srv.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}
