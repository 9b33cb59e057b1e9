package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// reviewActor is who the audit trail names for a review fix.
var reviewActor = schemas.Actor{Name: "access-review"}

// newReviewService is the access review of one configuration: the store,
// the HubSpot portal and the directory (src, when one is configured).
// life bounds shared runs (nil: each run's first caller).
func newReviewService(cfg *config.Config, st store.Store, client *hubspot.Client, src directory.Source, log zerolog.Logger, life context.Context) *review.Service {
	s := review.Sources{
		Store: st, HubSpot: client, Rules: cfg.Rules(),
		Config: reviewConfig(cfg),
	}
	if src != nil {
		s.Directory = reviewDirectory(cfg, src, log)
	}
	return review.NewService(review.ServiceConfig{Sources: s, Log: log, Life: life})
}

// reviewDirectory reads the directory as the reconcile sees it, for a
// review.
func reviewDirectory(cfg *config.Config, src directory.Source, log zerolog.Logger) func(context.Context) (*review.Directory, error) {
	return func(ctx context.Context) (*review.Directory, error) {
		users, skipped, err := reconcile.ReadView(ctx, src, &cfg.Directory.Mapping, cfg.Reconcile)
		if err != nil {
			return nil, fmt.Errorf("review: reading the directory: %w", err)
		}
		if len(skipped) > 0 {
			log.Warn().Int("skipped", len(skipped)).Str("first", skipped[0]).Msg("directory entries the mapping cannot read were left out of the review")
		}
		d := &review.Directory{Users: make([]review.DirectoryUser, len(users))}
		for i, u := range users {
			d.Users[i] = review.DirectoryUser{
				ExternalID: u.ExternalID, UserName: u.UserName, Email: u.Email,
				Active: u.Active, InScope: u.InScope, Groups: u.Groups,
			}
		}
		return d, nil
	}
}

// writeReport renders rep in format.
func writeReport(w io.Writer, rep *review.Report, format string) error {
	switch format {
	case "json":
		return review.WriteJSON(w, rep)
	case "csv":
		return review.WriteCSV(w, rep)
	case "html":
		return review.WriteHTML(w, rep, "scimbridge access review")
	default:
		return review.WriteTable(w, rep)
	}
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// reviewFlags are review's command line.
type reviewFlags struct {
	config, format, outPath string
	// cats are the categories to fix; nil: report only.
	cats                    []string
	apply, force, provision bool
}

func parseReviewFlags(args []string, stderr io.Writer) (*reviewFlags, int) {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f reviewFlags
	fs.StringVar(&f.config, "config", "", "configuration file (YAML)")
	fs.StringVar(&f.format, "format", "table", "report format: table, json, csv or html")
	fs.StringVar(&f.outPath, "out", "", "write the report to FILE (default: standard output)")
	var fix listFlag
	fs.Var(&fix, "fix", "plan the fixes of CATEGORY (repeatable, comma-separated, or all); a dry run unless --apply")
	fs.BoolVar(&f.apply, "apply", false, "with --fix: make the changes")
	fs.BoolVar(&f.force, "force", false, "with --apply: go past the deletion guards")
	fs.BoolVar(&f.provision, "provision", false, "with --apply: do the HubSpot work now (when no `serve` is running), then review again")
	if err := fs.Parse(args); err != nil {
		return nil, 2
	}
	fail := func(format string, a ...any) (*reviewFlags, int) {
		fmt.Fprintf(stderr, "scimbridge review: "+format+"\n", a...)
		return nil, 2
	}
	switch f.format {
	case "table", "json", "csv", "html":
	default:
		return fail("--format is table, json, csv or html, not %q", f.format)
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q (categories go after --fix)", fs.Arg(0))
	}
	if len(fix) > 0 {
		var err error
		if f.cats, err = review.ParseCategories(fix); err != nil {
			return fail("--fix: %v", err)
		}
	} else if f.apply || f.force || f.provision {
		return fail("--apply, --force and --provision go with --fix")
	}
	return &f, 0
}

// reviewCmd is one run of the review command.
type reviewCmd struct {
	*reviewFlags
	cfg    *config.Config
	log    zerolog.Logger
	st     bridgeStore
	client *hubspot.Client
	src    directory.Source
	svc    *review.Service
	stderr io.Writer
	// out receives the report or plan (file, when --out names one);
	// human the commentary (stderr when out is JSON).
	out, human io.Writer
	file       *os.File
}

func (c *reviewCmd) fail(code int, format string, a ...any) int {
	fmt.Fprintf(c.stderr, "scimbridge review: "+format+"\n", a...)
	return code
}

// cmdReview runs an access review: a report, or with --fix the corrective
// plan (a dry run unless --apply).
func cmdReview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, code := parseReviewFlags(args, stderr)
	if f == nil {
		return code
	}
	c := &reviewCmd{reviewFlags: f, stderr: stderr, out: stdout}
	if c.cfg, code = loadConfig(f.config, stderr); c.cfg == nil {
		return code
	}
	c.log = newCommandLogger(c.cfg.Log, stderr)
	client, err := newHubSpotClient(c.cfg, c.log)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if c.client = client; client == nil {
		return c.fail(2, "no HubSpot token is configured (hubspot.token): a review compares HubSpot with the bridge and the directory")
	}
	cat, err := schemas.Load()
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if c.st, err = openStore(ctx, c.cfg.Store, 2, cat); err != nil {
		return c.fail(1, "opening the store: %v", err)
	}
	defer c.st.Close()
	if c.src, err = openDirectory(ctx, c.cfg, c.log); err != nil {
		return c.fail(1, "opening the directory: %v", err)
	}
	if c.src != nil {
		defer c.src.Close()
	}
	c.svc = newReviewService(c.cfg, c.st, client, c.src, c.log, nil)
	rep, err := c.svc.Review(ctx)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	if f.outPath != "" {
		if c.file, err = os.CreateTemp(filepath.Dir(f.outPath), ".review-*"); err != nil {
			return c.fail(1, "%v", err)
		}
		defer os.Remove(c.file.Name())
		c.out = c.file
	}
	if f.cats == nil {
		return c.report(rep)
	}
	return c.fix(ctx, rep)
}

// report writes the review.
func (c *reviewCmd) report(rep *review.Report) int {
	if err := writeReport(c.out, rep, c.format); err != nil {
		return c.fail(1, "writing the report: %v", err)
	}
	if c.file != nil {
		if err := commitFile(c.file, c.outPath); err != nil {
			return c.fail(1, "%v", err)
		}
		fmt.Fprintf(c.stderr, "%d findings (%d fixable) written to %s\n", rep.Summary.Findings, rep.Summary.Fixable, c.outPath)
	}
	return 0
}

// fixResult is what --fix --format json prints: the plan and what
// applying it did.
type fixResult struct {
	Plan     *review.FixPlan    `json:"plan"`
	Outcome  *review.FixOutcome `json:"outcome,omitempty"`
	Resolved *int               `json:"resolvedAfterProvisioning,omitempty"`
	Left     *int               `json:"leftInFixedCategories,omitempty"`
}

// fix prints the fix plan of the review, and applies it with --apply.
func (c *reviewCmd) fix(ctx context.Context, rep *review.Report) int {
	plan := review.PlanFixes(rep, c.cats)
	// With --format json the plan (and what applying did) is one JSON
	// document on the output; the running commentary goes to stderr.
	c.human = c.out
	if c.format == "json" {
		c.human = c.stderr
	}
	result := &fixResult{Plan: plan}
	if c.format != "json" {
		printFixPlan(c.out, plan, c.cfg)
	}
	if c.apply {
		return c.applyFixes(ctx, rep, plan, result)
	}
	c.emit(result)
	if len(plan.Steps) > 0 {
		fmt.Fprintln(c.human, "\nDry run: nothing was changed. Run again with --apply to make these changes.")
	}
	if c.file != nil {
		if err := commitFile(c.file, c.outPath); err != nil {
			return c.fail(1, "%v", err)
		}
	}
	return 0
}

// emit prints result with --format json.
func (c *reviewCmd) emit(result *fixResult) {
	if c.format == "json" {
		enc := json.NewEncoder(c.out)
		enc.SetIndent("", "  ")
		_ = enc.Encode(result)
	}
}

// applyFixes makes the plan's changes through the provisioning write
// path, then with --provision does the HubSpot work and reviews again.
func (c *reviewCmd) applyFixes(ctx context.Context, rep *review.Report, plan *review.FixPlan, result *fixResult) int {
	// Reconciles and HubSpot workers belong to one process a store: with a
	// serve running, its workers do the re-queued work and its reconciles
	// are asked for over HTTP.
	owner, err := ownStore(ctx, c.cfg.Store, "scimbridge review --apply", c.log)
	var held *errLockHeld
	switch {
	case errors.As(err, &held) && held.byServe():
		if len(plan.Steps) > 0 {
			fmt.Fprintf(c.human, "\nA running serve does the HubSpot work of these fixes (%s).\n", held.Error())
		}
	case err != nil:
		return c.fail(1, "%v", err)
	default:
		defer owner.Release()
	}
	// The engine plans the HubSpot work of every bridge change the fix
	// makes, in the same transaction, as a SCIM write would.
	engine, err := newEngine(c.cfg, c.st, c.client, c.log, nil)
	if err != nil {
		return c.fail(1, "%v", err)
	}
	problems, err := engine.LoadCatalog(ctx)
	if err != nil {
		return c.fail(1, "loading HubSpot's roles and teams: %v", err)
	}
	for _, p := range problems {
		c.log.Error().Err(p).Msg("mapping rule names something HubSpot lacks")
	}
	res, err := plan.Apply(ctx, c.fixEnv(provision.New(c.st, engine, c.log).NoWait(), held))
	result.Outcome = res
	fmt.Fprintln(c.human)
	for _, r := range res.Results {
		fmt.Fprintf(c.human, "  %s\n", review.OneLine(r))
	}
	if res.Guarded != "" {
		fmt.Fprintf(c.human, "Held back by the deletion guard: %s\n", res.Guarded)
	}
	fmt.Fprintf(c.human, "Applied %d, failed %d.\n", res.Applied, res.Failed)
	if c.file != nil {
		defer func() { _ = commitFile(c.file, c.outPath) }()
	}
	defer c.emit(result)
	if errors.Is(err, review.ErrGuarded) {
		return 3
	}
	if err != nil {
		return c.fail(1, "%v", err)
	}
	switch {
	case c.provision:
		workers := engine
		if held != nil {
			workers = nil // the serve's workers do it: wait for them
		}
		if code := c.provisionAndReviewAgain(ctx, rep, workers, result); code != 0 {
			return code
		}
	case res.Requeued > 0 && held != nil:
		fmt.Fprintln(c.human, "The running serve does the re-queued HubSpot work.")
	case res.Requeued > 0:
		fmt.Fprintln(c.human, "The re-queued HubSpot work is done by `scimbridge serve` (or run again with --provision).")
	}
	if res.Failed > 0 {
		return 1
	}
	return 0
}

// fixEnv is where a fix plan writes: bridge changes through svc, the
// directory reconcile here (or, while held by a serve, refused with how to
// ask the serve for one).
func (c *reviewCmd) fixEnv(svc *provision.Service, held *errLockHeld) review.FixEnv {
	env := review.FixEnv{
		Store: c.st, HubSpot: c.client, Force: c.force,
		GuardPercent: c.cfg.Reconcile.MaxDeprovisionPercent, GuardCount: c.cfg.Reconcile.MaxDeprovisionCount,
	}
	if c.src == nil {
		return env
	}
	runner := reconcile.NewRunner(c.cfg.Reconcile, c.src, &c.cfg.Directory.Mapping, c.st, svc, c.log.With().Str("component", "reconcile").Logger(), nil)
	env.Reconcile = func(ctx context.Context, force bool) (string, error) {
		if held != nil {
			q := ""
			if force {
				q = "?force=true"
			}
			return "", fmt.Errorf("%s, which runs the directory reconciles: ask it for one with POST /admin/v1/reconcile%s (admin scope)", held.Error(), q)
		}
		return reconcileForReview(ctx, runner, force)
	}
	env.Relink = func(ctx context.Context, bridgeID, from, to string) error {
		return svc.Relink(ctx, reviewActor, bridgeID, from, to)
	}
	return env
}

// reconcileForReview runs a full reconcile for a fix plan and sums it up.
func reconcileForReview(ctx context.Context, runner *reconcile.Runner, force bool) (string, error) {
	res, err := runner.Full(ctx, reconcile.Options{Force: force})
	if err != nil {
		return "", err
	}
	if res.Run.Outcome == reconcile.OutcomeGuarded || res.Run.Error != "" {
		return "", errors.New(res.Run.Error)
	}
	return fmt.Sprintf("%d users created, %d updated, %d deactivated, %d deleted, %d adopted",
		res.Run.Counts["users_create"], res.Run.Counts["users_update"], res.Run.Counts["users_deactivate"],
		res.Run.Counts["users_delete"], res.Run.Counts["users_adopt"]), nil
}

// provisionAndReviewAgain does (or waits for) the HubSpot work of the
// fixes, then reviews again and says what the fixes resolved.
func (c *reviewCmd) provisionAndReviewAgain(ctx context.Context, before *review.Report, workers *provision.Engine, result *fixResult) int {
	if code := provisionUntilDrained(ctx, workers, c.st, c.human, c.stderr, c.cfg.Store); code != 0 {
		return code
	}
	after, err := c.svc.Review(ctx)
	if err != nil {
		return c.fail(1, "reviewing again: %v", err)
	}
	d := review.Compare(before, after)
	left := 0
	for _, f := range after.Findings {
		if slices.Contains(c.cats, f.Category) {
			left++
		}
	}
	resolved := len(d.Resolved)
	result.Resolved, result.Left = &resolved, &left
	fmt.Fprintf(c.human, "Reviewed again: %d findings resolved, %d new; %d left in the fixed categories.\n", len(d.Resolved), len(d.New), left)
	return 0
}

// commitFile closes f and renames it to path.
func commitFile(f *os.File, path string) error {
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// printFixPlan renders a fix plan for people.
func printFixPlan(w io.Writer, p *review.FixPlan, cfg *config.Config) {
	fmt.Fprintf(w, "Fix plan for %s: %d changes, %d findings need a person.\n", strings.Join(p.Categories, ", "), len(p.Steps), len(p.Manual))
	if len(p.Steps) > 0 {
		fmt.Fprintln(w, "\nChanges:")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, f := range p.Steps {
			fmt.Fprintf(tw, "  %s\t%s\t%s\tvia %s\t%s\n", f.Category, f.Fix.Action, review.OneLine(f.Subject), f.Fix.Via, review.OneLine(f.Fix.Detail))
		}
		tw.Flush()
	}
	if p.Reconcile {
		fmt.Fprintln(w, "\nA full directory reconcile runs first (under its own deletion guard); it applies every pending directory change, not only these.")
	}
	if p.HubSpotRemovals > 0 {
		limit := review.GuardLimit(p.HubSpotUsers, cfg.Reconcile.MaxDeprovisionPercent, cfg.Reconcile.MaxDeprovisionCount)
		fmt.Fprintf(w, "\n%d HubSpot users no bridge user manages would be changed directly in HubSpot (deletion guard: %d).\n", p.HubSpotRemovals, limit)
	}
	if len(p.Manual) > 0 {
		fmt.Fprintln(w, "\nFor a person (the bridge has no safe automatic fix):")
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		for _, f := range p.Manual {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.Category, review.OneLine(f.Subject), review.OneLine(f.Evidence))
		}
		tw.Flush()
	}
}

// reviewConfig is the review section with reconcile.adopt, which decides
// whom a link fix may take over.
func reviewConfig(cfg *config.Config) review.Config {
	c := cfg.Review
	c.Adopt = cfg.Reconcile.Adopt
	return c
}
