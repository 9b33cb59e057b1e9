// Command scimbridge is the SCIM 2.0 provisioning bridge between OpenText
// Directory Services and HubSpot. See README.md for its subcommands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `scimbridge: SCIM 2.0 provisioning bridge from OpenText Directory Services to HubSpot.

Usage:
  scimbridge demo [--listen ADDR] [--data DIR] [--hubspot-listen ADDR]
                                                 run everything on the embedded default
  scimbridge serve --config FILE                 run the bridge
  scimbridge config check --config FILE          report every configuration problem
  scimbridge sync --config FILE [--dry-run] [--force] [--output table|json] [--provision]
                                                 reconcile the directory once
  scimbridge review --config FILE [--format table|json|csv|html] [--out FILE]
                    [--fix CATEGORY|all ... [--apply [--force] [--provision]]]
                                                 access review: directory, bridge and HubSpot compared
  scimbridge hubspot check --config FILE [--output table|json]
                                                 read-only preflight of the HubSpot portal
  scimbridge store check-names --config FILE [--output table|json]
                                                 list stored users whose names now collide or are refused
  scimbridge hubspot-sim [--listen ADDR] [--seed FILE]   run the HubSpot simulator
  scimbridge version                             print the version

Run "scimbridge COMMAND -h" for a command's flags.
`

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// run is the whole program; main only wires the process around it, so
// tests run it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr)
	case "demo":
		return cmdDemo(ctx, args[1:], stdout, stderr)
	case "config":
		if len(args) > 1 && args[1] == "check" {
			return cmdConfigCheck(args[2:], stdout, stderr)
		}
		fmt.Fprint(stderr, "usage: scimbridge config check --config FILE\n")
		return 2
	case "sync":
		return cmdSync(ctx, args[1:], stdout, stderr)
	case "review":
		return cmdReview(ctx, args[1:], stdout, stderr)
	case "hubspot":
		return cmdHubSpot(ctx, args[1:], stdout, stderr)
	case "store":
		return cmdStore(ctx, args[1:], stdout, stderr)
	case "hubspot-sim":
		return cmdHubSpotSim(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, "scimbridge", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "scimbridge: unknown command %q\n\n%s", args[0], usage)
	return 2
}
