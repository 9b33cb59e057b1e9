package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// cmdHubSpotSim runs the HubSpot simulator on its own, for tests and
// benchmarks that want HubSpot in another process. It behaves like a
// strict real portal (pending invitations, CRM records and search that
// lag, the CRM search limit, 400 for an email that exists: see
// hubspotsim.Behaviour); --loose switches all of that off
// (hubspotsim.Loose), and POST /_sim/behaviour changes it at run time.
func cmdHubSpotSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hubspot-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve on")
	seedPath := fs.String("seed", "", "seed file (YAML or JSON: roles, teams, users, tokens, limits); default: the demo portal")
	limit := fs.Int("rate-limit", 0, "requests per interval (default: the seed's, else 100)")
	interval := fs.Duration("interval", 0, "rolling rate-limit window (default 10s)")
	daily := fs.Int("daily", 0, "daily request budget (default 250000)")
	loose := fs.Bool("loose", false, "permissive portal: invitations accepted at once, CRM records and search without delay, no search limit, 409 for an existing email (default: strict, like a real portal)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	seed := hubspotsim.DefaultSeed()
	if *seedPath != "" {
		var err error
		if seed, err = hubspotsim.LoadSeed(*seedPath); err != nil {
			fmt.Fprintf(stderr, "scimbridge hubspot-sim: %v\n", err)
			return 2
		}
	}
	var behaviour hubspotsim.Behaviour // the zero value is strict
	if *loose {
		behaviour = hubspotsim.Loose()
	}
	srv, err := hubspotsim.Start(hubspotsim.Config{
		Seed:      seed,
		Limits:    hubspotsim.Limits{TenSecondly: *limit, Interval: *interval, Daily: *daily},
		Behaviour: behaviour,
	}, *listen)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge hubspot-sim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "hubspot: %s\n", srv.URL)
	if *seedPath == "" {
		fmt.Fprintf(stdout, "token: %s\n", hubspotsim.DemoToken)
	}
	fmt.Fprintf(stdout, "inspect: %s/_sim/state %s/_sim/stats %s/_sim/behaviour\n", srv.URL, srv.URL, srv.URL)
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "scimbridge hubspot-sim: %v\n", err)
		return 1
	}
	return 0
}
