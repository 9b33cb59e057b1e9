package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// `store check-names` lists the users stored before the RFC 8265 rules
// whose names now collide or are refused, changes nothing, and serve warns
// about them at start-up.
func TestStoreCheckNames(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bridge.db")
	cfgPath := filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf("server:\n  listen: 127.0.0.1:0\nstore:\n  path: %s\nauth:\n  tokens:\n    - name: test\n"+
		"      token: serve-token-for-tests-0123\n      scopes: [scim.read, scim.write, admin]\nlog:\n  format: json\n", dbPath)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	checkNames := func(args ...string) (int, string, string) {
		var stdout, stderr strings.Builder
		code := run(ctx, append([]string{"store", "check-names", "--config", cfgPath}, args...), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}

	// A fresh store: nothing to report.
	if code, out, errOut := checkNames(); code != 0 || !strings.Contains(out, "No userName collides") {
		t.Fatalf("empty store: exit %d\n%s%s", code, out, errOut)
	}

	// Ada through the store; then rows as a build before the rules could
	// have written them: a fullwidth twin and a name with a zero width
	// space.
	st, err := sqlite.Open(ctx, sqlite.Config{Path: dbPath}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	ada := &schemas.User{UserName: "ada@example.com"}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(ada) }); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, name := range []string{"ａｄａ@example.com", "z\u200bw@example.com"} {
		if _, err := db.Exec(`INSERT INTO users (id, user_name, user_name_key, user_name_cmp, doc, created,
			modified, version) VALUES (?1, ?2, ?3, ?4, '{}', ?5, ?5, 1)`,
			fmt.Sprint("legacy-", i), name, schemas.Fold(name), schemas.UsernameFold(name), time.Now().UnixMicro()); err != nil {
			t.Fatal(err)
		}
	}
	snapshot := func() string {
		t.Helper()
		var s string
		if err := db.QueryRow(`SELECT group_concat(id || '|' || user_name || '|' || version || '|' || modified, ',')
			FROM (SELECT * FROM users ORDER BY seq)`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()

	code, out, errOut := checkNames()
	if code != 1 {
		t.Fatalf("exit %d, want 1 (problems found)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{ada.ID, "legacy-0", "legacy-1", "collides", "refused", `"z\u200bw@example.com"`,
		"U+200B", "problem(s) on 3 user(s)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = checkNames("--output", "json")
	var rep struct{ Problems []store.NameProblem }
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("json report: exit %d, %v\n%s", code, err, out)
	}
	kinds := map[string]int{}
	for _, p := range rep.Problems {
		kinds[p.Attribute+" "+p.Kind]++
	}
	// ada and its twin collide; the zero width space is refused.
	if want := map[string]int{"userName collides": 2, "userName refused": 1}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("problems %v, want %v: %+v", kinds, want, rep.Problems)
	}
	if after := snapshot(); after != before {
		t.Fatalf("check-names changed users:\n%s\n%s", before, after)
	}
	if code, _, errOut := checkNames("--output", "xml"); code != 2 || !strings.Contains(errOut, "table or json") {
		t.Errorf("bad --output: exit %d %s", code, errOut)
	}

	// serve starts, and warns with the count.
	runCtx, cancel := context.WithCancel(ctx)
	stderr := &lockedBuffer{}
	exited := make(chan int, 1)
	go func() { exited <- run(runCtx, []string{"serve", "--config", cfgPath}, &strings.Builder{}, stderr) }()
	defer func() {
		cancel()
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "scimbridge serving") {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var warned bool
	for _, line := range strings.Split(stderr.String(), "\n") {
		var l struct {
			Level, Message  string
			Users, Problems int
		}
		if json.Unmarshal([]byte(line), &l) == nil && strings.Contains(l.Message, "store check-names") {
			warned = l.Level == "warn" && l.Users == 3 && l.Problems == 3
		}
	}
	if !warned {
		t.Errorf("no start-up warning with the count:\n%s", stderr)
	}
	var marked string
	if err := db.QueryRow(`SELECT coalesce((SELECT value FROM state WHERE key = ?1), '')`, namesCheckedKey).Scan(&marked); err != nil || marked != "" {
		t.Errorf("a store with name problems was marked clean: %q, %v", marked, err)
	}
	if after := snapshot(); after != before {
		t.Fatalf("serve changed users at start-up:\n%s\n%s", before, after)
	}
}

// A store whose names were found clean is marked so and not read again at
// the next start-up; one with problems is not marked, and warns each time.
func TestNameCheckMarksCleanStore(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, sqlite.Config{Path: filepath.Join(t.TempDir(), "bridge.db")}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(&schemas.User{UserName: "ada@example.com"}) }); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	warnNameProblems(ctx, st, zerolog.New(&log))
	if v, err := st.State(ctx, namesCheckedKey); err != nil || v != namesCheckedRules {
		t.Fatalf("after a clean check: state %q, %v", v, err)
	}
	if log.Len() != 0 {
		t.Errorf("a clean store logged: %s", log.String())
	}
	// Marked for other rules: checked again.
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.SetState(namesCheckedKey, "older-rules") }); err != nil {
		t.Fatal(err)
	}
	warnNameProblems(ctx, st, zerolog.New(&log))
	if v, _ := st.State(ctx, namesCheckedKey); v != namesCheckedRules {
		t.Errorf("a store marked for other rules was not checked again: %q", v)
	}
}
