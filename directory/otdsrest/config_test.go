package otdsrest_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/directory/otdsrest"
)

func TestConfigDefaults(t *testing.T) {
	tests := []struct {
		name      string
		cfg       otdsrest.Config
		wantAuth  string
		wantToken string
	}{
		{name: "oauth2", cfg: otdsrest.Config{BaseURL: "https://otds.example.com/otdsws/rest/", ClientID: "c"},
			wantAuth: otdsrest.AuthOAuth2, wantToken: "https://otds.example.com/otdsws/oauth2/token"},
		{name: "tenant", cfg: otdsrest.Config{BaseURL: "https://otds.example.com/otdstenant/acme/otdsws/rest", ClientID: "c"},
			wantAuth: otdsrest.AuthOAuth2, wantToken: "https://otds.example.com/otdstenant/acme/otdsws/oauth2/token"},
		{name: "port kept", cfg: otdsrest.Config{BaseURL: "http://otds:8080/otdsws/rest", ClientID: "c"},
			wantAuth: otdsrest.AuthOAuth2, wantToken: "http://otds:8080/otdsws/oauth2/token"},
		{name: "explicit token URL kept", cfg: otdsrest.Config{BaseURL: "https://a/otdsws/rest", ClientID: "c", TokenURL: "https://idp/token"},
			wantAuth: otdsrest.AuthOAuth2, wantToken: "https://idp/token"},
		{name: "no /rest suffix: no token URL", cfg: otdsrest.Config{BaseURL: "https://a/api", ClientID: "c"},
			wantAuth: otdsrest.AuthOAuth2},
		{name: "ticket inferred", cfg: otdsrest.Config{BaseURL: "https://a/otdsws/rest", UserName: "u"},
			wantAuth: otdsrest.AuthTicket},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cfg
			c.SetDefaults()
			if c.Auth != tt.wantAuth || c.TokenURL != tt.wantToken {
				t.Errorf("auth %q token URL %q, want %q %q", c.Auth, c.TokenURL, tt.wantAuth, tt.wantToken)
			}
			if c.PageSize != otdsrest.DefaultPageSize || c.Timeout != otdsrest.DefaultTimeout ||
				c.Memberships != otdsrest.MembershipsAuto || c.MemberOfConcurrency != otdsrest.DefaultMemberOfConcurrency {
				t.Errorf("defaults not filled: %+v", c)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := otdsrest.Config{BaseURL: "https://otds.example.com/otdsws/rest", ClientID: "c", ClientSecret: "top-secret-1"}
	tests := []struct {
		name    string
		mut     func(*otdsrest.Config)
		wantErr []string // substrings, one per expected error
	}{
		{name: "valid"},
		{name: "valid ticket", mut: func(c *otdsrest.Config) {
			c.Auth, c.ClientID, c.ClientSecret, c.UserName, c.Password = otdsrest.AuthTicket, "", "", "u", "top-secret-1"
		}},
		{name: "no base URL", mut: func(c *otdsrest.Config) { c.BaseURL = "" }, wantErr: []string{"base_url is required", "token_url"}},
		{name: "credentials in URL", mut: func(c *otdsrest.Config) { c.BaseURL = "https://u:top-secret-1@otds/otdsws/rest" },
			wantErr: []string{"credentials belong in their own fields"}},
		{name: "not http", mut: func(c *otdsrest.Config) { c.BaseURL = "ldap://otds/otdsws/rest" },
			wantErr: []string{"want http(s)"}},
		{name: "bad token URL", mut: func(c *otdsrest.Config) { c.TokenURL = "https://idp/token?x=1" },
			wantErr: []string{"token_url"}},
		{name: "missing secret", mut: func(c *otdsrest.Config) { c.ClientSecret = "" }, wantErr: []string{"client_secret"}},
		{name: "no token URL", mut: func(c *otdsrest.Config) { c.BaseURL = "https://otds/api" }, wantErr: []string{"token_url is required"}},
		{name: "unknown auth", mut: func(c *otdsrest.Config) { c.Auth = "kerberos" }, wantErr: []string{"auth"}},
		{name: "mixed auth", mut: func(c *otdsrest.Config) { c.Password = "top-secret-1" }, wantErr: []string{"belong to auth ticket"}},
		{name: "ticket without password", mut: func(c *otdsrest.Config) {
			c.Auth, c.ClientID, c.ClientSecret, c.UserName = otdsrest.AuthTicket, "", "", "u"
		}, wantErr: []string{"user_name and password"}},
		{name: "bad partitions", mut: func(c *otdsrest.Config) { c.Partitions = []string{"A", " ", "A"} },
			wantErr: []string{"empty name", "twice"}},
		{name: "bad numbers", mut: func(c *otdsrest.Config) { c.PageSize, c.MemberOfConcurrency, c.Timeout = -1, -2, -3 },
			wantErr: []string{"page_size", "memberof_concurrency", "timeout"}},
		{name: "bad memberships", mut: func(c *otdsrest.Config) { c.Memberships = "ldap" }, wantErr: []string{"memberships"}},
		{name: "CA file with a client", mut: func(c *otdsrest.Config) { c.CAFile, c.HTTPClient = "ca.pem", &http.Client{} },
			wantErr: []string{"ca_file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			if tt.mut != nil {
				tt.mut(&c)
			}
			c.SetDefaults()
			errs := c.Validate()
			if len(errs) != len(tt.wantErr) {
				t.Fatalf("errors = %v, want %d matching %q", errs, len(tt.wantErr), tt.wantErr)
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.wantErr[i]) {
					t.Errorf("error %d = %v, want it to mention %q", i, err, tt.wantErr[i])
				}
				if strings.Contains(err.Error(), "top-secret-1") {
					t.Errorf("error %d quotes a secret: %v", i, err)
				}
			}
		})
	}
}

func TestOpenCAFile(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.pem")
	if err := os.WriteFile(bad, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := otdsrest.Config{BaseURL: "https://otds/otdsws/rest", ClientID: "c", ClientSecret: "s"}
	for _, file := range []string{bad, filepath.Join(dir, "missing.pem")} {
		c := base
		c.CAFile = file
		if _, err := otdsrest.Open(context.Background(), c, nil); err == nil {
			t.Errorf("Open with CA file %s succeeded", filepath.Base(file))
		}
	}
	if _, err := otdsrest.Open(context.Background(), otdsrest.Config{}, nil); err == nil {
		t.Error("Open with an empty config succeeded")
	}
}
