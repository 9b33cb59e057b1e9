package main

import (
	"flag"
	"fmt"
	"io"
)

func cmdConfigCheck(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("config check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *path == "" {
		fmt.Fprintln(stderr, "scimbridge config check: --config is required")
		return 2
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	fmt.Fprintf(stdout, "%s: configuration OK\n", *path)
	return 0
}
