package hubspotsim

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// Seed is a portal's starting content, read from YAML or JSON (LoadSeed).
// Roles and teams are referred to by id or name; ids left out are handed
// out in order.
type Seed struct {
	Roles  []SeedRole  `json:"roles,omitempty" yaml:"roles"`
	Teams  []SeedTeam  `json:"teams,omitempty" yaml:"teams"`
	Users  []SeedUser  `json:"users,omitempty" yaml:"users"`
	Tokens []SeedToken `json:"tokens,omitempty" yaml:"tokens"`
	Limits Limits      `json:"limits,omitzero" yaml:"limits"`
	Logins []SeedLogin `json:"logins,omitempty" yaml:"logins"`
	// CRMUserProperties are custom properties of the CRM users object,
	// beside HubSpot's; CRMUsers set starting values of users-object
	// records (crm_props.go).
	CRMUserProperties []SeedCRMProperty `json:"crmUserProperties,omitempty" yaml:"crmUserProperties"`
	CRMUsers          []SeedCRMUser     `json:"crmUsers,omitempty" yaml:"crmUsers"`
}

// SeedRole is a role (permission set). Roles are made in HubSpot's UI
// only, so the seed is the only way to have them.
type SeedRole struct {
	ID                   string `json:"id,omitempty" yaml:"id"`
	Name                 string `json:"name" yaml:"name"`
	RequiresBillingWrite bool   `json:"requiresBillingWrite,omitempty" yaml:"requiresBillingWrite"`
}

// SeedTeam is a team; Parent is a team listed before it (id or name).
type SeedTeam struct {
	ID     string `json:"id,omitempty" yaml:"id"`
	Name   string `json:"name" yaml:"name"`
	Parent string `json:"parent,omitempty" yaml:"parent"`
}

// SeedUser is a user. SuperAdmin users can only come from the seed.
// Pending users have not accepted their invitation: they refuse name
// changes until they log in or accept (Behaviour.InvitesAcceptedAtOnce).
type SeedUser struct {
	ID             string   `json:"id,omitempty" yaml:"id"`
	Email          string   `json:"email" yaml:"email"`
	FirstName      string   `json:"firstName,omitempty" yaml:"firstName"`
	LastName       string   `json:"lastName,omitempty" yaml:"lastName"`
	Role           string   `json:"role,omitempty" yaml:"role"`
	PrimaryTeam    string   `json:"primaryTeam,omitempty" yaml:"primaryTeam"`
	SecondaryTeams []string `json:"secondaryTeams,omitempty" yaml:"secondaryTeams"`
	SuperAdmin     bool     `json:"superAdmin,omitempty" yaml:"superAdmin"`
	Pending        bool     `json:"pending,omitempty" yaml:"pending"`
}

// SeedToken is an access token and its scopes. Tokens with the same App
// share rate limits (default: the token is its own app). OAuth tokens have
// no daily budget.
type SeedToken struct {
	Token  string   `json:"token" yaml:"token"`
	Scopes []string `json:"scopes" yaml:"scopes"`
	App    string   `json:"app,omitempty" yaml:"app"`
	OAuth  bool     `json:"oauth,omitempty" yaml:"oauth"`
}

// SeedLogin is a login log entry, at a time (At) or a while before the
// simulator starts (Ago, e.g. "36h"). Succeeded defaults to true.
type SeedLogin struct {
	Email       string        `json:"email" yaml:"email"`
	At          time.Time     `json:"at,omitzero" yaml:"at"`
	Ago         time.Duration `json:"ago,omitempty" yaml:"ago"`
	Succeeded   *bool         `json:"succeeded,omitempty" yaml:"succeeded"`
	IPAddress   string        `json:"ipAddress,omitempty" yaml:"ipAddress"`
	CountryCode string        `json:"countryCode,omitempty" yaml:"countryCode"`
	RegionCode  string        `json:"regionCode,omitempty" yaml:"regionCode"`
	UserAgent   string        `json:"userAgent,omitempty" yaml:"userAgent"`
}

// LoadSeed reads a seed file, YAML or JSON, refusing unknown fields.
func LoadSeed(path string) (*Seed, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("hubspotsim: seed: %w", err)
	}
	return ParseSeed(b)
}

// ParseSeed reads a seed document, YAML or JSON.
func ParseSeed(b []byte) (*Seed, error) {
	var s Seed
	if err := strictYAML(b, &s); err != nil {
		return nil, fmt.Errorf("hubspotsim: seed: %w", err)
	}
	return &s, nil
}

// DemoToken is the token of DefaultSeed, granted every scope.
const DemoToken = "pat-na1-hubspotsim-demo"

// DefaultSeed is the demo portal: five roles and a paid-seat role, five
// teams, a super admin and a token with every scope.
func DefaultSeed() *Seed {
	return &Seed{
		Roles: []SeedRole{
			{ID: "3000001", Name: "Sales Manager"},
			{ID: "3000002", Name: "Sales Representative"},
			{ID: "3000003", Name: "Marketing Specialist"},
			{ID: "3000004", Name: "Support Agent"},
			{ID: "3000005", Name: "Restricted"}, // read-only access
			{ID: "3000006", Name: "Sales Hub Professional Seat", RequiresBillingWrite: true},
		},
		Teams: []SeedTeam{
			{ID: "5000001", Name: "EMEA Sales"},
			{ID: "5000002", Name: "NA Sales"},
			{ID: "5000003", Name: "APAC Sales"},
			{ID: "5000004", Name: "Support"},
			{ID: "5000005", Name: "Marketing"},
		},
		Users: []SeedUser{
			{ID: "10000001", Email: "admin@example.com", FirstName: "Ada", LastName: "Admin", SuperAdmin: true},
		},
		Tokens: []SeedToken{{Token: DemoToken, App: "scimbridge-demo", Scopes: []string{
			ScopeUsersRead, ScopeUsersWrite, ScopeCRMUsersRead, ScopeCRMUsersWrite,
			ScopeTeamsRead, ScopeTeamsWrite, ScopeBillingWrite, ScopeSecurityRead,
		}}},
		Logins: []SeedLogin{
			{Email: "admin@example.com", Ago: 26 * time.Hour, IPAddress: "198.51.100.7", CountryCode: "gb", RegionCode: "eng", UserAgent: "Mozilla/5.0 (Macintosh)"},
		},
		CRMUserProperties: DefaultCRMUserProperties(),
	}
}

// build makes the portal the seed describes, filling tokens.
func (sd *Seed) build(now time.Time, tokens map[string]*token) (*db, error) {
	d := newDB()
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("hubspotsim: seed: "+format, args...))
	}

	for i, r := range sd.Roles {
		if r.Name == "" {
			fail("roles[%d]: name is required", i)
			continue
		}
		id := r.ID
		if id == "" {
			id = idString(d.nextRole)
		}
		n, ok := parseID(id)
		switch {
		case !ok:
			fail("roles[%d]: id %q is not numeric", i, id)
			continue
		case d.roles[id] != nil:
			fail("roles[%d]: id %s is used twice", i, id)
			continue
		case d.roleByName(r.Name) != nil:
			fail("roles[%d]: name %q is used twice", i, r.Name)
			continue
		}
		d.nextRole = max(d.nextRole, n+1)
		d.roles[id] = &role{id: id, name: r.Name, billing: r.RequiresBillingWrite}
		d.roleOrder = append(d.roleOrder, id)
	}
	for i, t := range sd.Teams {
		if t.Name == "" {
			fail("teams[%d]: name is required", i)
			continue
		}
		id := d.nextTeam
		if t.ID != "" {
			var ok bool
			if id, ok = parseID(t.ID); !ok {
				fail("teams[%d]: id %q is not numeric", i, t.ID)
				continue
			}
		}
		if d.teams[id] != nil || d.checkTeamName(t.Name, 0) != nil {
			fail("teams[%d]: id %d or name %q is used twice", i, id, t.Name)
			continue
		}
		nt := &team{id: id, name: t.Name}
		if t.Parent != "" {
			p := d.teamRef(t.Parent)
			if p == nil {
				fail("teams[%d]: parent %q is not a team listed before it", i, t.Parent)
				continue
			}
			nt.parent = p.id
		}
		d.teams[id] = nt
		d.nextTeam = max(d.nextTeam, id+1)
	}
	for i, su := range sd.Users {
		email := normEmail(su.Email)
		if !validEmail(email) {
			fail("users[%d]: email %q is not valid", i, su.Email)
			continue
		}
		if _, dup := d.byEmail[email]; dup {
			fail("users[%d]: email %s is used twice", i, email)
			continue
		}
		u := &user{email: email, firstName: su.FirstName, lastName: su.LastName, superAdmin: su.SuperAdmin, pending: su.Pending}
		if su.ID != "" {
			var ok bool
			if u.id, ok = parseID(su.ID); !ok || d.users[u.id] != nil || u.id > 1<<31-1 {
				fail("users[%d]: id %q is not numeric, above 2^31-1 or used twice", i, su.ID)
				continue
			}
		} else {
			u.id = d.nextUser
		}
		if su.Role != "" {
			r := d.roleByID(su.Role)
			if r == nil {
				r = d.roleByName(su.Role)
			}
			if r == nil {
				fail("users[%d]: role %q is not a role id or name", i, su.Role)
				continue
			}
			u.roleID = r.id
		}
		if su.PrimaryTeam != "" {
			t := d.teamRef(su.PrimaryTeam)
			if t == nil {
				fail("users[%d]: primaryTeam %q is not a team id or name", i, su.PrimaryTeam)
				continue
			}
			u.primary = t.id
		}
		for _, ref := range su.SecondaryTeams {
			t := d.teamRef(ref)
			if t == nil {
				fail("users[%d]: secondaryTeams: %q is not a team id or name", i, ref)
				continue
			}
			u.secondary = append(u.secondary, t.id)
		}
		d.insertUser(u)
	}
	for i, t := range sd.Tokens {
		if t.Token == "" || strings.ContainsAny(t.Token, " \t") {
			fail("tokens[%d]: token is empty or has spaces", i)
			continue
		}
		if tokens[t.Token] != nil {
			fail("tokens[%d]: token is listed twice", i)
			continue
		}
		tok := &token{app: t.App, scopes: map[string]bool{}, oauth: t.OAuth}
		if tok.app == "" {
			tok.app = "token:" + t.Token
		}
		for _, sc := range t.Scopes {
			tok.scopes[sc] = true
		}
		tokens[t.Token] = tok
	}
	for i, l := range sd.Logins {
		at := l.At
		if at.IsZero() {
			at = now.Add(-l.Ago)
		}
		if l.Email == "" {
			fail("logins[%d]: email is required", i)
			continue
		}
		ok := l.Succeeded == nil || *l.Succeeded
		d.addLogin(&login{email: l.Email, at: at, ok: ok, ip: l.IPAddress, countryCode: l.CountryCode, regionCode: l.RegionCode, userAgent: l.UserAgent})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *db) roleByName(name string) *role {
	for _, id := range d.roleOrder {
		if r := d.roles[id]; strings.EqualFold(r.name, name) {
			return r
		}
	}
	return nil
}

// teamRef finds a team by id, then by name (case-insensitive).
func (d *db) teamRef(ref string) *team {
	if t := d.teamByID(ref); t != nil {
		return t
	}
	for _, t := range d.teams {
		if strings.EqualFold(t.name, ref) {
			return t
		}
	}
	return nil
}
