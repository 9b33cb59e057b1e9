package provision

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/schemas"
)

func testCatalog() *Catalog {
	return &Catalog{
		Roles: []hubspot.Role{{ID: "10", Name: "Sales Manager"}, {ID: "11", Name: "Sales Representative"}, {ID: "12", Name: "Restricted"}, {ID: "13", Name: "Support Agent"}},
		Teams: []hubspot.Team{{ID: "20", Name: "EMEA Sales"}, {ID: "21", Name: "NA Sales"}, {ID: "22", Name: "Support"}, {ID: "23", Name: "Partners"}},
	}
}

func boolp(b bool) *bool { return &b }

func TestDesiredState(t *testing.T) {
	active := func(u *schemas.User) *schemas.User { return u }
	ada := func() *schemas.User {
		return &schemas.User{
			UserName: "ada", Name: &schemas.Name{GivenName: "Ada", FamilyName: "Lovelace"},
			Emails: []schemas.MultiValue{{Value: "home@example.org", Type: "home"}, {Value: "ada@example.com", Type: "work"}},
		}
	}
	rules := func(mut ...func(*Rules)) *Rules {
		r := &Rules{
			DefaultRole: "Sales Representative",
			Roles:       []RoleRule{{Group: "Sales Managers", Role: "Sales Manager"}, {Group: "Support Staff", Role: "Support Agent"}},
			Teams:       []TeamRule{{Group: "Channel", Team: "Partners"}},
		}
		for _, m := range mut {
			m(r)
		}
		r.SetDefaults()
		return r
	}
	tests := []struct {
		name      string
		user      *schemas.User
		lastEmail string
		groups    []string
		rules     *Rules
		want      Desired
	}{
		{
			name: "default role, no teams", user: active(ada()), rules: rules(),
			want: Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", RoleID: "11"},
		},
		{
			name: "first matching role rule wins, case-insensitive groups", user: ada(), rules: rules(),
			groups: []string{"support staff", "SALES MANAGERS"},
			want:   Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", RoleID: "10"},
		},
		{
			name: "explicit team rule first, group-name teams after, sorted secondaries", user: ada(), rules: rules(),
			groups: []string{"NA Sales", "emea sales", "Channel"},
			want: Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", RoleID: "11",
				PrimaryTeamID: "23", SecondaryTeamIDs: []string{"20", "21"}},
		},
		{
			name: "group-name mapping can be switched off", user: ada(), rules: rules(func(r *Rules) { r.TeamsByGroupName = boolp(false) }),
			groups: []string{"EMEA Sales"},
			want:   Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", RoleID: "11"},
		},
		{
			name: "primary email wins", rules: rules(),
			user: &schemas.User{UserName: "x", Emails: []schemas.MultiValue{{Value: "w@example.com", Type: "work"}, {Value: "p@example.com", Primary: true}}},
			want: Desired{Present: true, Email: "p@example.com", RoleID: "11"},
		},
		{
			name: "userName as the address", rules: rules(), user: &schemas.User{UserName: "grace@example.com"},
			want: Desired{Present: true, Email: "grace@example.com", RoleID: "11"},
		},
		{
			name: "no address: nothing to provision", rules: rules(), user: &schemas.User{UserName: "grace"},
			want: Desired{Reason: ReasonNoEmail},
		},
		{
			name: "inactive under delete policy", rules: rules(), groups: []string{"EMEA Sales"},
			user: func() *schemas.User { u := ada(); u.Active = boolp(false); return u }(),
			want: Desired{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Reason: ReasonInactive},
		},
		{
			name:  "inactive under restrict policy keeps the user with the restricted role and no teams",
			rules: rules(func(r *Rules) { r.LeaverPolicy, r.RestrictedRole = LeaverRestrict, "restricted" }), groups: []string{"EMEA Sales"},
			user: func() *schemas.User { u := ada(); u.Active = boolp(false); return u }(),
			want: Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", RoleID: "12", Reason: ReasonInactive},
		},
		{
			name:  "restrict policy with a missing role falls back to removal",
			rules: rules(func(r *Rules) { r.LeaverPolicy, r.RestrictedRole = LeaverRestrict, "Gone" }),
			user:  func() *schemas.User { u := ada(); u.Active = boolp(false); return u }(),
			want:  Desired{Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", Reason: ReasonInactive, Problems: []string{"no HubSpot role Gone for leavers; removing instead"}},
		},
		{
			name: "deleted user", rules: rules(), lastEmail: "ada@example.com",
			want: Desired{Email: "ada@example.com", Reason: ReasonDeleted},
		},
		{
			name: "unknown role and team are reported, not guessed", user: ada(),
			rules:  rules(func(r *Rules) { r.DefaultRole = "Wizard"; r.Teams = []TeamRule{{Group: "Channel", Team: "Resellers"}} }),
			groups: []string{"Channel"},
			want: Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace",
				Problems: []string{"no HubSpot role Wizard", "no HubSpot team Resellers"}},
		},
		{
			name: "roles and teams by id", user: ada(),
			rules:  rules(func(r *Rules) { r.DefaultRole = "13"; r.Teams = []TeamRule{{Group: "Channel", Team: "22"}} }),
			groups: []string{"Channel"},
			want:   Desired{Present: true, Email: "ada@example.com", FirstName: "Ada", LastName: "Lovelace", RoleID: "13", PrimaryTeamID: "22"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DesiredState(tt.user, tt.lastEmail, tt.groups, tt.rules, testCatalog())
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DesiredState() =\n %+v\nwant\n %+v", got, tt.want)
			}
			if !got.Equal(tt.want) {
				t.Errorf("Equal disagrees with DeepEqual")
			}
		})
	}
}

func TestRulesCheckNamesWhatIsMissing(t *testing.T) {
	r := &Rules{DefaultRole: "Wizard", Roles: []RoleRule{{Group: "g", Role: "Sales Manager"}}, Teams: []TeamRule{{Group: "g", Team: "Mars"}}}
	errs := r.Check(testCatalog())
	if len(errs) != 2 {
		t.Fatalf("Check() = %v, want 2 problems", errs)
	}
	for i, want := range []string{`default_role: HubSpot has no role "Wizard" (roles: Restricted, Sales Manager, Sales Representative, Support Agent)`, `teams[0]: HubSpot has no team "Mars"`} {
		if got := errs[i].Error(); len(got) < len(want) || got[:len(want)] != want {
			t.Errorf("problem %d = %q, want prefix %q", i, got, want)
		}
	}
	bad := &Rules{Policy: Policy{LeaverPolicy: "vanish", EmailChange: "ignore"}, Roles: []RoleRule{{Group: "x"}}}
	if errs := bad.Validate(); len(errs) != 3 {
		t.Fatalf("Validate() = %v, want 3 problems", errs)
	}
}

// Width and composition variants of an address are one HubSpot identity:
// the address HubSpot gets is the PRECIS form, case kept.
func TestEmailOfIsThePRECISForm(t *testing.T) {
	for in, want := range map[string]string{
		"ada@example.com":        "ada@example.com",
		"Ada@Example.com":        "Ada@Example.com",
		"ａｄａ@example.com":        "ada@example.com",
		"Ａｄａ@ｅｘａｍｐｌｅ.ｃｏｍ":        "Ada@example.com",
		"cafe\u0301@example.com": "caf\u00e9@example.com",
		"caf\u00e9@example.com":  "caf\u00e9@example.com",
	} {
		u := &schemas.User{UserName: "x", Emails: []schemas.MultiValue{{Value: in, Primary: true}}}
		if got := EmailOf(u); got != want {
			t.Errorf("EmailOf(%q) = %q, want %q", in, got, want)
		}
	}
}
