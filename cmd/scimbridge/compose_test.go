package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/scimbridge/scimbridge/internal/config"
)

// TestComposeFile loads docker-compose.yml with compose-go, the loader
// behind `docker compose config`, and checks the bridge's embedded
// configuration passes `config check` with the environment compose gives
// it. (No Docker engine runs where the tests run; the images themselves
// are not built here.)
func TestComposeFile(t *testing.T) {
	p := loadCompose(t)
	if len(p.Services) != 3 {
		t.Fatalf("services without a profile: %v", p.ServiceNames())
	}
	cfg := composeBridgeConfig(t, p, "bridge", "bridge-config")
	if cfg.Directory.Type != config.DirectoryLDAP || !strings.Contains(cfg.HubSpot.BaseURL, "hubspot-sim") {
		t.Fatalf("unexpected configuration: %+v", cfg.Directory)
	}
	for _, f := range []string{"../../Dockerfile", "../../directory/ldaptest/docker/Dockerfile", "../../directory/ldaptest/docker/slapd.conf"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("compose builds from %s: %v", f, err)
		}
	}
}

// TestComposeHAProfile checks the ha profile: PostgreSQL, a simulator of
// its own, two replicas whose configuration passes `config check` on the
// postgres driver with the connection string compose gives them, and
// HAProxy health-checking both on /readyz.
func TestComposeHAProfile(t *testing.T) {
	p := loadCompose(t, "ha")
	for _, name := range []string{"postgres", "hubspot-sim-ha", "bridge-a", "bridge-b", "lb"} {
		if _, err := p.GetService(name); err != nil {
			t.Errorf("the ha profile has no %s: %v", name, err)
		}
	}
	for _, replica := range []string{"bridge-a", "bridge-b"} {
		cfg := composeBridgeConfig(t, p, replica, "bridge-ha-config")
		if cfg.Store.Driver != "postgres" || !strings.HasPrefix(cfg.Store.Postgres.DSN, "postgres://scimbridge:") ||
			!strings.Contains(cfg.Store.Postgres.DSN, "@postgres:5432/") || !strings.Contains(cfg.HubSpot.BaseURL, "hubspot-sim-ha") {
			t.Errorf("%s: store %q, HubSpot %s", replica, cfg.Store.Driver, cfg.HubSpot.BaseURL)
		}
	}
	lb := p.Configs["haproxy-config"].Content
	for _, want := range []string{"option httpchk GET /readyz", "server bridge-a bridge-a:8080", "server bridge-b bridge-b:8080"} {
		if !strings.Contains(lb, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
}

// loadCompose loads docker-compose.yml with the given profiles.
func loadCompose(t *testing.T, profiles ...string) *types.Project {
	t.Helper()
	path, err := filepath.Abs("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithName("scimbridge"), cli.WithEnv(nil), cli.WithProfiles(profiles))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	return p
}

// composeBridgeConfig loads the configuration configName as service sees
// it (its environment included) and fails t unless it passes validation.
func composeBridgeConfig(t *testing.T, p *types.Project, service, configName string) *config.Config {
	t.Helper()
	svc, err := p.GetService(service)
	if err != nil {
		t.Fatal(err)
	}
	content := p.Configs[configName].Content
	if content == "" {
		t.Fatalf("%s has no content", configName)
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for k, v := range svc.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	cfg, err := config.Load(cfgPath, env)
	if err != nil {
		t.Fatal(err)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("the compose configuration of %s has problems: %v", service, errs)
	}
	return cfg
}
