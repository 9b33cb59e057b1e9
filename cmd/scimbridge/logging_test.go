package main

import (
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/config"
)

// On a terminal a one-shot command logs one readable line an event, even
// when log.format asks for JSON; elsewhere JSON lines, even when it asks for
// the console form.
func TestCommandLogger(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	var b strings.Builder
	log := commandLogger(config.Log{Level: "info", Format: "json"}, &b, true)
	log.Warn().Err(errors.New("dial tcp: connection refused\nretrying")).Str("component", "hubspot").
		Msg("HubSpot unreachable:\nchanges are stored")
	log.Debug().Msg("below the level")
	out := b.String()
	if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
		t.Fatalf("a warning on a terminal is not one line:\n%s", out)
	}
	if strings.HasPrefix(out, "{") || !strings.Contains(out, "WRN") || !strings.Contains(out, "HubSpot unreachable: changes are stored") ||
		!strings.Contains(out, "component=hubspot") || !strings.Contains(out, `connection refused\nretrying`) {
		t.Fatalf("console line: %q", out)
	}

	b.Reset()
	log = commandLogger(config.Log{Level: "info", Format: "console"}, &b, false)
	log.Warn().Err(errors.New("boom")).Msg("HubSpot unreachable")
	var line map[string]any
	if err := json.Unmarshal([]byte(b.String()), &line); err != nil || line["level"] != "warn" || line["error"] != "boom" {
		t.Fatalf("not a JSON log line: %q (%v)", b.String(), err)
	}
}

// logLine matches a log line, JSON or console.
var logLine = regexp.MustCompile(`"level":|^\d\d:\d\d:\d\d (TRC|DBG|INF|WRN|ERR|FTL|PNC) `)

// One-shot commands keep their logs on stderr: stdout holds the table, or
// with JSON output one JSON document and nothing else.
func TestOneShotStdoutHasNoLogs(t *testing.T) {
	sc := newReviewScenario(t)
	sc.cfg.Log.Level, sc.cfg.Log.Format = "debug", "console"
	// The full token: the scenario's provisioning succeeds.
	cfgPath := sc.writeConfig(t, reviewTokenFull)

	logged := 0
	check := func(wantJSON bool, want int, args ...string) {
		t.Helper()
		var stdout, stderr strings.Builder
		if code := run(t.Context(), args, &stdout, &stderr); code != want {
			t.Fatalf("scimbridge %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, stdout.String(), stderr.String())
		}
		for l := range strings.SplitSeq(stdout.String(), "\n") {
			if logLine.MatchString(l) {
				t.Fatalf("scimbridge %s: a log line on stdout: %s", strings.Join(args, " "), l)
			}
		}
		for l := range strings.SplitSeq(stderr.String(), "\n") {
			if !strings.HasPrefix(l, "{") {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal([]byte(l), &m); err != nil || m["level"] == nil {
				t.Fatalf("scimbridge %s: stderr line is no JSON log line: %s", strings.Join(args, " "), l)
			}
			logged++
		}
		if !wantJSON {
			return
		}
		dec := json.NewDecoder(strings.NewReader(stdout.String()))
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("scimbridge %s: stdout is not JSON: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
		if err := dec.Decode(&doc); err != io.EOF {
			t.Fatalf("scimbridge %s: more than one JSON document on stdout (%v):\n%s", strings.Join(args, " "), err, stdout.String())
		}
	}
	check(true, 0, "sync", "--config", cfgPath, "--dry-run", "--output", "json")
	check(false, 0, "sync", "--config", cfgPath, "--dry-run")
	check(true, 0, "sync", "--config", cfgPath, "--output", "json", "--provision")
	check(false, 0, "sync", "--config", cfgPath)
	check(true, 0, "review", "--config", cfgPath, "--format", "json")
	check(false, 0, "review", "--config", cfgPath)
	check(true, 0, "review", "--config", cfgPath, "--fix", "all", "--format", "json")
	if logged == 0 {
		t.Fatal("no command logged anything on stderr: the test proves nothing")
	}
}
