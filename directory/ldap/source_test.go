package ldap

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/directory/ldapmem"
	"github.com/scimbridge/scimbridge/directory/ldaptest"
)

const (
	fixture   = "../testdata/otds.ldif"
	corpRoot  = "ou=Root,ou=Corp,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"
	partRoot  = "ou=Root,ou=Partners,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"
	zoeCN     = `Zoë O'Brien (Sales)\*`
	specialCN = `Zoë's (Team) \*`
)

func startFixture(t *testing.T, opts ...ldaptest.Option) *ldaptest.Server {
	t.Helper()
	return ldaptest.Start(t, append([]ldaptest.Option{ldaptest.WithLDIFFile(fixture)}, opts...)...)
}

func openSource(t *testing.T, srv *ldaptest.Server, mutate func(*Config)) *Source {
	t.Helper()
	cfg := Config{URLs: []string{srv.URL()}, BindDN: srv.BindDN(), BindPassword: srv.Password(), Timeout: 10 * time.Second}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := Open(context.Background(), cfg, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type reader func(context.Context, func(directory.Entry) error) error

func collect(t *testing.T, read reader) map[string]directory.Entry {
	t.Helper()
	out := map[string]directory.Entry{}
	if err := read(context.Background(), func(e directory.Entry) error {
		key := e.First("displayName") // users
		if key == "" {
			key = e.First("cn") // groups
		}
		if _, dup := out[key]; dup {
			t.Errorf("%s read twice", e.Ref)
		}
		out[key] = e
		return nil
	}); err != nil {
		t.Fatalf("read: %v", err)
	}
	return out
}

func names(m map[string]directory.Entry) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestUsersAndGroups(t *testing.T) {
	srv := startFixture(t)
	s := openSource(t, srv, nil)
	users := collect(t, s.Users)
	want := []string{"Alice Andersen", "Bob Brown", "Carol Chen", "Dave Dormant", "Erin Expired", "José Müller-Łukasz",
		"Mallory *)(objectClass=*", "Pat Partner", "Quinn Vendor", "Rita Temp", zoeCN}
	if got := names(users); !slices.Equal(got, want) {
		t.Fatalf("users:\n got %q\nwant %q", got, want)
	}
	zoe := users[zoeCN]
	t.Run("special and non-ASCII values round-trip", func(t *testing.T) {
		if zoe.First("displayName") != zoeCN || zoe.First("givenname") != "Zoë" || zoe.First("sn") != "O'Brien" {
			t.Errorf("zoe: %q", zoe.Attrs)
		}
		if !strings.HasPrefix(zoe.Ref, "cn=Zo") || !strings.Contains(zoe.Ref, "(Sales)") {
			t.Errorf("ref %q", zoe.Ref)
		}
		if j := users["José Müller-Łukasz"]; j.First("l") != "München" {
			t.Errorf("josé: %q", j.Attrs)
		}
	})
	t.Run("lower-cased names, only mapped attributes", func(t *testing.T) {
		var m directory.Mapping
		m.SetDefaults()
		allowed := map[string]bool{}
		for _, a := range m.UserAttributes() {
			allowed[strings.ToLower(a)] = true
		}
		for name := range zoe.Attrs {
			if name != strings.ToLower(name) || !allowed[name] {
				t.Errorf("attribute %q: not lower-case or not asked for", name)
			}
		}
		for _, a := range []string{"entryuuid", "otexternalid3", "modifytimestamp", "otmemberof", "manager"} {
			if zoe.First(a) == "" {
				t.Errorf("missing %s", a)
			}
		}
	})
	t.Run("disabled flags through the mapping", func(t *testing.T) {
		var m directory.Mapping
		m.SetDefaults()
		for cn, e := range users {
			u, err := m.MapUser(e)
			if err != nil {
				t.Fatalf("%s: %v", cn, err)
			}
			wantActive := cn != "Dave Dormant" && cn != "Erin Expired"
			if *u.Resource.Active != wantActive {
				t.Errorf("%s: active %v, want %v", cn, *u.Resource.Active, wantActive)
			}
			if cn == "Alice Andersen" && (u.Resource.UserName != "alice.andersen@corp.example.com" || u.ManagerRef != users["Carol Chen"].Ref) {
				t.Errorf("alice: %+v", u)
			}
		}
	})

	groups := collect(t, s.Groups)
	t.Run("nested groups and the cycle are raw members", func(t *testing.T) {
		has := func(group, member string) bool {
			return slices.Contains(groups[group].Values("oTMember"), groups[member].Ref)
		}
		if !has("Sales", "EMEA Sales") || !has("Sales", "NA Sales") || !has("Cycle A", "Cycle B") || !has("Cycle B", "Cycle A") {
			t.Errorf("members: %q", groups)
		}
		if got := len(groups["HubSpot Users"].Values("otmember")); got != 7 {
			t.Errorf("HubSpot Users has %d members", got)
		}
		if !slices.Contains(groups["EMEA Sales"].Values("oTMember"), zoe.Ref) {
			t.Errorf("EMEA Sales members %q lack %q", groups["EMEA Sales"].Values("oTMember"), zoe.Ref)
		}
		var m directory.Mapping
		m.SetDefaults()
		for name, e := range groups {
			if g, err := m.MapGroup(e); err != nil || g.Name != name {
				t.Errorf("%s: %+v %v", name, g, err)
			}
		}
	})
}

func TestMultipleBases(t *testing.T) {
	srv := startFixture(t)
	s := openSource(t, srv, func(c *Config) { c.Bases = []string{corpRoot, partRoot} })
	users := collect(t, s.Users)
	if len(users) != 10 {
		t.Fatalf("%d users, want 10: %q", len(users), names(users))
	}
	if _, ok := users["Rita Temp"]; ok {
		t.Fatal("user from the third partition read")
	}
	if g := collect(t, s.Groups); len(g) != 8 {
		t.Fatalf("%d groups, want 8", len(g))
	}
}

func TestScopeFilterEscaping(t *testing.T) {
	srv := startFixture(t)
	all := openSource(t, srv, nil)
	special := collect(t, all.Groups)[specialCN].Ref
	if special == "" {
		t.Fatal("special group not found")
	}
	tests := []struct {
		name  string
		scope string
		want  []string
	}{
		{"group DN with *()\\ and non-ASCII", MemberOfFilter("oTMemberOf", special), []string{"Mallory *)(objectClass=*", zoeCN}},
		{"two groups", MemberOfFilter("oTMemberOf", special, "cn=NA Sales,ou=groups,"+corpRoot), []string{"Bob Brown", "Mallory *)(objectClass=*", zoeCN}},
		{"a star is a literal", MemberOfFilter("oTMemberOf", "*"), nil},
		{"injection stays a value", MemberOfFilter("oTMemberOf", "x)(objectClass=*"), nil},
		{"injection via cn", "(cn=" + goldap.EscapeFilter("*)(objectClass=*") + ")", nil},
		{"exact cn with specials", "(cn=" + goldap.EscapeFilter(zoeCN) + ")", []string{zoeCN}},
		{"exact cn that looks like a filter", "(cn=" + goldap.EscapeFilter("Mallory *)(objectClass=*") + ")", []string{"Mallory *)(objectClass=*"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openSource(t, srv, func(c *Config) { c.ScopeFilter = tt.scope })
			if got := names(collect(t, s.Users)); !slices.Equal(got, tt.want) {
				t.Errorf("scope %s: got %q, want %q", tt.scope, got, tt.want)
			}
		})
	}
}

func TestChangedSince(t *testing.T) {
	srv := startFixture(t)
	s := openSource(t, srv, nil)
	// modifyTimestamp has whole seconds: move past the load's second.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 50*time.Millisecond)))
	since := time.Now()
	if n := len(collect(t, func(ctx context.Context, fn func(directory.Entry) error) error {
		return s.UsersChangedSince(ctx, since, fn)
	})); n != 0 {
		t.Fatalf("%d users changed before any change", n)
	}
	srv.Modify("cn=Alice Andersen,"+corpRoot, map[string][]string{"title": {"Senior Account Executive"}})
	srv.Modify("cn=EMEA Sales,ou=groups,"+corpRoot, map[string][]string{"description": {"EMEA"}})
	users := collect(t, func(ctx context.Context, fn func(directory.Entry) error) error {
		return s.UsersChangedSince(ctx, since, fn)
	})
	if got := names(users); !slices.Equal(got, []string{"Alice Andersen"}) || users["Alice Andersen"].First("title") != "Senior Account Executive" {
		t.Fatalf("changed users %q", got)
	}
	groups := collect(t, func(ctx context.Context, fn func(directory.Entry) error) error {
		return s.GroupsChangedSince(ctx, since, fn)
	})
	if got := names(groups); !slices.Equal(got, []string{"EMEA Sales"}) {
		t.Fatalf("changed groups %q", got)
	}
	if got := s.changedFilter(time.Date(2026, 3, 4, 5, 6, 7, 800, time.FixedZone("x", 3600))); got != "(modifyTimestamp>=20260304040607Z)" {
		t.Fatalf("filter %s", got)
	}
}

func synthetic(t testing.TB, users, groups int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := ldapmem.WriteSynthetic(&buf, ldapmem.Synthetic{Users: users, Groups: groups}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func count(ctx context.Context, read reader) (int, error) {
	n := 0
	err := read(ctx, func(directory.Entry) error { n++; return nil })
	return n, err
}

func TestPaging(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.WithLDIF(synthetic(t, 2345, 40)))
	for _, size := range []uint32{70, 1000, 5000} {
		s := openSource(t, srv, func(c *Config) { c.PageSize = size })
		if n, err := count(context.Background(), s.Users); err != nil || n != 2345 {
			t.Fatalf("page size %d: %d users, %v", size, n, err)
		}
		if n, err := count(context.Background(), s.Groups); err != nil || n != 40 {
			t.Fatalf("page size %d: %d groups, %v", size, n, err)
		}
	}
}

func TestPageSizeOne(t *testing.T) {
	srv := startFixture(t)
	s := openSource(t, srv, func(c *Config) { c.PageSize = 1 })
	if n, err := count(context.Background(), s.Users); err != nil || n != 11 {
		t.Fatalf("%d users, %v", n, err)
	}
}

func TestFailover(t *testing.T) {
	srv := startFixture(t)
	dead := deadURL(t)
	s := openSource(t, srv, func(c *Config) { c.URLs = []string{dead, srv.URL()} })
	if s.current != 1 {
		t.Fatalf("current %d after failover", s.current)
	}
	if n, err := count(context.Background(), s.Users); err != nil || n != 11 {
		t.Fatalf("%d, %v", n, err)
	}
	// The server restarts: the next read reconnects (to the last good
	// server first) and succeeds.
	srv.Restart()
	if n, err := count(context.Background(), s.Users); err != nil || n != 11 {
		t.Fatalf("after restart: %d, %v", n, err)
	}
	// Nothing reachable: a clear error naming every URL.
	s.Close()
	_, err := Open(context.Background(), Config{URLs: []string{dead}, BindDN: srv.BindDN(), BindPassword: srv.Password(), Timeout: 2 * time.Second}, nil)
	if err == nil || !strings.Contains(err.Error(), dead) {
		t.Fatalf("dead only: %v", err)
	}
}

func deadURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "ldap://" + addr
}

func TestTLS(t *testing.T) {
	srv := startFixture(t)
	tests := []struct {
		name    string
		cfg     func(*Config)
		wantErr string
	}{
		{"ldaps with CA", func(c *Config) { c.URLs, c.CAFile = []string{srv.LDAPSURL()}, srv.CAFile() }, ""},
		{"StartTLS with CA", func(c *Config) { c.StartTLS, c.CAFile = true, srv.CAFile() }, ""},
		{"ldaps by name", func(c *Config) {
			c.URLs, c.CAFile = []string{strings.Replace(srv.LDAPSURL(), "127.0.0.1", "localhost", 1)}, srv.CAFile()
		}, ""},
		{"ldaps without CA", func(c *Config) { c.URLs = []string{srv.LDAPSURL()} }, "certificate"},
		{"StartTLS without CA", func(c *Config) { c.StartTLS = true }, "certificate"},
		{"wrong server name", func(c *Config) {
			c.URLs, c.CAFile, c.ServerName = []string{srv.LDAPSURL()}, srv.CAFile(), "ldap.example.com"
		}, "certificate"},
		{"insecure skip verify", func(c *Config) { c.URLs, c.InsecureSkipVerify = []string{srv.LDAPSURL()}, true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{URLs: []string{srv.URL()}, BindDN: srv.BindDN(), BindPassword: srv.Password(), Timeout: 5 * time.Second}
			tt.cfg(&cfg)
			s, err := Open(context.Background(), cfg, nil)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if n, err := count(context.Background(), s.Users); err != nil || n != 11 {
				t.Fatalf("%d, %v", n, err)
			}
		})
	}
}

func TestStoppedMidRead(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.WithLDIF(synthetic(t, 3000, 10)))
	s := openSource(t, srv, func(c *Config) { c.PageSize = 100 })
	var n atomic.Int64
	err := s.Users(context.Background(), func(directory.Entry) error {
		if n.Add(1) == 150 {
			srv.Stop()
		}
		return nil
	})
	if err == nil {
		t.Fatalf("read succeeded with %d of 3000 entries after the server stopped", n.Load())
	}
	t.Logf("after %d entries: %v", n.Load(), err)
	// While the server is down, reads fail (no stale success)...
	if _, err := count(context.Background(), s.Users); err == nil {
		t.Fatal("read with the server down succeeded")
	}
	// ...and once it is back, a full read works again.
	srv.Restart()
	if got, err := count(context.Background(), s.Users); err != nil || got != 3000 {
		t.Fatalf("after restart: %d, %v", got, err)
	}
}

func TestReferrals(t *testing.T) {
	srv := startFixture(t)
	if !srv.Real() {
		t.Skip("referral objects need slapd")
	}
	loop := "ou=Elsewhere,ou=IdentityProviders,dc=identity,dc=opentext,dc=net"
	// A referral that points back at itself: chasing it would loop.
	srv.Add(loop, map[string][]string{
		"objectClass": {"referral", "extensibleObject"}, "ou": {"Elsewhere"}, "ref": {srv.URL() + "/" + loop},
	})
	s := openSource(t, srv, nil)
	if _, err := count(context.Background(), s.Users); !errors.Is(err, ErrReferral) {
		t.Fatalf("continuation reference: %v", err)
	}
	lenient := openSource(t, srv, func(c *Config) { c.Referrals = ReferralsIgnore })
	if n, err := count(context.Background(), lenient.Users); err != nil || n != 11 {
		t.Fatalf("ignoring referrals: %d, %v", n, err)
	}
	// A base below the referral object is answered with a referral result.
	below := openSource(t, srv, func(c *Config) { c.Bases = []string{"ou=deeper," + loop}; c.Referrals = ReferralsIgnore })
	if _, err := count(context.Background(), below.Users); err == nil {
		t.Fatal("base inside a referral read as empty")
	}
}

func TestErrors(t *testing.T) {
	srv := startFixture(t)
	t.Run("bad password", func(t *testing.T) {
		_, err := Open(context.Background(), Config{URLs: []string{srv.URL()}, BindDN: srv.BindDN(), BindPassword: "wrong"}, nil)
		if err == nil || !strings.Contains(err.Error(), "bind") {
			t.Fatalf("%v", err)
		}
	})
	t.Run("missing base", func(t *testing.T) {
		s := openSource(t, srv, func(c *Config) { c.Bases = []string{"ou=Gone,dc=identity,dc=opentext,dc=net"} })
		if _, err := count(context.Background(), s.Users); err == nil {
			t.Fatal("missing base read as empty")
		}
	})
	t.Run("caller error passes through", func(t *testing.T) {
		s := openSource(t, srv, func(c *Config) { c.PageSize = 2 })
		stop := errors.New("stop")
		n := 0
		err := s.Users(context.Background(), func(directory.Entry) error { n++; return stop })
		if err != stop || n != 1 {
			t.Fatalf("%v after %d", err, n)
		}
		if got, err := count(context.Background(), s.Users); err != nil || got != 11 {
			t.Fatalf("next read: %d, %v", got, err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		s := openSource(t, srv, func(c *Config) { c.PageSize = 2 })
		ctx, cancel := context.WithCancel(context.Background())
		err := s.Users(ctx, func(directory.Entry) error { cancel(); return nil })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%v", err)
		}
		if got, err := count(context.Background(), s.Users); err != nil || got != 11 {
			t.Fatalf("next read: %d, %v", got, err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		s := openSource(t, srv, nil)
		s.Close()
		if _, err := count(context.Background(), s.Users); !errors.Is(err, ErrClosed) {
			t.Fatalf("%v", err)
		}
	})
}
