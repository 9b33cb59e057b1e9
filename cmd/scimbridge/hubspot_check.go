package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/preflight"
)

var _ preflight.HubSpot = (*hubspot.Client)(nil)

const hubspotUsage = "usage: scimbridge hubspot check --config FILE [--output table|json]\n"

// cmdHubSpot dispatches the hubspot subcommands.
func cmdHubSpot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check" {
		return cmdHubSpotCheck(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, hubspotUsage)
	return 2
}

// cmdHubSpotCheck is the read-only preflight of the configured portal:
// exit 0 when nothing blocks provisioning (warnings allowed), 1 when
// something does, 2 for usage and configuration errors.
func cmdHubSpotCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hubspot check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	output := fs.String("output", "table", "report format: table or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "scimbridge hubspot check: "+format+"\n", a...)
		return code
	}
	switch {
	case fs.NArg() > 0:
		return fail(2, "unexpected argument %q", fs.Arg(0))
	case *path == "":
		return fail(2, "--config is required")
	case *output != "table" && *output != "json":
		return fail(2, "--output is table or json, not %q", *output)
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	if cfg.HubSpot.Token == "" {
		return fail(2, "hubspot.token is not set (or SCIMBRIDGE_HUBSPOT_TOKEN_FILE): nothing to check")
	}
	rec := preflight.NewHeaderRecorder(nil)
	client, err := newCheckClient(cfg, rec)
	if err != nil {
		return fail(2, "%v", err)
	}
	s := preflightSettings(cfg, time.Now().UTC())
	facts := preflight.Collect(ctx, client, s, rec)
	if ctx.Err() != nil {
		return fail(1, "interrupted")
	}
	rep := preflight.Evaluate(s, facts)
	write := preflight.WriteTable
	if *output == "json" {
		write = preflight.WriteJSON
	}
	if err := write(stdout, rep); err != nil {
		return fail(1, "writing the report: %v", err)
	}
	if !rep.OK() {
		return 1
	}
	return 0
}

// newCheckClient is newHubSpotClient's client sending through rec, so the
// rate-limit headers of every answer can be reported. It logs nothing:
// the report carries every answer (with HubSpot's correlation ids), and
// the probes' expected 403s are no warnings.
func newCheckClient(cfg *config.Config, rec http.RoundTripper) (*hubspot.Client, error) {
	hc, err := hubspotConfig(cfg)
	if err != nil {
		return nil, err
	}
	hc.HTTPClient, hc.Log = &http.Client{Transport: rec}, zerolog.Nop()
	return hubspot.New(hc)
}

// preflightSettings is what cfg asks of HubSpot.
func preflightSettings(cfg *config.Config, now time.Time) preflight.Settings {
	var props []string
	for _, p := range cfg.Profile.Properties {
		if p != "" && !slices.Contains(props, p) {
			props = append(props, p)
		}
	}
	slices.Sort(props)
	h := cfg.HubSpot
	return preflight.Settings{
		BaseURL: h.BaseURL, APIVersion: h.APIVersion, TeamsAPIVersion: h.TeamsAPIVersion,
		ManageTeams: cfg.Provisioning.ManageTeams, ProfileProperties: props, Rules: *rulesOf(cfg),
		TimeZone: h.TimeZone, DailyLimit: h.DailyLimit, RateLimit: h.RateLimit, RateInterval: h.RateInterval,
		Now: now,
	}
}
