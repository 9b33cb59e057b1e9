package ldapmem_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory/ldapmem"
)

const suffix = "dc=identity,dc=opentext,dc=net"

func start(t *testing.T, ldif []byte, opts ...ldapmem.Option) *ldapmem.Server {
	t.Helper()
	s, err := ldapmem.New(bytes.NewReader(ldif), opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

func dial(t *testing.T, s *ldapmem.Server) *ldap.Conn {
	t.Helper()
	c, err := ldap.DialURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Bind(ldapmem.DefaultBindDN, ldapmem.DefaultBindPassword); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBind(t *testing.T) {
	s := start(t, ldapmem.DemoLDIF)
	tests := []struct {
		name     string
		dn, pw   string
		wantCode uint16
	}{
		{"root", ldapmem.DefaultBindDN, ldapmem.DefaultBindPassword, 0},
		{"root in other case", "CN=Admin, DC=identity,dc=OpenText,dc=net", ldapmem.DefaultBindPassword, 0},
		{"wrong password", ldapmem.DefaultBindDN, "nope", ldap.LDAPResultInvalidCredentials},
		{"unknown dn", "cn=nobody," + suffix, ldapmem.DefaultBindPassword, ldap.LDAPResultInvalidCredentials},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ldap.DialURL(s.URL())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			err = c.Bind(tt.dn, tt.pw)
			if tt.wantCode == 0 && err != nil || tt.wantCode != 0 && !ldap.IsErrorWithCode(err, tt.wantCode) {
				t.Fatalf("bind: %v, want code %d", err, tt.wantCode)
			}
		})
	}
	t.Run("anonymous refused", func(t *testing.T) {
		c, err := ldap.DialURL(s.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.UnauthenticatedBind(""); err == nil {
			t.Fatal("anonymous bind accepted")
		}
		_, err = c.Search(ldap.NewSearchRequest(suffix, ldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=*)", nil, nil))
		if !ldap.IsErrorWithCode(err, ldap.LDAPResultInsufficientAccessRights) {
			t.Fatalf("unbound search: %v", err)
		}
	})
}

func search(t *testing.T, c *ldap.Conn, base string, scope int, filter string, attrs ...string) []*ldap.Entry {
	t.Helper()
	res, err := c.Search(ldap.NewSearchRequest(base, scope, ldap.NeverDerefAliases, 0, 0, false, filter, attrs, nil))
	if err != nil {
		t.Fatalf("search %s: %v", filter, err)
	}
	return res.Entries
}

func TestPaging(t *testing.T) {
	s := start(t, ldapmem.DemoLDIF)
	c := dial(t, s)
	for _, size := range []uint32{1, 7, 50, 1000} {
		res, err := c.SearchWithPaging(ldap.NewSearchRequest(suffix, ldap.ScopeWholeSubtree, 0, 0, 0, false,
			"(objectClass=oTPerson)", []string{"cn"}, nil), size)
		if err != nil {
			t.Fatalf("page size %d: %v", size, err)
		}
		if len(res.Entries) != 50 {
			t.Errorf("page size %d: %d entries, want 50", size, len(res.Entries))
		}
		seen := map[string]bool{}
		for _, e := range res.Entries {
			if seen[e.DN] {
				t.Errorf("page size %d: %s twice", size, e.DN)
			}
			seen[e.DN] = true
		}
	}
	// Abandoning a paged search (size 0 with the cookie) releases it.
	p := ldap.NewControlPaging(5)
	req := ldap.NewSearchRequest(suffix, ldap.ScopeWholeSubtree, 0, 0, 0, false, "(objectClass=oTPerson)", []string{"cn"}, []ldap.Control{p})
	res, err := c.Search(req)
	if err != nil || len(res.Entries) != 5 {
		t.Fatalf("first page: %v, %d entries", err, len(res.Entries))
	}
	p.SetCookie(ldap.FindControl(res.Controls, ldap.ControlTypePaging).(*ldap.ControlPaging).Cookie)
	p.PagingSize = 0
	if res, err = c.Search(req); err != nil || len(res.Entries) != 0 {
		t.Fatalf("abandon: %v, %d entries", err, len(res.Entries))
	}
	p.PagingSize = 5
	if _, err = c.Search(req); err == nil {
		t.Fatal("abandoned cookie still works")
	}
}

func TestFilters(t *testing.T) {
	s := start(t, ldapmem.DemoLDIF)
	c := dial(t, s)
	root := "ou=Root,ou=Example,ou=IdentityProviders," + suffix
	tests := []struct {
		name   string
		base   string
		scope  int
		filter string
		want   int
	}{
		{"all people", suffix, ldap.ScopeWholeSubtree, "(objectClass=oTPerson)", 50},
		{"class in other case", suffix, ldap.ScopeWholeSubtree, "(objectclass=OTPERSON)", 50},
		{"groups", suffix, ldap.ScopeWholeSubtree, "(objectClass=oTGroup)", 7},
		{"one level", root, ldap.ScopeSingleLevel, "(objectClass=*)", 51}, // 50 people + ou=groups
		{"base", root, ldap.ScopeBaseObject, "(objectClass=*)", 1},
		{"and", suffix, ldap.ScopeWholeSubtree, "(&(objectClass=oTPerson)(oTDepartment=support))", 8},
		{"or", suffix, ldap.ScopeWholeSubtree, "(|(oTDepartment=Support)(oTDepartment=Marketing))", 16},
		{"not", suffix, ldap.ScopeWholeSubtree, "(&(objectClass=oTPerson)(!(accountDisabled=TRUE)))", 49},
		{"presence", suffix, ldap.ScopeWholeSubtree, "(manager=*)", 48},
		{"substring initial", suffix, ldap.ScopeWholeSubtree, "(cn=Sophie*)", 1},
		{"substring any final", suffix, ldap.ScopeWholeSubtree, "(mail=*.*@EXAMPLE.com)", 50},
		{"non-ASCII escaped", suffix, ldap.ScopeWholeSubtree, "(cn=Zo\\c3\\ab O'Brien)", 1},
		{"dn-valued", suffix, ldap.ScopeWholeSubtree, "(oTMemberOf=CN=HubSpot Users, ou=groups,ou=Root,ou=Example,ou=IdentityProviders," + suffix + ")", 43},
		{"timestamp >=", suffix, ldap.ScopeWholeSubtree, "(&(objectClass=oTPerson)(modifyTimestamp>=20000101000000Z))", 50},
		{"timestamp >= future", suffix, ldap.ScopeWholeSubtree, "(modifyTimestamp>=29990101000000.0Z)", 0},
		{"escaped star matches literally", suffix, ldap.ScopeWholeSubtree, "(cn=\\2a)", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := len(search(t, c, tt.base, tt.scope, tt.filter, "cn")); got != tt.want {
				t.Errorf("%s: %d entries, want %d", tt.filter, got, tt.want)
			}
		})
	}
}

func TestAttributesAndWrites(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	s := start(t, ldapmem.DemoLDIF, ldapmem.WithClock(clock))
	c := dial(t, s)
	dn := "cn=Sophie Laurent,ou=Root,ou=Example,ou=IdentityProviders," + suffix
	e := search(t, c, dn, ldap.ScopeBaseObject, "(objectClass=*)", "mail", "entryUUID")[0]
	if len(e.Attributes) != 2 || e.GetAttributeValue("entryUUID") == "" {
		t.Fatalf("attributes: %+v", e.Attributes)
	}
	uuid := e.GetAttributeValue("entryUUID")
	if all := search(t, c, dn, ldap.ScopeBaseObject, "(objectClass=*)")[0]; all.GetAttributeValue("entryUUID") != "" || all.GetAttributeValue("sn") != "Laurent" {
		t.Fatal("default attributes should be user attributes only")
	}
	// A restart on the same data keeps the derived entryUUID.
	s2, err := ldapmem.New(bytes.NewReader(ldapmem.DemoLDIF))
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	defer s2.Stop()
	if got := search(t, dial(t, s2), dn, ldap.ScopeBaseObject, "(objectClass=*)", "entryUUID")[0].GetAttributeValue("entryUUID"); got != uuid {
		t.Fatalf("entryUUID not stable: %s vs %s", got, uuid)
	}

	now = now.Add(time.Hour)
	m := ldap.NewModifyRequest(dn, nil)
	m.Replace("title", []string{"Senior Account Executive"})
	m.Add("oTMobile", []string{"+33 6 00 00 00 00"})
	if err := c.Modify(m); err != nil {
		t.Fatal(err)
	}
	e = search(t, c, dn, ldap.ScopeBaseObject, "(objectClass=*)", "title", "oTMobile", "modifyTimestamp")[0]
	if e.GetAttributeValue("title") != "Senior Account Executive" || e.GetAttributeValue("oTMobile") == "" || e.GetAttributeValue("modifyTimestamp") != "20260102040405Z" {
		t.Fatalf("after modify: %q %q %q", e.GetAttributeValue("title"), e.GetAttributeValue("oTMobile"), e.GetAttributeValue("modifyTimestamp"))
	}
	if got := search(t, c, suffix, ldap.ScopeWholeSubtree, "(modifyTimestamp>=20260102040000Z)", "cn"); len(got) != 1 {
		t.Fatalf("changed since: %d entries", len(got))
	}

	add := ldap.NewAddRequest("cn=New Person,ou=Root,ou=Example,ou=IdentityProviders,"+suffix, nil)
	add.Attribute("objectClass", []string{"oTPerson"})
	add.Attribute("cn", []string{"New Person"})
	if err := c.Add(add); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(add); !ldap.IsErrorWithCode(err, ldap.LDAPResultEntryAlreadyExists) {
		t.Fatalf("duplicate add: %v", err)
	}
	orphan := ldap.NewAddRequest("cn=x,ou=Nowhere,"+suffix, nil)
	orphan.Attribute("cn", []string{"x"})
	if err := c.Add(orphan); !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchObject) {
		t.Fatalf("orphan add: %v", err)
	}
	if err := c.Del(ldap.NewDelRequest("ou=Root,ou=Example,ou=IdentityProviders,"+suffix, nil)); !ldap.IsErrorWithCode(err, ldap.LDAPResultNotAllowedOnNonLeaf) {
		t.Fatalf("non-leaf delete: %v", err)
	}
	if err := c.Del(ldap.NewDelRequest("cn=New Person,ou=Root,ou=Example,ou=IdentityProviders,"+suffix, nil)); err != nil {
		t.Fatal(err)
	}
	if n := len(search(t, c, suffix, ldap.ScopeWholeSubtree, "(objectClass=oTPerson)", "cn")); n != 50 {
		t.Fatalf("%d people after add+delete", n)
	}
}

func TestStopCutsConnections(t *testing.T) {
	s := start(t, ldapmem.DemoLDIF)
	c := dial(t, s)
	url := s.URL()
	done := make(chan error, 1)
	go func() { done <- s.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Stop hangs with a client connected")
	}
	if _, err := c.Search(ldap.NewSearchRequest(suffix, ldap.ScopeBaseObject, 0, 0, 0, false, "(objectClass=*)", nil, nil)); err == nil {
		t.Fatal("search after Stop succeeded")
	}
	if err := s.Start(strings.TrimPrefix(url, "ldap://")); err != nil {
		t.Fatal(err)
	}
	if s.URL() != url {
		t.Fatalf("restart moved: %s → %s", url, s.URL())
	}
	search(t, dial(t, s), suffix, ldap.ScopeBaseObject, "(objectClass=*)")
}

func TestParseLDIF(t *testing.T) {
	in := "version: 1\n\n# comment\n#  folded comment\ndn: cn=a,dc=x\ncn: a\ndescription: long\n  line\nsn:: Wm/Dqw==\n\ndn: cn=b,dc=x\nchangetype: add\ncn: b\ncn: bee\n"
	recs, err := ldapmem.ParseLDIF(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].DN != "cn=a,dc=x" || recs[0].Attrs[1].Values[0] != "long line" || recs[0].Attrs[2].Values[0] != "Zoë" || len(recs[1].Attrs[0].Values) != 2 {
		t.Fatalf("%+v", recs)
	}
	var buf bytes.Buffer
	if err := ldapmem.WriteLDIF(&buf, recs); err != nil {
		t.Fatal(err)
	}
	again, err := ldapmem.ParseLDIF(&buf)
	if err != nil || len(again) != 2 || again[0].Attrs[2].Values[0] != "Zoë" {
		t.Fatalf("round trip: %v %+v", err, again)
	}
	for _, bad := range []string{"cn: no dn\n", "dn: cn=a\nchangetype: modify\n", "dn: cn=a\nx:< file:///etc/passwd\n", "dn: cn=a\nbad line\n"} {
		if _, err := ldapmem.ParseLDIF(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestSynthetic(t *testing.T) {
	var buf bytes.Buffer
	if err := ldapmem.WriteSynthetic(&buf, ldapmem.Synthetic{Users: 120, Groups: 7}); err != nil {
		t.Fatal(err)
	}
	s := start(t, buf.Bytes())
	c := dial(t, s)
	if n := len(search(t, c, suffix, ldap.ScopeWholeSubtree, "(objectClass=oTPerson)", "cn")); n != 120 {
		t.Fatalf("%d users", n)
	}
	members := 0
	for _, g := range search(t, c, suffix, ldap.ScopeWholeSubtree, "(objectClass=oTGroup)", "oTMember") {
		members += len(g.GetAttributeValues("oTMember"))
	}
	if members < 200 || members > 240 {
		t.Fatalf("%d memberships for 120 users, want about two each", members)
	}
}
