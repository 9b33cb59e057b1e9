package otdsrest_test

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/otdsrest"
	"github.com/scimbridge/scimbridge/directory/otdsrest/otdsfake"
)

func TestAuth(t *testing.T) {
	tests := []struct {
		name       string
		fake       func(*otdsfake.Config)
		cfg        func(*otdsrest.Config)
		wantTokens int
		wantLogins int
	}{
		{name: "oauth2", wantTokens: 1},
		{name: "oauth2 with scope", cfg: func(c *otdsrest.Config) { c.Scope = "otdsssoticket" }, wantTokens: 1},
		{name: "ticket", cfg: ticketConfig, wantLogins: 1},
		{name: "auth inferred from user name", cfg: func(c *otdsrest.Config) { ticketConfig(c); c.Auth = "" }, wantLogins: 1},
		{name: "tenant oauth2, token URL derived", fake: func(c *otdsfake.Config) { c.Tenant = "acme" }, wantTokens: 1},
		{name: "tenant ticket", fake: func(c *otdsfake.Config) { c.Tenant = "acme" }, cfg: ticketConfig, wantLogins: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.fake)
			src := e.open(t, func(c *otdsrest.Config) {
				c.PageSize = 2
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			us, err := users(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if got := refs(us); !slices.Equal(got, allUsers) {
				t.Errorf("users = %v, want %v", got, allUsers)
			}
			if _, err := groups(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			if got := e.fake.Count(otdsfake.RouteToken); got != tt.wantTokens {
				t.Errorf("token requests = %d, want %d", got, tt.wantTokens)
			}
			if got := e.fake.Count(otdsfake.RouteLogin); got != tt.wantLogins {
				t.Errorf("ticket logins = %d, want %d", got, tt.wantLogins)
			}
		})
	}
}

func TestPing(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.open(t, nil).Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := e.open(t, func(c *otdsrest.Config) { c.ClientSecret = "wrong" }).Ping(context.Background())
	if !errors.Is(err, otdsrest.ErrAuth) {
		t.Fatalf("Ping with a wrong secret = %v, want ErrAuth", err)
	}
}

// TestRelogin: a refused credential (401, or 400 status 1034) costs one
// new login and one retry; a second refusal is an error.
func TestRelogin(t *testing.T) {
	tests := []struct {
		name string
		fake func(*otdsfake.Config)
		cfg  func(*otdsrest.Config)
		// fault is armed before the read; expireAfter expires every
		// credential once that many users have reached fn.
		fault       *otdsfake.Fault
		expireAfter int
		wantErr     bool
		wantTokens  int
		wantLogins  int
	}{
		{name: "ticket: 1034 on a user page", cfg: ticketConfig,
			fault: ptr(otdsfake.ExpiredTicketNth(otdsfake.RouteUsers, 2)), wantLogins: 2},
		{name: "ticket: expires mid-scan, 400 1034", cfg: ticketConfig, expireAfter: 1, wantLogins: 2},
		{name: "ticket: expires mid-scan, 401", cfg: ticketConfig, expireAfter: 3,
			fake: func(c *otdsfake.Config) { c.ExpiredTicketStatus = http.StatusUnauthorized }, wantLogins: 2},
		{name: "ticket: 1034 on a group page", cfg: ticketConfig,
			fault: ptr(otdsfake.ExpiredTicketNth(otdsfake.RouteGroups, 1)), wantLogins: 2},
		{name: "oauth2: 401 on a user page",
			fault: ptr(otdsfake.UnauthorizedNth(otdsfake.RouteUsers, 3)), wantTokens: 2},
		{name: "oauth2: token expires mid-scan", expireAfter: 2, wantTokens: 2},
		{name: "oauth2: 401 on memberof",
			fake:  func(c *otdsfake.Config) { c.MemberOfStyle = otdsfake.MemberOfOmitted },
			fault: ptr(otdsfake.UnauthorizedNth(otdsfake.RouteMemberOf, 4)), wantTokens: 2},
		{name: "ticket: second 1034 is an error", cfg: ticketConfig,
			fault:   &otdsfake.Fault{Route: otdsfake.RouteUsers, After: 1, Times: 2, Status: 400, Code: 1034, Message: "Expired OTDS SSO ticket"},
			wantErr: true, wantLogins: 2},
		{name: "ticket: second 401 is an error", cfg: ticketConfig,
			fault:   &otdsfake.Fault{Route: otdsfake.RouteUsers, Times: -1, Status: 401},
			wantErr: true, wantLogins: 2},
		{name: "oauth2: second 401 is an error",
			fault:   &otdsfake.Fault{Route: otdsfake.RouteGroups, Times: 2, Status: 401},
			wantErr: true, wantTokens: 2},
		{name: "oauth2: wrong secret, no retry", cfg: func(c *otdsrest.Config) { c.ClientSecret = "not-the-secret" },
			wantErr: true, wantTokens: 1},
		{name: "ticket: wrong password, no retry", cfg: func(c *otdsrest.Config) { ticketConfig(c); c.Password = "not-the-password" },
			wantErr: true, wantLogins: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.fake)
			src := e.open(t, func(c *otdsrest.Config) {
				c.PageSize = 2
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			if tt.fault != nil {
				e.fake.AddFault(*tt.fault)
			}
			seen := 0
			var got []string
			err := src.Users(context.Background(), func(en directory.Entry) error {
				got = append(got, en.Ref)
				if seen++; seen == tt.expireAfter {
					e.fake.ExpireCredentials()
				}
				return nil
			})
			switch {
			case tt.wantErr && err == nil:
				t.Fatal("Users succeeded, want an error")
			case tt.wantErr && !errors.Is(err, otdsrest.ErrAuth):
				t.Errorf("error %v does not match ErrAuth", err)
			case !tt.wantErr && err != nil:
				t.Fatal(err)
			case !tt.wantErr && !slices.Equal(got, allUsers):
				t.Errorf("users = %v, want %v", got, allUsers)
			}
			if got := e.fake.Count(otdsfake.RouteToken); got != tt.wantTokens {
				t.Errorf("token requests = %d, want %d", got, tt.wantTokens)
			}
			if got := e.fake.Count(otdsfake.RouteLogin); got != tt.wantLogins {
				t.Errorf("ticket logins = %d, want %d", got, tt.wantLogins)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestTokenLifetime: a token is renewed before its expires_in runs out
// (no refused request), and a token the server expires early is renewed
// on the 401.
func TestTokenLifetime(t *testing.T) {
	tests := []struct {
		name          string
		advanceClient bool
		wantPages     int // group and user page requests of the second read
	}{
		{name: "renewed before expiry", advanceClient: true, wantPages: 2 + 4},
		{name: "renewed after a 401", advanceClient: false, wantPages: 2 + 4 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serverClock, clientClock := newClock(), newClock()
			e := newEnv(t, func(c *otdsfake.Config) {
				c.TokenLifetime = 2 * time.Second
				c.Now = serverClock.Now
			})
			src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 2; c.Now = clientClock.Now })
			if _, err := users(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			serverClock.Add(3 * time.Second)
			if tt.advanceClient {
				clientClock.Add(3 * time.Second)
			}
			e.fake.ResetCounts()
			if _, err := users(context.Background(), src); err != nil {
				t.Fatal(err)
			}
			if got := e.fake.Count(otdsfake.RouteToken); got != 1 {
				t.Errorf("token requests = %d, want 1", got)
			}
			if got := e.fake.Count(otdsfake.RouteGroups) + e.fake.Count(otdsfake.RouteUsers); got != tt.wantPages {
				t.Errorf("page requests = %d, want %d", got, tt.wantPages)
			}
		})
	}
}

func TestPaging(t *testing.T) {
	tests := []struct {
		name       string
		fake       func(*otdsfake.Config)
		pageSize   int
		partitions []string
		want       []string
		wantPages  int
	}{
		{name: "all partitions, page size 1", pageSize: 1, want: allUsers, wantPages: 7},
		{name: "all partitions, page size 2", pageSize: 2, want: allUsers, wantPages: 4},
		{name: "all partitions, page size 7 (exact)", pageSize: 7, want: allUsers, wantPages: 1},
		{name: "all partitions, default page size", want: allUsers, wantPages: 1},
		{name: "one partition", pageSize: 2, partitions: []string{"Corp"}, want: corpUsers, wantPages: 3},
		{name: "two partitions in order", pageSize: 2, partitions: []string{"Contractors", "Corp"},
			want: append(append([]string{}, contractorUsers...), corpUsers...), wantPages: 4},
		{name: "server caps the page size", pageSize: 100, fake: func(c *otdsfake.Config) { c.MaxPageSize = 3 },
			want: allUsers, wantPages: 3},
		{name: "nextPageCookie as an array", pageSize: 2, fake: func(c *otdsfake.Config) { c.CookieAsArray = true },
			want: allUsers, wantPages: 4},
		{name: "nextPageCookie as an array, per partition", pageSize: 3, partitions: []string{"Corp", "Contractors"},
			fake: func(c *otdsfake.Config) { c.CookieAsArray = true }, want: allUsers, wantPages: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.fake)
			src := e.open(t, func(c *otdsrest.Config) { c.PageSize = tt.pageSize; c.Partitions = tt.partitions })
			us, err := users(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if got := refs(us); !slices.Equal(got, tt.want) {
				t.Errorf("users = %v, want %v", got, tt.want)
			}
			if got := e.fake.Count(otdsfake.RouteUsers); got != tt.wantPages {
				t.Errorf("user page requests = %d, want %d", got, tt.wantPages)
			}
		})
	}
}

// TestShapes: the "attributes" map and the "values" list give the same
// entries.
func TestShapes(t *testing.T) {
	read := func(ignore bool) ([]directory.Entry, []directory.Entry) {
		e := newEnv(t, func(c *otdsfake.Config) { c.IgnoreAttrsAsKeys = ignore })
		src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 3 })
		us, err := users(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		gs, err := groups(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		return us, gs
	}
	keysUsers, keysGroups := read(false)
	valuesUsers, valuesGroups := read(true)
	if !reflect.DeepEqual(keysUsers, valuesUsers) {
		t.Errorf("users differ:\nattributes: %v\nvalues:     %v", keysUsers, valuesUsers)
	}
	if !reflect.DeepEqual(keysGroups, valuesGroups) {
		t.Errorf("groups differ:\nattributes: %v\nvalues:     %v", keysGroups, valuesGroups)
	}
	ada := byRef(keysUsers)["ada@Corp"]
	for attr, want := range map[string]string{
		"otexternalid3": "ada@corp.example", "givenname": "Ada", "otdepartment": "Sales",
		"name": "ada", "id": "ada@Corp", "partition": "Corp", "objectclass": "oTPerson",
	} {
		if got := ada.First(attr); got != want {
			t.Errorf("ada %s = %q, want %q", attr, got, want)
		}
	}
	if ada.First("entryuuid") == "" || !strings.HasPrefix(ada.First("dn"), "oTPerson="+ada.First("entryuuid")+",") {
		t.Errorf("ada entryuuid %q, dn %q", ada.First("entryuuid"), ada.First("dn"))
	}
	for k := range ada.Attrs {
		if k != strings.ToLower(k) {
			t.Errorf("attribute name %q is not lower-cased", k)
		}
	}
}

var wantMemberOf = map[string][]string{
	"ada@Corp":        {"EMEA Sales@Corp"},
	"bob@Corp":        {"Support@Corp", "Sales@Corp"},
	"dee@Corp":        {"Support@Corp"},
	"fay@Contractors": {"Contract Staff@Contractors", "Support@Corp"},
}

func TestMemberships(t *testing.T) {
	none := map[string][]string{}
	tests := []struct {
		name      string
		style     string
		mode      string
		want      map[string][]string
		wantCalls int
	}{
		{name: "short DNs, auto: memberof only for users without oTMemberOf", style: otdsfake.MemberOfShortDN,
			mode: otdsrest.MembershipsAuto, want: wantMemberOf, wantCalls: 3},
		{name: "locations, auto", style: otdsfake.MemberOfLocation, mode: otdsrest.MembershipsAuto,
			want: wantMemberOf, wantCalls: 3},
		{name: "omitted, auto: memberof for every user", style: otdsfake.MemberOfOmitted,
			mode: otdsrest.MembershipsAuto, want: wantMemberOf, wantCalls: 7},
		{name: "omitted, attribute only: no groups, no calls", style: otdsfake.MemberOfOmitted,
			mode: otdsrest.MembershipsAttribute, want: none, wantCalls: 0},
		{name: "short DNs, attribute only", style: otdsfake.MemberOfShortDN,
			mode: otdsrest.MembershipsAttribute, want: wantMemberOf, wantCalls: 0},
		{name: "short DNs, memberof always", style: otdsfake.MemberOfShortDN,
			mode: otdsrest.MembershipsMemberOf, want: wantMemberOf, wantCalls: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(c *otdsfake.Config) { c.MemberOfStyle = tt.style })
			src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 2; c.Memberships = tt.mode; c.MemberOfConcurrency = 3 })
			us, err := users(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, u := range us {
				if v := u.Values("oTMemberOf"); v != nil {
					got[u.Ref] = v
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("memberships = %v, want %v", got, tt.want)
			}
			if n := e.fake.Count(otdsfake.RouteMemberOf); n != tt.wantCalls {
				t.Errorf("memberof requests = %d, want %d", n, tt.wantCalls)
			}
		})
	}
}

// TestGroups: members come from inverting users' and groups' memberships.
// Without oTMemberOf on groups, nested groups cannot be seen.
func TestGroups(t *testing.T) {
	nested := map[string][]string{
		"Sales@Corp":                 {"bob@Corp", "EMEA Sales@Corp"},
		"EMEA Sales@Corp":            {"ada@Corp"},
		"Support@Corp":               {"bob@Corp", "dee@Corp", "fay@Contractors"},
		"Contract Staff@Contractors": {"fay@Contractors"},
	}
	for _, style := range []string{otdsfake.MemberOfShortDN, otdsfake.MemberOfLocation, otdsfake.MemberOfOmitted} {
		t.Run(style, func(t *testing.T) {
			e := newEnv(t, func(c *otdsfake.Config) { c.MemberOfStyle = style })
			src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 2 })
			gs, err := groups(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if got := refs(gs); !slices.Equal(got, allGroups) {
				t.Fatalf("groups = %v, want %v", got, allGroups)
			}
			got := map[string][]string{}
			for _, g := range gs {
				got[g.Ref] = g.Values("oTMember")
			}
			want := nested
			if style == otdsfake.MemberOfOmitted {
				want = maps.Clone(nested)
				want["Sales@Corp"] = []string{"bob@Corp"}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("members = %v, want %v", got, want)
			}
			if style != otdsfake.MemberOfOmitted {
				// Nested groups carry their parents as ids too.
				if p := byRef(gs)["EMEA Sales@Corp"].Values("oTMemberOf"); !slices.Equal(p, []string{"Sales@Corp"}) {
					t.Errorf("EMEA Sales oTMemberOf = %v", p)
				}
			}
		})
	}
}

// TestScope: groups filtered out or in partitions out of scope are dropped
// from memberships.
func TestScope(t *testing.T) {
	tests := []struct {
		name       string
		cfg        func(*otdsrest.Config)
		wantUsers  []string
		wantGroups []string
		wantBob    []string
		wantFay    []string
	}{
		{name: "filter", cfg: func(c *otdsrest.Config) { c.Filter = "oTDepartment=Sales" },
			wantUsers: []string{"ada@Corp"}, wantGroups: allGroups},
		{name: "group filter", cfg: func(c *otdsrest.Config) { c.GroupFilter = "name=S*" },
			wantUsers: allUsers, wantGroups: []string{"Sales@Corp", "Support@Corp"},
			wantBob: []string{"Support@Corp", "Sales@Corp"}, wantFay: []string{"Support@Corp"}},
		{name: "one partition", cfg: func(c *otdsrest.Config) { c.Partitions = []string{"Contractors"} },
			wantUsers: contractorUsers, wantGroups: []string{"Contract Staff@Contractors"},
			wantFay: []string{"Contract Staff@Contractors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 2; tt.cfg(c) })
			us, err := users(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			gs, err := groups(context.Background(), src)
			if err != nil {
				t.Fatal(err)
			}
			if got := refs(us); !slices.Equal(got, tt.wantUsers) {
				t.Errorf("users = %v, want %v", got, tt.wantUsers)
			}
			if got := refs(gs); !slices.Equal(got, tt.wantGroups) {
				t.Errorf("groups = %v, want %v", got, tt.wantGroups)
			}
			m := byRef(us)
			if tt.wantBob != nil && !slices.Equal(m["bob@Corp"].Values("oTMemberOf"), tt.wantBob) {
				t.Errorf("bob's groups = %v, want %v", m["bob@Corp"].Values("oTMemberOf"), tt.wantBob)
			}
			if tt.wantFay != nil && !slices.Equal(m["fay@Contractors"].Values("oTMemberOf"), tt.wantFay) {
				t.Errorf("fay's groups = %v, want %v", m["fay@Contractors"].Values("oTMemberOf"), tt.wantFay)
			}
		})
	}
}

// TestMapping maps the entries through the shared directory.Mapping.
func TestMapping(t *testing.T) {
	var m directory.Mapping
	m.SetDefaults()
	e := newEnv(t, nil)
	cfg := e.config()
	cfg.PageSize = 3
	src, err := otdsrest.Open(context.Background(), cfg, &m)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	us, err := users(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	gs, err := groups(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	mapped := map[string]directory.User{}
	for _, en := range us {
		u, err := m.MapUser(en)
		if en.Ref == "cy@Corp" {
			// cy has a mail but no oTExternalID3: userName falls back to mail.
			if err != nil || u.Resource.UserName != "cy@corp.example" {
				t.Errorf("cy: %v, userName %q", err, u.Resource.UserName)
			}
		} else if err != nil {
			t.Fatalf("MapUser(%s): %v", en.Ref, err)
		}
		mapped[en.Ref] = u
	}
	tests := []struct {
		ref        string
		userName   string
		active     bool
		given      string
		department string
	}{
		{ref: "ada@Corp", userName: "ada@corp.example", active: true, given: "Ada", department: "Sales"},
		{ref: "bob@Corp", userName: "bob@corp.example", active: false, given: "Bob"},
		{ref: "gus@Contractors", userName: "gus@contractors.example", active: true},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			u := mapped[tt.ref]
			r := u.Resource
			if r.UserName != tt.userName {
				t.Errorf("userName = %q, want %q", r.UserName, tt.userName)
			}
			if r.Active == nil || *r.Active != tt.active {
				t.Errorf("active = %v, want %v", r.Active, tt.active)
			}
			if u.ExternalID == "" || u.ExternalID != r.ExternalID {
				t.Errorf("externalId = %q / %q", u.ExternalID, r.ExternalID)
			}
			if tt.given != "" && (r.Name == nil || r.Name.GivenName != tt.given) {
				t.Errorf("name = %+v, want given name %q", r.Name, tt.given)
			}
			dep := ""
			if r.Enterprise != nil {
				dep = r.Enterprise.Department
			}
			if dep != tt.department {
				t.Errorf("department = %q, want %q", dep, tt.department)
			}
		})
	}
	if got := mapped["ada@Corp"].Resource.Emails; len(got) != 1 || got[0].Value != "ada@corp.example" {
		t.Errorf("ada emails = %+v", got)
	}
	// Memberships name group Refs, and group members name user Refs.
	groupRefs := map[string]directory.Group{}
	for _, en := range gs {
		g, err := m.MapGroup(en)
		if err != nil {
			t.Fatal(err)
		}
		if g.ExternalID == "" || g.Name == "" {
			t.Errorf("group %s: externalId %q, name %q", en.Ref, g.ExternalID, g.Name)
		}
		groupRefs[g.Ref] = g
	}
	for ref, u := range mapped {
		for _, g := range u.MemberOf {
			grp, ok := groupRefs[g]
			if !ok {
				t.Errorf("%s is in %q, which is no group Ref", ref, g)
			} else if !slices.Contains(grp.Members, ref) {
				t.Errorf("group %s does not list %s", g, ref)
			}
		}
	}
	if got := groupRefs["Support@Corp"].Name; got != "Support" {
		t.Errorf("Support group name = %q", got)
	}
}

// TestFailures: a failure anywhere fails the read; Groups passes nothing
// to fn.
func TestFailures(t *testing.T) {
	tests := []struct {
		name  string
		fake  func(*otdsfake.Config)
		fault otdsfake.Fault
	}{
		{name: "second user page 500", fault: otdsfake.FailNth(otdsfake.RouteUsers, 2)},
		{name: "last user page 503", fault: otdsfake.Fault{Route: otdsfake.RouteUsers, After: 3, Status: 503}},
		{name: "second user page dropped", fault: otdsfake.DropNth(otdsfake.RouteUsers, 2)},
		{name: "first group page 500", fault: otdsfake.FailNth(otdsfake.RouteGroups, 1)},
		{name: "second group page dropped", fault: otdsfake.DropNth(otdsfake.RouteGroups, 2)},
		{name: "a memberof request fails", fake: func(c *otdsfake.Config) { c.MemberOfStyle = otdsfake.MemberOfOmitted },
			fault: otdsfake.FailNth(otdsfake.RouteMemberOf, 5)},
		{name: "a memberof request dropped", fake: func(c *otdsfake.Config) { c.MemberOfStyle = otdsfake.MemberOfOmitted },
			fault: otdsfake.DropNth(otdsfake.RouteMemberOf, 2)},
		{name: "a 403", fault: otdsfake.Fault{Route: otdsfake.RouteUsers, After: 1, Status: 403, Message: "Access denied"}},
		{name: "the token endpoint fails", fault: otdsfake.FailNth(otdsfake.RouteToken, 1)},
	}
	for _, tt := range tests {
		for _, read := range []string{"Users", "Groups"} {
			t.Run(tt.name+"/"+read, func(t *testing.T) {
				e := newEnv(t, tt.fake)
				src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 2 })
				e.fake.AddFault(tt.fault)
				var got []directory.Entry
				var err error
				if read == "Users" {
					got, err = users(context.Background(), src)
				} else {
					got, err = groups(context.Background(), src)
				}
				if err == nil {
					t.Fatalf("%s succeeded with %d entries, want an error", read, len(got))
				}
				if read == "Groups" && len(got) > 0 {
					t.Errorf("Groups passed %d entries before failing", len(got))
				}
				if errors.Is(err, otdsrest.ErrAuth) {
					t.Errorf("error %v matches ErrAuth", err)
				}
				t.Log(err)
			})
		}
	}
}

func TestCookieExpiry(t *testing.T) {
	c := newClock()
	e := newEnv(t, func(fc *otdsfake.Config) { fc.CookieLifetime = time.Minute; fc.Now = c.Now })
	src := e.open(t, func(cfg *otdsrest.Config) { cfg.PageSize = 2; cfg.Now = c.Now })
	err := src.Users(context.Background(), func(en directory.Entry) error {
		if en.Ref == "bob@Corp" {
			c.Add(2 * time.Minute) // the reader took too long between pages
		}
		return nil
	})
	var oe *otdsrest.Error
	if !errors.As(err, &oe) || oe.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "page 2") {
		t.Fatalf("err = %v, want a 400 on page 2", err)
	}
}

// TestNotAPage: answers that are not pages fail the read instead of
// looking like an empty directory.
func TestNotAPage(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{name: "html login page", contentType: "text/html", body: "<html>Sign in</html>"},
		{name: "json without a list", contentType: "application/json", body: `{"actualPageSize":0}`},
		{name: "bad cookie", contentType: "application/json", body: `{"users":[],"nextPageCookie":{"x":1}}`},
		{name: "object without id", contentType: "application/json", body: `{"users":[{"name":"x"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			h := http.NewServeMux()
			h.Handle("/otdsws/oauth2/token", e.fake.Handler())
			h.HandleFunc("/otdsws/rest/groups", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"groups":[],"nextPageCookie":null}`))
			})
			h.HandleFunc("/otdsws/rest/users", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				_, _ = w.Write([]byte(tt.body))
			})
			e.ts.Config.Handler = h
			src := e.open(t, nil)
			if _, err := users(context.Background(), src); err == nil {
				t.Fatal("Users succeeded, want an error")
			} else {
				t.Log(err)
			}
		})
	}
}

// TestSecrets: no secret, token or ticket in errors or logs.
func TestSecrets(t *testing.T) {
	tests := []struct {
		name  string
		cfg   func(*otdsrest.Config)
		fault *otdsfake.Fault
		// expireAfter forces a re-login mid-scan, so that a token was in use.
		expireAfter int
	}{
		{name: "wrong client secret", cfg: func(c *otdsrest.Config) { c.ClientSecret = clientSecret + "-old" }},
		{name: "wrong password", cfg: func(c *otdsrest.Config) { ticketConfig(c); c.Password = password + "-old" }},
		{name: "server echoes the client secret", fault: &otdsfake.Fault{Route: otdsfake.RouteToken, Status: 400,
			Message: "bad client_secret=" + clientSecret}},
		{name: "server echoes the password", cfg: ticketConfig, fault: &otdsfake.Fault{Route: otdsfake.RouteLogin,
			Status: 401, Message: "password " + password + " refused"}},
		{name: "refused twice with a ticket", cfg: ticketConfig, expireAfter: 1,
			fault: &otdsfake.Fault{Route: otdsfake.RouteUsers, After: 1, Times: -1, Status: 400, Code: 1034}},
		{name: "refused twice with a token", expireAfter: 1,
			fault: &otdsfake.Fault{Route: otdsfake.RouteUsers, After: 1, Times: -1, Status: 401}},
		{name: "page fails after re-login", cfg: ticketConfig, expireAfter: 2,
			fault: &otdsfake.Fault{Route: otdsfake.RouteUsers, After: 3, Status: 500}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			var logs bytes.Buffer
			var mu sync.Mutex
			src := e.open(t, func(c *otdsrest.Config) {
				c.PageSize = 2
				c.Log = zerolog.New(lockedWriter{&mu, &logs}).Level(zerolog.DebugLevel)
				if tt.cfg != nil {
					tt.cfg(c)
				}
			})
			if tt.fault != nil {
				e.fake.AddFault(*tt.fault)
			}
			n := 0
			err := src.Users(context.Background(), func(directory.Entry) error {
				if n++; n == tt.expireAfter {
					e.fake.ExpireCredentials()
				}
				return nil
			})
			if err == nil {
				t.Fatal("Users succeeded, want an error")
			}
			mu.Lock()
			text := err.Error() + "\n" + logs.String()
			mu.Unlock()
			for _, secret := range append([]string{clientSecret, password}, e.fake.Tokens()...) {
				if strings.Contains(text, secret) {
					t.Errorf("secret %q appears in:\n%s", secret, text)
				}
			}
			t.Log(err)
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestContext(t *testing.T) {
	e := newEnv(t, func(c *otdsfake.Config) { c.MemberOfStyle = otdsfake.MemberOfOmitted })
	src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 2 })

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := users(ctx, src); !errors.Is(err, context.Canceled) {
		t.Errorf("Users on a cancelled context = %v", err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := src.Users(ctx, func(directory.Entry) error {
		if n++; n == 2 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Users cancelled mid-scan = %v", err)
	}

	stop := errors.New("stop")
	if err := src.Groups(context.Background(), func(directory.Entry) error { return stop }); err != stop {
		t.Errorf("Groups returned %v, want fn's error unchanged", err)
	}
}

// TestConcurrent reads users and groups at once, with expiring tokens.
func TestConcurrent(t *testing.T) {
	e := newEnv(t, func(c *otdsfake.Config) { c.MemberOfStyle = otdsfake.MemberOfOmitted })
	src := e.open(t, func(c *otdsrest.Config) { c.PageSize = 1; c.MemberOfConcurrency = 4 })
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = users(context.Background(), src)
			} else {
				_, err = groups(context.Background(), src)
			}
			if i == 3 {
				e.fake.ExpireCredentials()
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestClose(t *testing.T) {
	e := newEnv(t, nil)
	src := e.open(t, nil)
	if err := src.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := users(context.Background(), src); !errors.Is(err, otdsrest.ErrClosed) {
		t.Errorf("Users after Close = %v", err)
	}
}
