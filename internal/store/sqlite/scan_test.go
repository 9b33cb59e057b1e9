package sqlite

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/schemas"
)

// The scan tests again with tiny scan pages and member budget, so that the
// scans cross many page boundaries (and end pages of groups early), and a
// single read connection, which a scan must not hold while fn runs (fn
// reads the store in the suite).
func TestScanSmallPages(t *testing.T) {
	storetest.RunScans(t, func(t *testing.T) store.Store {
		s := openTest(t, Config{ReadConns: 1})
		s.scanPage, s.scanBudget = 7, 10
		return s
	})
}

// The scan pages are ranges of a primary key, the runs listing reads the
// newest rows first without sorting, and State is a key lookup.
func TestScanUsesIndexes(t *testing.T) {
	s := openTest(t, Config{})
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		u := &schemas.User{UserName: "u"}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		if err := tx.CreateGroup(&schemas.Group{DisplayName: "g", Members: []schemas.Member{{Value: u.ID}}}); err != nil {
			return err
		}
		if err := tx.SaveRun(&store.Run{Kind: "full", Outcome: "ok"}); err != nil {
			return err
		}
		return tx.SetState("k", "v")
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		args []any
		scan string // the one table a SCAN may read (newest first, stopping at LIMIT)
	}{
		{qScanUsers, []any{0, 1000}, ""},
		{qScanGroups, []any{0, 1000, true}, ""},
		{qScanMembers, []any{0, 1000}, ""},
		{qRuns, []any{20}, "SCAN runs"},
		{qState, []any{"k"}, ""},
	} {
		plan := explain(t, s, tc.q, tc.args)
		text := strings.Join(plan, "\n  ")
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN ") && (tc.scan == "" || !strings.HasPrefix(line, tc.scan)) ||
				strings.Contains(line, "TEMP B-TREE") {
				t.Errorf("%s\nplan:\n  %s", tc.q, text)
				break
			}
		}
		if testing.Verbose() {
			t.Logf("%s\n  %s", tc.q, text)
		}
	}
}

// Migration 0004 adds runs and state to a database that has data: the
// test takes a database back to before 0004 and reopens it.
func TestMigrationRunsState(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	s, err := Open(ctx, Config{Path: path}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	u := &schemas.User{UserName: "old", Origin: schemas.OriginDirectory}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		for _, q := range []string{"DROP TABLE runs", "DROP TABLE state", "DELETE FROM schema_migrations WHERE version = 4"} {
			if _, err := s.wconn.ExecContext(wctx(), q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, Config{Path: path})
	r := &store.Run{Kind: "full", Outcome: "running"}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.SaveRun(r); err != nil {
			return err
		}
		return tx.SetState("hwm", "1")
	}); err != nil {
		t.Fatal(err)
	}
	if runs, err := s.Runs(ctx, 0); err != nil || len(runs) != 1 || runs[0].ID != r.ID {
		t.Errorf("Runs after migration: %+v %v", runs, err)
	}
	if v, err := s.State(ctx, "hwm"); err != nil || v != "1" {
		t.Errorf("State after migration: %q %v", v, err)
	}
	if got, err := s.GetUser(ctx, u.ID, true); err != nil || got.Origin != schemas.OriginDirectory {
		t.Errorf("user after migration: %+v %v", got, err)
	}
}
