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

// Scans cross many page boundaries when the pages are tiny.
func TestScanSmallPages(t *testing.T) {
	storetest.RunScans(t, func(t *testing.T) store.Store {
		s := openTest(t, Config{})
		s.scanPage, s.scanBudget = 7, 10
		return s
	})
}
