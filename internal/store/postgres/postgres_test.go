package postgres

import (
	"context"
	"os"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres/pgtest"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/schemas"
)

// pg is this test binary's PostgreSQL server; its template database is
// migrated once, so every test's database starts with the schema.
var pg = pgtest.Harness{Prepare: func(ctx context.Context, dsn string) error {
	s, err := Open(ctx, Config{DSN: dsn, MaxConns: 1}, schemas.MustLoad())
	if err != nil {
		return err
	}
	return s.Close()
}}

func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }

// openTest opens the store on a fresh database.
func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	cfg.DSN = pg.Database(t)
	s, err := Open(context.Background(), cfg, schemas.MustLoad())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() }) // registered after the database's drop: runs first
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Config{}) })
}

func TestPaging(t *testing.T) {
	storetest.RunPaging(t, func(t *testing.T) store.Store { return openTest(t, Config{}) })
}

// Scans cross many page boundaries when the pages are tiny.
func TestScanSmallPages(t *testing.T) {
	storetest.RunScans(t, func(t *testing.T) store.Store {
		s := openTest(t, Config{})
		s.scanPage, s.scanBudget = 7, 10
		return s
	})
}

// A NUL character, which PostgreSQL cannot keep, is refused as invalid
// input; the text "\u0000" is kept as it is.
func TestRefusesNUL(t *testing.T) {
	s := openTest(t, Config{})
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		u    *schemas.User
		code string
	}{
		{"nul", &schemas.User{UserName: "nul@example.com", DisplayName: "Ada\x00Lovelace"}, store.EINVALID},
		{"nul in a title", &schemas.User{UserName: "nul2@example.com", Title: "x\x00"}, store.EINVALID},
		{"escaped text", &schemas.User{UserName: "text@example.com", DisplayName: `Ada \u0000 \\u0000`}, ""},
	} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(tc.u) })
		if got := store.ErrorCode(err); got != tc.code {
			t.Errorf("%s: err = %v (code %q), want code %q", tc.name, err, got, tc.code)
		}
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateGroup(&schemas.Group{DisplayName: "Sales", ExternalID: "a\x00b"})
	})
	if store.ErrorCode(err) != store.EINVALID {
		t.Errorf("group: %v", err)
	}
	err = s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateGroup(&schemas.Group{DisplayName: "Support", Members: []schemas.Member{{Value: "a\x00b"}}})
	})
	if store.ErrorCode(err) != store.EINVALID {
		t.Errorf("member: %v", err)
	}
	// Reads with a NUL in a client's value: invalid input, not a failure.
	if _, err := s.GetUser(ctx, "a\x00b", false); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("GetUser: %v", err)
	}
	if _, err := s.GetGroup(ctx, "a\x00b", false); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("GetGroup: %v", err)
	}
	if _, err := s.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("userName", "a\x00b"), StartIndex: 1, Count: 1}); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("QueryUsers: %v", err)
	}
	got, err := s.QueryUsers(ctx, schemas.Query{Filter: schemas.Eq("userName", "text@example.com"), StartIndex: 1, Count: 1})
	if err != nil || len(got.Users) != 1 || got.Users[0].DisplayName != `Ada \u0000 \\u0000` {
		t.Fatalf("stored text: %+v, %v", got, err)
	}
}
