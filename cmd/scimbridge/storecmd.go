package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

const storeUsage = "usage: scimbridge store check-names --config FILE [--output table|json]\n"

// cmdStore dispatches the store subcommands.
func cmdStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check-names" {
		return cmdStoreCheckNames(ctx, args[1:], stdout, stderr)
	}
	fmt.Fprint(stderr, storeUsage)
	return 2
}

// cmdStoreCheckNames lists the users stored before the RFC 8265 name rules
// whose userName now collides with another user's, or whose userName or
// emails are refused (see store.NameProblem). It changes no user, and needs no lock: a
// running serve may share the store. Exit 0 when there are none, 1 when
// there are (or the store cannot be read), 2 for usage and configuration
// errors.
func cmdStoreCheckNames(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fail := commandFail(stderr, "store check-names")
	cfg, output, code := reportArgs("store check-names", args, stderr)
	if cfg == nil {
		return code
	}
	cat, err := schemas.Load()
	if err != nil {
		return fail(1, "%v", err)
	}
	// Opening applies pending migrations; they change no user (0007 adds
	// the comparison keys this command reports on).
	st, err := openStore(ctx, cfg.Store, 1, cat)
	if err != nil {
		return fail(1, "opening the store: %v", err)
	}
	defer st.Close()
	problems, err := st.CheckNames(ctx)
	if err != nil {
		return fail(1, "%v", err)
	}
	if output == "json" {
		if problems == nil {
			problems = []store.NameProblem{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Problems []store.NameProblem `json:"problems"`
		}{problems}); err != nil {
			return fail(1, "writing the report: %v", err)
		}
	} else if err := writeNameProblems(stdout, problems); err != nil {
		return fail(1, "writing the report: %v", err)
	}
	if len(problems) > 0 {
		return 1
	}
	return 0
}

// writeNameProblems prints the report as a table. Values are quoted so
// that invisible and bidirectional characters show as escapes.
func writeNameProblems(w io.Writer, problems []store.NameProblem) error {
	if len(problems) == 0 {
		_, err := fmt.Fprintln(w, "No userName collides; no userName or email is refused.")
		return err
	}
	users := map[string]bool{}
	for _, p := range problems {
		users[p.UserID] = true
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "USER ID\tUSERNAME\tATTRIBUTE\tVALUE\tPROBLEM\tDETAIL")
	for _, p := range problems {
		detail := p.Detail
		if len(p.With) > 0 {
			detail = "with " + strings.Join(p.With, ", ") + ": " + detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.UserID, strconv.QuoteToGraphic(p.UserName), p.Attribute,
			strconv.QuoteToGraphic(p.Value), p.Kind, detail)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%d problem(s) on %d user(s). These users were stored before userNames were compared "+
		"and checked under RFC 8265; they are left as they are. Rename or remove them: until then a write that keeps "+
		"their names is accepted, a new collision or refused value is not.\n", len(problems), len(users))
	return err
}

// namesCheckedKey is the state key saying the stored names were checked
// and found clean under the rules named by its value; every write since
// is checked by those rules, so the store stays clean and start-up need
// not read every user again (at 1,000,000 users the check costs seconds
// and a few hundred MB). New rules name a new value.
const (
	namesCheckedKey   = "names.checked"
	namesCheckedRules = "rfc8265-usernamecasepreserved"
)

// warnNameProblems logs, at start-up, how many stored users have names
// that now collide or are refused, so that an administrator runs
// `scimbridge store check-names`; a store found clean is marked so, and
// not checked again. A failure to check is logged, not fatal.
func warnNameProblems(ctx context.Context, st bridgeStore, log zerolog.Logger) {
	if v, err := st.State(ctx, namesCheckedKey); err == nil && v == namesCheckedRules {
		return
	}
	problems, err := st.CheckNames(ctx)
	if err != nil {
		log.Warn().Err(err).Msg("checking stored user names")
		return
	}
	if len(problems) == 0 {
		if err := st.Update(ctx, func(tx store.Tx) error { return tx.SetState(namesCheckedKey, namesCheckedRules) }); err != nil && ctx.Err() == nil {
			log.Warn().Err(err).Msg("recording that the stored user names are clean")
		}
		return
	}
	users := map[string]bool{}
	for _, p := range problems {
		users[p.UserID] = true
	}
	log.Warn().Int("users", len(users)).Int("problems", len(problems)).
		Msg("stored users have userNames that collide under RFC 8265 comparison, or userNames or emails holding " +
			"refused characters; they were stored before these rules and are kept as they are; list them with " +
			"`scimbridge store check-names`")
}
