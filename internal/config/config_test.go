package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/provision"
)

func TestLoadDefaultsAndEnv(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "hs")
	os.WriteFile(secret, []byte("pat-secret\n"), 0o600)
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("server:\n  listen: 0.0.0.0:9000\nauth:\n  tokens:\n    - name: okta\n      sha256: "+strings.Repeat("a", 64)+"\n"), 0o600)
	cfg, err := Load(path, []string{
		"SCIMBRIDGE_SERVER_READ_TIMEOUT=5s",
		"SCIMBRIDGE_HUBSPOT_TOKEN_FILE=" + secret,
		"SCIMBRIDGE_AUTH_TOKENS_1_NAME=ops",
		"SCIMBRIDGE_AUTH_TOKENS_1_TOKEN=ops-token-0123456789",
		"SCIMBRIDGE_AUTH_TOKENS_1_SCOPES=admin, scim.read",
		"OTHER_VAR=ignored",
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.Listen != "0.0.0.0:9000" || cfg.Server.PublicURL != "http://0.0.0.0:9000" || cfg.Server.ReadTimeout != 5*time.Second {
		t.Errorf("server = %+v", cfg.Server)
	}
	if cfg.HubSpot.Token != "pat-secret" || cfg.HubSpot.APIVersion != "2026-03" || cfg.HubSpot.RateLimit != 100 {
		t.Errorf("hubspot = %+v", cfg.HubSpot)
	}
	if len(cfg.Auth.Tokens) != 2 || cfg.Auth.Tokens[1].Name != "ops" || strings.Join(cfg.Auth.Tokens[1].Scopes, ",") != "admin,scim.read" {
		t.Errorf("tokens = %+v", cfg.Auth.Tokens)
	}
	if errs := cfg.Validate(); len(errs) != 0 {
		t.Errorf("Validate() = %v", errs)
	}
	// The effective configuration never holds the plain secrets.
	out, err := cfg.Marshal(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"pat-secret", "ops-token-0123456789"} {
		if strings.Contains(string(out), s) {
			t.Errorf("Marshal leaks %q:\n%s", s, out)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("server:\n  listne: x\n"), 0o600)
	if _, err := Load(bad, nil); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := Load("", []string{"SCIMBRIDGE_SERVER_READ_TIMEOUT=soon"}); err == nil || !strings.Contains(err.Error(), "SCIMBRIDGE_SERVER_READ_TIMEOUT") {
		t.Errorf("bad duration: %v", err)
	}
	if _, err := Load("", []string{"SCIMBRIDGE_HUBSPOT_TOKEN_FILE=/nonexistent"}); err == nil {
		t.Error("missing _FILE accepted")
	}
	empty := filepath.Join(dir, "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	cfg, err := Load(empty, nil)
	if err != nil {
		t.Fatal(err)
	}
	errs := cfg.Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "no client credentials") {
		t.Errorf("empty file: %v", errs)
	}
	cfg.Provisioning.LeaverPolicy = "restrict"
	cfg.Mapping.Roles = []provision.RoleRule{{Group: "x"}}
	cfg.HubSpot.TimeZone = "Mars/Olympus"
	if errs := cfg.Validate(); len(errs) != 4 {
		t.Errorf("want 4 problems, got %v", errs)
	}
}
