package ldap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name       string
		cfg        Config
		wantUser   string
		wantGroup  string
		wantBases  []string
		wantPage   uint32
		wantTimout time.Duration
	}{
		{"otds", Config{}, OTDSUserFilter, OTDSGroupFilter, []string{DefaultBase}, 1000, 30 * time.Second},
		{"ad", Config{Preset: PresetAD, Bases: []string{"dc=corp,dc=example,dc=com"}}, ADUserFilter, ADGroupFilter, []string{"dc=corp,dc=example,dc=com"}, 1000, 30 * time.Second},
		{"explicit wins", Config{Preset: PresetAD, UserFilter: "(objectClass=person)", PageSize: 50, Timeout: time.Second}, "(objectClass=person)", ADGroupFilter, []string{DefaultBase}, 50, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			c.SetDefaults()
			if c.UserFilter != tt.wantUser || c.GroupFilter != tt.wantGroup || c.PageSize != tt.wantPage || c.Timeout != tt.wantTimout || strings.Join(c.Bases, "|") != strings.Join(tt.wantBases, "|") {
				t.Errorf("%+v", c)
			}
			for _, f := range []string{c.UserFilter, c.GroupFilter, and(c.UserFilter, "(memberOf=cn=x,dc=y)")} {
				if _, err := goldap.CompileFilter(f); err != nil {
					t.Errorf("%s: %v", f, err)
				}
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("x"), 0o600)
	ok := Config{URLs: []string{"ldap://otds.example.com:41389", "ldaps://otds2.example.com:41636"}, BindDN: "cn=reader,dc=x", BindPassword: "pw", CAFile: ca}
	tests := []struct {
		name  string
		edit  func(*Config)
		wants []string // substrings, one error each
	}{
		{"ok", func(*Config) {}, nil},
		{"no urls", func(c *Config) { c.URLs = nil }, []string{"urls"}},
		{"bad scheme and host", func(c *Config) { c.URLs = []string{"http://x", "ldap://"} }, []string{"scheme", "no host"}},
		{"starttls on ldaps", func(c *Config) { c.StartTLS = true }, []string{"start_tls"}},
		{"password without dn", func(c *Config) { c.BindDN = "" }, []string{"bind_dn and bind_password"}},
		{"bad filters", func(c *Config) { c.UserFilter, c.ScopeFilter = "objectClass=x)", "(&(a=b)" }, []string{"user_filter", "scope_filter"}},
		{"overlapping bases", func(c *Config) { c.Bases = []string{"ou=A,dc=x", "ou=B,ou=A,dc=x"} }, []string{"overlap"}},
		{"bad base", func(c *Config) { c.Bases = []string{"not a dn"} }, []string{"bases[0]"}},
		{"missing ca", func(c *Config) { c.CAFile = "/nonexistent/ca.pem" }, []string{"ca_file"}},
		{"bad preset and referrals", func(c *Config) { c.Preset, c.Referrals = "okta", "chase" }, []string{"preset", "referrals"}},
		{"all at once", func(c *Config) { c.URLs, c.BindDN, c.UserFilter = nil, "", "(" }, []string{"urls", "bind_dn", "user_filter"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.URLs = append([]string(nil), ok.URLs...)
			tt.edit(&c)
			c.SetDefaults()
			errs := c.Validate()
			if len(errs) != len(tt.wants) {
				t.Fatalf("errors %v, want %d", errs, len(tt.wants))
			}
			for i, w := range tt.wants {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d %q lacks %q", i, errs[i], w)
				}
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	c := Config{URLs: []string{"ldap://a", "ldaps://b"}, BindDN: "cn=x", BindPassword: "p", InsecureSkipVerify: true}
	w := c.Warnings()
	if len(w) != 2 || !strings.Contains(w[0], "NOT verified") || !strings.Contains(w[1], "clear text") {
		t.Fatalf("%q", w)
	}
	c.StartTLS, c.InsecureSkipVerify = true, false
	if w := c.Warnings(); len(w) != 0 {
		t.Fatalf("%q", w)
	}
}

func TestFilterHelpers(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"one group", MemberOfFilter("memberOf", `cn=Zoë's (Team) \5C*,dc=x`), `(memberOf=cn=Zo\c3\ab's \28Team\29 \5c5C\2a,dc=x)`},
		{"two groups", MemberOfFilter("oTMemberOf", "cn=a", "cn=b"), "(|(oTMemberOf=cn=a)(oTMemberOf=cn=b))"},
		{"injection", MemberOfFilter("memberOf", "*)(uid=*"), `(memberOf=\2a\29\28uid=\2a)`},
		{"time", GeneralizedTime(time.Date(2026, 11, 28, 13, 5, 9, 999, time.FixedZone("CET", 3600))), "20261128120509Z"},
		{"and", and("(a=1)", "", " (b=2) "), "(&(a=1)(b=2))"},
		{"and one", and("(a=1)", ""), "(a=1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %s, want %s", tt.got, tt.want)
			}
			if strings.HasPrefix(tt.want, "(") {
				if _, err := goldap.CompileFilter(tt.got); err != nil {
					t.Errorf("%s does not compile: %v", tt.got, err)
				}
			}
		})
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct {
		in        string
		low, high int
		wantErr   bool
	}{
		{"0-1499", 0, 1499, false},
		{"1500-*", 1500, -1, false},
		{"x-1", 0, 0, true},
		{"5-1", 0, 0, true},
		{"7", 0, 0, true},
	}
	for _, tt := range tests {
		low, high, err := parseRange(tt.in)
		if (err != nil) != tt.wantErr || !tt.wantErr && (low != tt.low || high != tt.high) {
			t.Errorf("%s: %d %d %v", tt.in, low, high, err)
		}
	}
}
