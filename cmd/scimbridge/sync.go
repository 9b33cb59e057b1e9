package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/schemas"
)

// cmdSync runs one full reconcile of the configured directory: a dry run
// prints the plan, a real run applies it. It shares the store with a
// running `serve` (whose workers then do the HubSpot work) or, with
// --provision, does the HubSpot work itself before exiting.
func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	dry := fs.Bool("dry-run", false, "print the plan; change nothing")
	force := fs.Bool("force", false, "apply a plan the deletion guard holds back")
	output := fs.String("output", "table", "plan format: table or json")
	doProvision := fs.Bool("provision", false, "also do the HubSpot work and wait for it (when no `serve` is running)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *output != "table" && *output != "json" {
		fmt.Fprintln(stderr, "scimbridge sync: --output is table or json")
		return 2
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	if cfg.Directory.Type == "" {
		fmt.Fprintln(stderr, "scimbridge sync: no directory is configured (directory.type)")
		return 2
	}
	log := newCommandLogger(cfg.Log, stderr)
	cat, err := schemas.Load()
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge sync: %v\n", err)
		return 1
	}
	if !*dry {
		owner, err := ownStoreForSync(ctx, cfg.Store, log, stderr)
		if err != nil {
			return 1
		}
		defer owner.Release()
	}
	// A one-shot command: two read connections are plenty, and each holds
	// a page cache.
	st, err := openStore(ctx, cfg.Store, 2, cat)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge sync: opening the store: %v\n", err)
		return 1
	}
	defer st.Close()
	engine, err := newSyncEngine(ctx, cfg, st, log, !*dry)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge sync: %v\n", err)
		return 1
	}
	src, err := openDirectory(ctx, cfg, log)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge sync: opening the directory: %v\n", err)
		return 1
	}
	defer src.Close()
	svc := provision.New(st, engine, log).NoWait()
	runner := reconcile.NewRunner(cfg.Reconcile, src, &cfg.Directory.Mapping, st, svc, log.With().Str("component", "reconcile").Logger(), nil)
	res, err := runFull(ctx, runner, reconcile.Options{DryRun: *dry, Force: *force}, stderr)
	if res != nil {
		printResult(stdout, res, *output)
	}
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge sync: %v\n", err)
		return 1
	}
	if res.Run.Outcome == reconcile.OutcomeGuarded {
		return 3
	}
	if *doProvision && engine != nil && !*dry {
		// With --output json, stdout holds the one JSON document.
		human := stdout
		if *output == "json" {
			human = stderr
		}
		return provisionUntilDrained(ctx, engine, st, human, stderr, cfg.Store)
	}
	return 0
}

// runFull runs one full reconcile, with a progress bar on a terminal when
// it writes.
func runFull(ctx context.Context, runner *reconcile.Runner, opt reconcile.Options, stderr io.Writer) (*reconcile.Result, error) {
	if isTerminal(stderr) && !opt.DryRun {
		opt.Progress = progressBar(stderr)
		defer fmt.Fprintln(stderr)
	}
	return runner.Full(ctx, opt)
}

// ownStoreForSync takes the store for a sync that changes it: never two
// reconciles (or two sets of HubSpot workers) on a store. Another sync or
// review --apply is waited for; a serve refuses, and the error says so.
func ownStoreForSync(ctx context.Context, sc config.Store, log zerolog.Logger, stderr io.Writer) (*storeLock, error) {
	owner, err := ownStore(ctx, sc, "scimbridge sync", log)
	if err != nil {
		fmt.Fprintf(stderr, "scimbridge sync: %v\n", err)
		if held, ok := err.(*errLockHeld); ok && held.byServe() {
			fmt.Fprintln(stderr, "A running scimbridge serve reconciles the directory itself; ask it for a run now with POST /admin/v1/reconcile (admin scope), or use --dry-run to see the plan.")
		}
	}
	return owner, err
}

// newSyncEngine is the provisioning engine of a sync, nil without a
// HubSpot token. A sync that writes loads HubSpot's catalogue first, so
// that mapping rules naming something HubSpot lacks are reported.
func newSyncEngine(ctx context.Context, cfg *config.Config, st bridgeStore, log zerolog.Logger, writes bool) (*provision.Engine, error) {
	client, err := newHubSpotClient(cfg, log)
	if err != nil {
		return nil, err
	}
	engine, err := newEngine(cfg, st, client, log, nil)
	if err != nil || engine == nil || !writes {
		return engine, err
	}
	if problems, err := engine.LoadCatalog(ctx); err != nil {
		log.Warn().Err(err).Msg("HubSpot unreachable: changes are stored and provisioned once it answers")
	} else {
		for _, p := range problems {
			log.Error().Err(p).Msg("mapping rule names something HubSpot lacks")
		}
	}
	return engine, nil
}

// printResult writes a run and its plan as a table or as one JSON
// document.
func printResult(w io.Writer, res *reconcile.Result, output string) {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
		return
	}
	printPlan(w, res)
}

// provisionUntilDrained runs the HubSpot workers until no work is queued;
// with a nil engine it only waits, while another process (a running serve)
// does the work, and gives up if that process stops.
func provisionUntilDrained(ctx context.Context, engine *provision.Engine, st bridgeStore, stdout, stderr io.Writer, sc config.Store) int {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if engine != nil {
			_ = engine.Run(wctx)
		}
	}()
	defer func() {
		cancel()
		<-done
	}()
	for {
		counts, err := st.ProvisioningCounts(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "scimbridge sync: %v\n", err)
			return 1
		}
		next, ok, _ := st.NextProvisioningDue(ctx)
		// Done when nothing is due soon: parked refusals retry later.
		if counts["_pending"] == 0 || (ok && time.Until(next) > time.Minute) {
			fmt.Fprintf(stdout, "HubSpot: %s\n", formatCounts(counts))
			return 0
		}
		if engine == nil && !stillHeld(ctx, sc) {
			fmt.Fprintf(stderr, "the scimbridge serve doing the HubSpot work has stopped (%s queued); run again with --provision\n", formatCounts(counts))
			return 1
		}
		select {
		case <-ctx.Done():
			return 1
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func formatCounts(c map[string]int) string {
	var parts []string
	for _, k := range []string{provision.StateSynced, provision.StateRemoved, provision.StateSkipped, provision.StateFailed, provision.StatePending} {
		if c[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[k], k))
		}
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// progressBar draws "[=====>      ] 1234/5000" on a terminal.
func progressBar(w io.Writer) func(done, total int) {
	last := time.Time{}
	return func(done, total int) {
		if total == 0 || (done < total && time.Since(last) < 100*time.Millisecond) {
			return
		}
		last = time.Now()
		const width = 40
		n := done * width / total
		fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
	}
}

// maxPlanLines bounds the users and groups a table plan lists one by one.
const maxPlanLines = 200

// printPlan renders a run and its plan for people.
func printPlan(w io.Writer, res *reconcile.Result) {
	run, p := res.Run, res.Plan
	title := map[string]string{
		reconcile.OutcomeDryRun: "Dry run: nothing was changed.", reconcile.OutcomeOK: "Applied.",
		reconcile.OutcomeGuarded: "Held back by the deletion guard: nothing was changed.", reconcile.OutcomeFailed: "Failed: nothing was changed.",
	}[run.Outcome]
	fmt.Fprintln(w, title)
	if run.Error != "" {
		fmt.Fprintf(w, "  %s\n", run.Error)
	}
	if p == nil {
		return
	}
	fmt.Fprintf(w, "\nDirectory-managed users before this run: %d\n", p.Managed)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	sym := map[string]string{reconcile.OpCreate: "+", reconcile.OpUpdate: "~", reconcile.OpDeactivate: "-", reconcile.OpDelete: "x", reconcile.OpAdopt: "&"}
	if len(p.Users) > 0 {
		fmt.Fprintln(w, "\nUsers:")
		for i, u := range p.Users {
			if i == maxPlanLines {
				fmt.Fprintf(tw, "  … and %d more (--output json lists them all)\n", len(p.Users)-i)
				break
			}
			detail := u.Reason
			if len(u.Changes) > 0 && u.Op != reconcile.OpCreate {
				var cs []string
				for _, c := range u.Changes {
					cs = append(cs, fmt.Sprintf("%s: %s → %s", shortAttr(c.Attribute), brief(c.Old), brief(c.New)))
				}
				if detail != "" {
					detail += "; "
				}
				detail += strings.Join(cs, "; ")
			}
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", sym[u.Op], u.Op, u.UserName, detail)
		}
		tw.Flush()
	}
	if len(p.Groups) > 0 {
		fmt.Fprintln(w, "\nGroups:")
		for i, g := range p.Groups {
			if i == maxPlanLines {
				fmt.Fprintf(tw, "  … and %d more (--output json lists them all)\n", len(p.Groups)-i)
				break
			}
			detail := ""
			if g.OldName != "" {
				detail = "renamed from " + g.OldName + "; "
			}
			if g.Op != reconcile.OpDelete {
				detail += fmt.Sprintf("+%d −%d members", g.Added, g.Removed)
			}
			fmt.Fprintf(tw, "  %s %s\t%s\t%s\n", sym[g.Op], g.Op, g.Name, detail)
		}
		tw.Flush()
	}
	for _, c := range p.Conflicts {
		fmt.Fprintf(w, "  ! %s\n", c)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(w, "  ? skipped: %s\n", s)
	}
	for _, e := range res.Errors {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	var sum []string
	for _, k := range []string{"users_create", "users_update", "users_deactivate", "users_delete", "users_adopt", "groups_create", "groups_update", "groups_delete", "groups_adopt", "conflicts", "skipped", "errors"} {
		if n := run.Counts[k]; n > 0 {
			sum = append(sum, fmt.Sprintf("%d %s", n, strings.ReplaceAll(k, "_", " ")))
		}
	}
	if len(sum) == 0 {
		sum = []string{"no changes"}
	}
	fmt.Fprintf(w, "\nSummary: %s (%s).\n", strings.Join(sum, ", "), run.Finished.Sub(run.Started).Round(time.Millisecond))
}

func shortAttr(a string) string {
	return strings.TrimPrefix(a, schemas.EnterpriseURI+":")
}

// brief renders a value for the plan table.
func brief(v any) string {
	if v == nil {
		return "∅"
	}
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(data) > 80 {
		return string(data[:77]) + "…"
	}
	return string(data)
}
