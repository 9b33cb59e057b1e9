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
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/singleflight"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/hubspot"
	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/provision"
	"github.com/scimbridge/scimbridge/internal/reconcile"
	"github.com/scimbridge/scimbridge/internal/review"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// reviewActor is who the audit trail names for a review fix.
var reviewActor = schemas.Actor{Name: "access-review"}

// reviewer runs access reviews of one configuration: the store, the
// HubSpot portal and the directory (when one is configured).
type reviewer struct {
	cfg    *config.Config
	st     store.Store
	client *hubspot.Client
	src    directory.Source
	log    zerolog.Logger
	// runs shares one review among concurrent callers: a review reads the
	// whole portal, the store and the directory.
	runs singleflight.Group
	// life bounds shared runs (serve's lifetime); nil: the background.
	life context.Context
}

// Review runs a review now; callers arriving while one runs share it.
func (r *reviewer) Review(ctx context.Context) (*review.Report, error) {
	ch := r.runs.DoChan("review", func() (any, error) {
		// Not the first caller's context: a client hanging up must not
		// fail the others.
		base := r.life
		if base == nil {
			base = context.WithoutCancel(ctx)
		}
		ctx, cancel := context.WithTimeout(base, 30*time.Minute)
		defer cancel()
		return r.review(ctx)
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*review.Report), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// latestReviewKey is where the last scheduled review is kept.
const latestReviewKey = "review.latest"

// LatestReview is the last scheduled review, or nil.
func (r *reviewer) LatestReview(ctx context.Context) (*review.Stored, error) {
	raw, err := r.st.State(ctx, latestReviewKey)
	if err != nil || raw == "" {
		return nil, err
	}
	var s review.Stored
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return nil, fmt.Errorf("review: the stored review is unreadable: %w", err)
	}
	return &s, nil
}

// Loop runs a review every interval until ctx ends, keeping the latest
// with what is new and resolved since the one before.
func (r *reviewer) Loop(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := r.scheduled(ctx); err != nil && ctx.Err() == nil {
			r.log.Error().Err(err).Msg("scheduled access review failed")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (r *reviewer) scheduled(ctx context.Context) error {
	rep, err := r.Review(ctx)
	if err != nil {
		return err
	}
	prev, err := r.LatestReview(ctx)
	if err != nil {
		r.log.Warn().Err(err).Msg("comparing with no previous review")
		prev = nil
	}
	s := review.NewStored(prev, rep)
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := r.st.Update(ctx, func(tx store.Tx) error { return tx.SetState(latestReviewKey, string(raw)) }); err != nil {
		return err
	}
	ev := r.log.Info()
	if len(s.New) > 0 {
		ev = r.log.Warn()
	}
	ev.Int("findings", rep.Summary.Findings).Int("new", len(s.New)).Int("resolved", len(s.Resolved)).
		Int("critical", rep.BySeverity[review.SevCritical]).Int("high", rep.BySeverity[review.SevHigh]).
		Msg("scheduled access review")
	return nil
}

// review collects the three sides and reviews them.
func (r *reviewer) review(ctx context.Context) (*review.Report, error) {
	s := review.Sources{
		Store: r.st, HubSpot: r.client, Rules: rulesOf(r.cfg),
		Config: review.Config{DormantDays: r.cfg.Review.DormantDays, VerifiedDomains: r.cfg.Review.VerifiedDomains, Adopt: r.cfg.Reconcile.Adopt},
	}
	if r.src != nil {
		s.Directory = func(ctx context.Context) (*review.Directory, error) {
			users, skipped, err := reconcile.ReadView(ctx, r.src, &r.cfg.Directory.Mapping, r.cfg.Reconcile)
			if err != nil {
				return nil, fmt.Errorf("review: reading the directory: %w", err)
			}
			if len(skipped) > 0 {
				r.log.Warn().Int("skipped", len(skipped)).Str("first", skipped[0]).Msg("directory entries the mapping cannot read were left out of the review")
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
	in, err := review.Collect(ctx, s)
	if err != nil {
		return nil, err
	}
	return review.Run(in), nil
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

// cmdReview runs an access review: a report, or with --fix the corrective
// plan (a dry run unless --apply).
func cmdReview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("review", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "configuration file (YAML)")
	format := fs.String("format", "table", "report format: table, json, csv or html")
	outPath := fs.String("out", "", "write the report to FILE (default: standard output)")
	var fix listFlag
	fs.Var(&fix, "fix", "plan the fixes of CATEGORY (repeatable, comma-separated, or all); a dry run unless --apply")
	apply := fs.Bool("apply", false, "with --fix: make the changes")
	force := fs.Bool("force", false, "with --apply: go past the deletion guards")
	doProvision := fs.Bool("provision", false, "with --apply: do the HubSpot work now (when no `serve` is running), then review again")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "scimbridge review: "+format+"\n", a...)
		return code
	}
	switch *format {
	case "table", "json", "csv", "html":
	default:
		return fail(2, "--format is table, json, csv or html, not %q", *format)
	}
	if fs.NArg() > 0 {
		return fail(2, "unexpected argument %q (categories go after --fix)", fs.Arg(0))
	}
	var cats []string
	if len(fix) > 0 {
		var err error
		if cats, err = review.ParseCategories(fix); err != nil {
			return fail(2, "--fix: %v", err)
		}
	} else if *apply || *force || *doProvision {
		return fail(2, "--apply, --force and --provision go with --fix")
	}
	cfg, code := loadConfig(*path, stderr)
	if cfg == nil {
		return code
	}
	log := newCommandLogger(cfg.Log, stderr)
	client, err := newHubSpotClient(cfg, log)
	if err != nil {
		return fail(1, "%v", err)
	}
	if client == nil {
		return fail(2, "no HubSpot token is configured (hubspot.token): a review compares HubSpot with the bridge and the directory")
	}
	cat, err := schemas.Load()
	if err != nil {
		return fail(1, "%v", err)
	}
	st, err := sqlite.Open(ctx, sqlite.Config{Path: cfg.Store.Path, ReadConns: 2}, cat)
	if err != nil {
		return fail(1, "opening the store: %v", err)
	}
	defer st.Close()
	src, err := openDirectory(ctx, cfg, log)
	if err != nil {
		return fail(1, "opening the directory: %v", err)
	}
	if src != nil {
		defer src.Close()
	}
	rv := &reviewer{cfg: cfg, st: st, client: client, src: src, log: log}
	rep, err := rv.Review(ctx)
	if err != nil {
		return fail(1, "%v", err)
	}

	out := stdout
	var file *os.File
	if *outPath != "" {
		if file, err = os.CreateTemp(filepath.Dir(*outPath), ".review-*"); err != nil {
			return fail(1, "%v", err)
		}
		defer os.Remove(file.Name())
		out = file
	}
	if cats == nil {
		if err := writeReport(out, rep, *format); err != nil {
			return fail(1, "writing the report: %v", err)
		}
		if file != nil {
			if err := commitFile(file, *outPath); err != nil {
				return fail(1, "%v", err)
			}
			fmt.Fprintf(stderr, "%d findings (%d fixable) written to %s\n", rep.Summary.Findings, rep.Summary.Fixable, *outPath)
		}
		return 0
	}

	plan := review.PlanFixes(rep, cats)
	// With --format json the plan (and what applying did) is one JSON
	// document on the output; the running commentary goes to stderr.
	human := out
	if *format == "json" {
		human = stderr
	}
	result := struct {
		Plan     *review.FixPlan    `json:"plan"`
		Outcome  *review.FixOutcome `json:"outcome,omitempty"`
		Resolved *int               `json:"resolvedAfterProvisioning,omitempty"`
		Left     *int               `json:"leftInFixedCategories,omitempty"`
	}{Plan: plan}
	emit := func() {
		if *format == "json" {
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			_ = enc.Encode(result)
		}
	}
	if *format != "json" {
		printFixPlan(out, plan, cfg)
	}
	if !*apply {
		emit()
		if len(plan.Steps) > 0 {
			fmt.Fprintln(human, "\nDry run: nothing was changed. Run again with --apply to make these changes.")
		}
		if file != nil {
			if err := commitFile(file, *outPath); err != nil {
				return fail(1, "%v", err)
			}
		}
		return 0
	}

	// Reconciles and HubSpot workers belong to one process a store: with a
	// serve running, its workers do the re-queued work and its reconciles
	// are asked for over HTTP.
	owner, err := ownStore(ctx, cfg.Store.Path, "scimbridge review --apply", log)
	var held *errLockHeld
	switch {
	case errors.As(err, &held) && held.byServe():
		if len(plan.Steps) > 0 {
			fmt.Fprintf(human, "\nA running serve does the HubSpot work of these fixes (%s).\n", held.Error())
		}
	case err != nil:
		return fail(1, "%v", err)
	default:
		defer owner.Release()
	}

	// The engine plans the HubSpot work of every bridge change the fix
	// makes, in the same transaction, as a SCIM write would.
	engine, err := newEngine(cfg, st, client, log, nil)
	if err != nil {
		return fail(1, "%v", err)
	}
	problems, err := engine.LoadCatalog(ctx)
	if err != nil {
		return fail(1, "loading HubSpot's roles and teams: %v", err)
	}
	for _, p := range problems {
		log.Error().Err(p).Msg("mapping rule names something HubSpot lacks")
	}
	svc := provision.New(st, engine, log).NoWait()
	env := review.FixEnv{
		Store: st, HubSpot: client, Force: *force,
		GuardPercent: cfg.Reconcile.MaxDeprovisionPercent, GuardCount: cfg.Reconcile.MaxDeprovisionCount,
	}
	if src != nil {
		runner := reconcile.NewRunner(cfg.Reconcile, src, &cfg.Directory.Mapping, st, svc, log.With().Str("component", "reconcile").Logger(), nil)
		env.Reconcile = func(ctx context.Context, force bool) (string, error) {
			if held != nil {
				q := ""
				if force {
					q = "?force=true"
				}
				return "", fmt.Errorf("%s, which runs the directory reconciles: ask it for one with POST /admin/v1/reconcile%s (admin scope)", held.Error(), q)
			}
			res, err := runner.Full(ctx, reconcile.Options{Force: force})
			if err != nil {
				return "", err
			}
			if res.Run.Outcome == reconcile.OutcomeGuarded {
				return "", errors.New(res.Run.Error)
			}
			if res.Run.Error != "" {
				return "", errors.New(res.Run.Error)
			}
			return fmt.Sprintf("%d users created, %d updated, %d deactivated, %d deleted, %d adopted",
				res.Run.Counts["users_create"], res.Run.Counts["users_update"], res.Run.Counts["users_deactivate"],
				res.Run.Counts["users_delete"], res.Run.Counts["users_adopt"]), nil
		}
		env.Relink = func(ctx context.Context, bridgeID, from, to string) error {
			page, err := st.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("externalId", to), StartIndex: 1, Count: 1})
			if err != nil {
				return err
			}
			if len(page.Users) > 0 && page.Users[0].ID != bridgeID {
				return fmt.Errorf("bridge user %s holds that external id since the review: review again", page.Users[0].ID)
			}
			_, err = svc.PatchUser(ctx, reviewActor, bridgeID, 0, func(u *schemas.User) ([]string, error) {
				if u.ExternalID != from {
					return nil, fmt.Errorf("its externalId changed to %q since the review: review again", u.ExternalID)
				}
				u.ExternalID, u.Origin = to, schemas.OriginDirectory
				return []string{"externalId", "origin"}, nil
			})
			return err
		}
	}
	res, err := plan.Apply(ctx, env)
	result.Outcome = res
	fmt.Fprintln(human)
	for _, r := range res.Results {
		fmt.Fprintf(human, "  %s\n", review.OneLine(r))
	}
	if res.Guarded != "" {
		fmt.Fprintf(human, "Held back by the deletion guard: %s\n", res.Guarded)
	}
	fmt.Fprintf(human, "Applied %d, failed %d.\n", res.Applied, res.Failed)
	if file != nil {
		defer func() { _ = commitFile(file, *outPath) }()
	}
	defer emit()
	if errors.Is(err, review.ErrGuarded) {
		return 3
	}
	if err != nil {
		return fail(1, "%v", err)
	}
	if *doProvision {
		workers := engine
		if held != nil {
			workers = nil // the serve's workers do it: wait for them
		}
		if code := provisionUntilDrained(ctx, workers, st, human, stderr, cfg.Store.Path); code != 0 {
			return code
		}
		after, err := rv.Review(ctx)
		if err != nil {
			return fail(1, "reviewing again: %v", err)
		}
		d := review.Compare(rep, after)
		left := 0
		for _, f := range after.Findings {
			if slices.Contains(cats, f.Category) {
				left++
			}
		}
		resolved := len(d.Resolved)
		result.Resolved, result.Left = &resolved, &left
		fmt.Fprintf(human, "Reviewed again: %d findings resolved, %d new; %d left in the fixed categories.\n", len(d.Resolved), len(d.New), left)
	} else if res.Requeued > 0 && held != nil {
		fmt.Fprintln(human, "The running serve does the re-queued HubSpot work.")
	} else if res.Requeued > 0 {
		fmt.Fprintln(human, "The re-queued HubSpot work is done by `scimbridge serve` (or run again with --provision).")
	}
	if res.Failed > 0 {
		return 1
	}
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
