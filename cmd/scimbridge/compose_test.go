package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"

	"github.com/scimbridge/scimbridge/internal/config"
)

// TestComposeFile loads docker-compose.yml with compose-go, the loader
// behind `docker compose config`, and checks the bridge's embedded
// configuration passes `config check` with the environment compose gives
// it. (No Docker engine runs where the tests run; the images themselves
// are not built here.)
func TestComposeFile(t *testing.T) {
	path, err := filepath.Abs("../../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := cli.NewProjectOptions([]string{path}, cli.WithName("scimbridge"), cli.WithEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("docker-compose.yml does not load: %v", err)
	}
	if len(p.Services) != 3 {
		t.Fatalf("services: %v", p.ServiceNames())
	}
	bridge, err := p.GetService("bridge")
	if err != nil {
		t.Fatal(err)
	}
	content := p.Configs["bridge-config"].Content
	if content == "" {
		t.Fatal("bridge-config has no content")
	}
	cfgPath := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	var env []string
	for k, v := range bridge.Environment {
		if v != nil {
			env = append(env, k+"="+*v)
		}
	}
	cfg, err := config.Load(cfgPath, env)
	if err != nil {
		t.Fatal(err)
	}
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("the compose configuration has problems: %v", errs)
	}
	if cfg.Directory.Type != config.DirectoryLDAP || !strings.Contains(cfg.HubSpot.BaseURL, "hubspot-sim") {
		t.Fatalf("unexpected configuration: %+v", cfg.Directory)
	}
	for _, f := range []string{"../../Dockerfile", "../../directory/ldaptest/docker/Dockerfile", "../../directory/ldaptest/docker/slapd.conf"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("compose builds from %s: %v", f, err)
		}
	}
}
