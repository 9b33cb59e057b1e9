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

// commandFail prints a command's error on stderr, prefixed with its name,
// and returns code.
func commandFail(stderr io.Writer, name string) func(code int, format string, a ...any) int {
	return func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "scimbridge "+name+": "+format+"\n", a...)
		return code
	}
}

// reportArgs parses the arguments of a one-shot report command, --config
// FILE [--output table|json], and loads the configuration. A nil
// configuration comes with the exit code: 2 for usage and configuration
// errors.
func reportArgs(name string, args []string, stderr io.Writer) (cfg *config.Config, output string, code int) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	out := fs.String("output", "table", "report format: table or json")
	if err := fs.Parse(args); err != nil {
		return nil, "", 2
	}
	fail := commandFail(stderr, name)
	switch {
	case fs.NArg() > 0:
		return nil, "", fail(2, "unexpected argument %q", fs.Arg(0))
	case *path == "":
		return nil, "", fail(2, "--config is required")
	case *out != "table" && *out != "json":
		return nil, "", fail(2, "--output is table or json, not %q", *out)
	}
	cfg, code = loadConfig(*path, stderr)
	return cfg, *out, code
}

// cmdHubSpotCheck is the read-only preflight of the configured portal:
// exit 0 when nothing blocks provisioning (warnings allowed), 1 when
// something does, 2 for usage and configuration errors.
func cmdHubSpotCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := commandFail(stderr, "hubspot check")
	cfg, output, code := reportArgs("hubspot check", args, stderr)
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
	if output == "json" {
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
	hc := cfg.HubSpot.Config
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
		ManageTeams: cfg.Provisioning.ManageTeams, ProfileProperties: props, Rules: *cfg.Rules(),
		TimeZone: h.TimeZone, DailyLimit: h.DailyLimit, RateLimit: h.RateLimit, RateInterval: h.RateInterval,
		Now: now,
	}
}
