package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/scimbridge/scimbridge/directory/ldapmem"
	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
	"github.com/scimbridge/scimbridge/internal/auth"
	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/schemas"
)

// cmdDemo runs the bridge on its embedded default: a SQLite store in a
// data folder and a generated (or SCIMBRIDGE_DEMO_TOKEN) token. It prints
// the lines other tools read: "scim: ", "token: " and "config: ".
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to serve on")
	data := fs.String("data", "scimbridge-demo", "folder for the demo's store and effective configuration")
	hubspotListen := fs.String("hubspot-listen", "127.0.0.1:8090", "address of the embedded HubSpot simulator")
	ldapListen := fs.String("ldap-listen", "127.0.0.1:8389", "address of the embedded sample OTDS directory (LDAP)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(what string, err error) int {
		fmt.Fprintf(stderr, "scimbridge demo: %s%v\n", what, err)
		return 1
	}
	dir, err := filepath.Abs(*data)
	if err == nil {
		err = os.MkdirAll(dir, 0o700)
	}
	if err != nil {
		return fail("data folder: ", err)
	}
	token, clientSecret := demoSecret("SCIMBRIDGE_DEMO_TOKEN"), demoSecret("SCIMBRIDGE_DEMO_CLIENT_SECRET")
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fail("listen: ", err)
	}
	cfg, owner, err := demoConfig(ln, dir, token, clientSecret)
	if err != nil {
		_ = ln.Close()
		return fail("", err)
	}
	defer owner.Release()
	sim, err := hubspotsim.Start(hubspotsim.Config{Seed: hubspotsim.DefaultSeed()}, *hubspotListen)
	if err != nil {
		return fail("HubSpot simulator: ", err)
	}
	defer sim.Close()
	cfg.HubSpot.BaseURL = sim.URL
	// The sample directory: an in-process LDAP server holding an
	// OTDS-shaped partition of ~50 people, reconciled like a real OTDS.
	sample, err := ldapmem.New(bytes.NewReader(ldapmem.DemoLDIF), ldapmem.WithBind(demoBindDN, demoBindPassword))
	if err == nil {
		err = sample.Start(*ldapListen)
	}
	if err != nil {
		return fail("sample directory: ", err)
	}
	defer sample.Stop()
	cfg.Directory.LDAP.URLs = []string{sample.URL()}
	cfg.SetDefaults()
	if errs := cfg.Validate(); len(errs) > 0 {
		return fail("", fmt.Errorf("%v", errs))
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := writeEffectiveConfig(cfg, cfgPath); err != nil {
		return fail("", err)
	}
	return serve(ctx, cfg, ln, stderr, func() {
		fmt.Fprintf(stdout, "scim: %s/scim/v2\n", cfg.Server.PublicURL)
		fmt.Fprintf(stdout, "token: %s\n", token)
		fmt.Fprintf(stdout, "config: %s\n", cfgPath)
		fmt.Fprintf(stdout, "hubspot: %s\n", sim.URL)
		fmt.Fprintf(stdout, "directory: %s (bind %s / %s)\n", sample.URL(), demoBindDN, demoBindPassword)
		fmt.Fprintf(stdout, "token_url: %s/oauth/token\n", cfg.Server.PublicURL)
		fmt.Fprintf(stdout, "client_id: %s\n", demoClientID)
		fmt.Fprintf(stdout, "client_secret: %s\n", clientSecret)
		fmt.Fprintf(stdout, "\nTry:\n  curl -s -H \"Authorization: Bearer %s\" %s/scim/v2/Users\n", token, cfg.Server.PublicURL)
	})
}

// demoSecret is the environment variable env, or a random secret.
func demoSecret(env string) string {
	if v := os.Getenv(env); v != "" {
		return v
	}
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// demoConfig is the demo's configuration on ln with its store in dir,
// whose owner lock it takes. The HubSpot simulator's and the sample
// directory's addresses are the caller's to fill.
func demoConfig(ln net.Listener, dir, token, clientSecret string) (*config.Config, *storeLock, error) {
	// The demo's own settings win; the environment may tune the rest
	// (SCIMBRIDGE_LOG_LEVEL=warn, SCIMBRIDGE_SERVER_PROFILING=true, …).
	cfg, err := config.Load("", os.Environ())
	if err != nil {
		return nil, nil, err
	}
	cfg.Server.Listen = ln.Addr().String()
	cfg.Server.PublicURL = "http://" + ln.Addr().String()
	cfg.Store.Path = filepath.Join(dir, "scimbridge.db")
	// The simulator and the sample directory live in memory and start
	// afresh each time, so the store does too: a store left from an
	// earlier run would believe in HubSpot users the new simulator lacks.
	owner, err := freshStore(cfg.Store.Path)
	if err != nil {
		return nil, nil, err
	}
	cfg.Auth.Tokens = []auth.Token{{Name: "demo", Token: token, Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite, schemas.ScopeAdmin}}}
	// An OAuth client, as OTDS's SCIM push connector is configured: a
	// token URL, a client id and a secret.
	cfg.Auth.OAuth.Clients = []auth.Client{{ID: demoClientID, Secret: clientSecret, Scopes: []string{schemas.ScopeRead, schemas.ScopeWrite}}}
	cfg.HubSpot.Token = hubspotsim.DemoToken
	cfg.Mapping = demoMapping()
	// Profile attributes to the users object's properties the simulator's
	// portal has (HubSpot's job title, and custom ones for the rest).
	cfg.Profile.Properties = map[string]string{
		"title": "hs_job_title", "department": "department", "location": "location",
		"manager": "manager", "business_unit": "business_unit", "cost_center": "cost_center",
	}
	cfg.Directory = config.Directory{Type: config.DirectoryLDAP}
	cfg.Directory.LDAP.BindDN, cfg.Directory.LDAP.BindPassword = demoBindDN, demoBindPassword
	cfg.Reconcile.ScopeGroups = []string{"HubSpot Users"}
	cfg.Reconcile.PollInterval = time.Second
	// The sample people's domain: HubSpot accounts outside it are not
	// SSO-ready (access review).
	cfg.Review.VerifiedDomains = []string{"example.com"}
	return cfg, owner, nil
}

// freshStore takes the store's owner lock for the demo's serve and
// removes the store's files; it fails if another process (a demo still
// running on the same folder) holds the store.
func freshStore(path string) (*storeLock, error) {
	owner, err := tryLockStore(path, serveHolder)
	if err != nil {
		return nil, err
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(path + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			owner.Release()
			return nil, fmt.Errorf("starting from a fresh store: %w", err)
		}
	}
	return owner, nil
}

// demoClientID is the demo's OAuth client.
const demoClientID = "demo-client"

// The sample directory's bind account (a demo, not a secret).
const (
	demoBindDN       = "cn=admin,dc=identity,dc=opentext,dc=net"
	demoBindPassword = "demo-directory-password"
)

// demoMapping maps the sample groups to the simulator's seeded roles and
// teams; groups named like a team (EMEA Sales, NA Sales, …) map to it.
func demoMapping() provision.Rules {
	return provision.Rules{
		DefaultRole: "Sales Representative",
		Roles: []provision.RoleRule{
			{Group: "Sales Managers", Role: "Sales Manager"},
			{Group: "Marketing", Role: "Marketing Specialist"},
			{Group: "Support", Role: "Support Agent"},
			// Groups an IdP pushes over SCIM beside the directory (the
			// directory owns the groups above).
			{Group: "Okta Sales Managers", Role: "Sales Manager"},
		},
		// The routing recipe: a sales region's directory group gives its
		// HubSpot team as the main team, which HubSpot's team-based lead
		// and ticket routing follows. Other groups named like a team give
		// it too (teams_by_group_name), as additional teams after these.
		Teams: []provision.TeamRule{
			{Group: "EMEA Sales", Team: "EMEA Sales"},
			{Group: "NA Sales", Team: "NA Sales"},
			{Group: "APAC Sales", Team: "APAC Sales"},
			{Group: "Okta EMEA Sales", Team: "EMEA Sales"},
		},
	}
}

// writeEffectiveConfig writes the configuration the demo runs with, the
// token as its hash, so other subcommands can be pointed at it.
func writeEffectiveConfig(cfg *config.Config, path string) error {
	data, err := cfg.Marshal(true) // the simulator's token and the sample directory's password are public
	if err != nil {
		return err
	}
	header := []byte("# Effective configuration of `scimbridge demo`, written at start-up.\n")
	return os.WriteFile(path, append(header, data...), 0o600)
}
