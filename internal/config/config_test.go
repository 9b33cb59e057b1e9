package config

import (
	"fmt"
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

// An adapter's setting reaches the configuration by its YAML tag alone:
// from the file under its section, from the environment, with its
// adapter's default and validation.
func TestAdapterSettings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	os.WriteFile(path, []byte("hubspot:\n  user_agent: scimbridge-staging\n  timeout: 30s\nprovisioning:\n  leaver_policy: restrict\n  restricted_role: Viewer\n  workers: 8\nserver:\n  body_limit: 4096\n  profiling: true\n"), 0o600)
	cfg, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HubSpot.UserAgent != "scimbridge-staging" || cfg.Provisioning.Workers != 8 || cfg.Server.BodyLimit != 4096 || !cfg.Server.Admin.Profiling {
		t.Errorf("file: user_agent %q, workers %d, body_limit %d, profiling %v", cfg.HubSpot.UserAgent, cfg.Provisioning.Workers, cfg.Server.BodyLimit, cfg.Server.Admin.Profiling)
	}
	if r := cfg.Rules(); r.LeaverPolicy != "restrict" || r.RestrictedRole != "Viewer" {
		t.Errorf("Rules() = %+v", r)
	}
	// One default, from the HubSpot timeout: 30s + 1m.
	if cfg.Provisioning.VerifyRemovalAfter != 90*time.Second {
		t.Errorf("verify_removal_after = %v, want 1m30s", cfg.Provisioning.VerifyRemovalAfter)
	}
	cfg, err = Load("", []string{"SCIMBRIDGE_HUBSPOT_USER_AGENT=scimbridge-prod", "SCIMBRIDGE_PROVISIONING_WORKERS=2"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HubSpot.UserAgent != "scimbridge-prod" || cfg.Provisioning.Workers != 2 {
		t.Errorf("env: user_agent %q, workers %d", cfg.HubSpot.UserAgent, cfg.Provisioning.Workers)
	}
	cfg, _ = Load("", nil)
	if cfg.HubSpot.UserAgent != "scimbridge-hubspot/1" {
		t.Errorf("default user_agent = %q", cfg.HubSpot.UserAgent)
	}
	cfg.HubSpot.UserAgent = "two\nlines"
	cfg.Provisioning.Workers = -1
	var got []string
	for _, e := range cfg.Validate() {
		got = append(got, e.Error())
	}
	for _, want := range []string{"hubspot.user_agent: must be one line", "provisioning.workers: must be between 1 and 64"} {
		if !strings.Contains(strings.Join(got, "\n"), want) {
			t.Errorf("Validate() = %q, want %q", got, want)
		}
	}
}

// The postgres driver takes its connection string from the file or, for
// the password's sake, from a file named in the environment; a
// configuration written back shows it without the password.
func TestPostgresStore(t *testing.T) {
	dir := t.TempDir()
	dsnFile := filepath.Join(dir, "dsn")
	os.WriteFile(dsnFile, []byte("postgres://bridge:s3cret@db.example.com/scim\n"), 0o600)
	cfg, err := Load("", []string{"SCIMBRIDGE_STORE_DRIVER=postgres", "SCIMBRIDGE_STORE_DSN_FILE=" + dsnFile})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store.Driver != "postgres" || cfg.Store.Postgres.DSN != "postgres://bridge:s3cret@db.example.com/scim" {
		t.Fatalf("store = %q %q", cfg.Store.Driver, cfg.Store.Postgres.DSN)
	}
	out, err := cfg.Marshal(false)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "s3cret") || !strings.Contains(string(out), "postgres://bridge:xxxxx@db.example.com/scim") {
		t.Errorf("written configuration:\n%s", out)
	}
	cfg.Store.Postgres.DSN = ""
	if errs := fmt.Sprint(cfg.Validate()); !strings.Contains(errs, "store.dsn: the postgres driver needs a connection string") {
		t.Errorf("Validate() = %s", errs)
	}
	cfg.Store.Driver = "mysql"
	if errs := fmt.Sprint(cfg.Validate()); !strings.Contains(errs, `store.driver: unknown driver "mysql" (supported: sqlite, postgres)`) {
		t.Errorf("Validate() = %s", errs)
	}
}

// The review section is review.Config, validated by its package under its
// key.
func TestReviewSettings(t *testing.T) {
	cfg, err := Load("", []string{"SCIMBRIDGE_REVIEW_DORMANT_DAYS=30", "SCIMBRIDGE_REVIEW_INTERVAL=24h"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Review.DormantDays != 30 || cfg.Review.Interval != 24*time.Hour {
		t.Fatalf("review = %+v", cfg.Review)
	}
	cfg.Review.DormantDays, cfg.Review.Interval, cfg.Review.VerifiedDomains = 91, time.Second, []string{"not a domain"}
	got := fmt.Sprint(cfg.Validate())
	for _, want := range []string{"review.dormant_days: must be between 0", "review.interval: must be 0 (off) or at least 1m", `review.verified_domains[0]: "not a domain" is not a domain`} {
		if !strings.Contains(got, want) {
			t.Errorf("Validate() = %s, want %q", got, want)
		}
	}
}
