package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/scimbridge/scimbridge/hubspot/hubspotsim"
)

// cmdHubSpotSim runs the HubSpot simulator on its own, for tests and
// benchmarks that want HubSpot in another process.
func cmdHubSpotSim(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hubspot-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to serve on")
	seedPath := fs.String("seed", "", "seed file (YAML or JSON: roles, teams, users, tokens, limits); default: the demo portal")
	limit := fs.Int("rate-limit", 0, "requests per interval (default: the seed's, else 100)")
	interval := fs.Duration("interval", 0, "rolling rate-limit window (default 10s)")
	daily := fs.Int("daily", 0, "daily request budget (default 250000)")
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
	srv, err := hubspotsim.Start(hubspotsim.Config{
		Seed:   seed,
		Limits: hubspotsim.Limits{TenSecondly: *limit, Interval: *interval, Daily: *daily},
	}, *listen)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge hubspot-sim: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "hubspot: %s\n", srv.URL)
	if *seedPath == "" {
		fmt.Fprintf(stdout, "token: %s\n", hubspotsim.DemoToken)
	}
	fmt.Fprintf(stdout, "inspect: %s/_sim/state %s/_sim/stats\n", srv.URL, srv.URL)
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "scimbridge hubspot-sim: %v\n", err)
		return 1
	}
	return 0
}
