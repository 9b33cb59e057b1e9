package main

import (
	"context"

	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
	"github.com/scimbridge/scimbridge/schemas"
)

// bridgeStore is what the commands need of a store driver.
type bridgeStore interface {
	store.Store
	store.NameChecker
}

var (
	_ bridgeStore = (*sqlite.Store)(nil)
	_ bridgeStore = (*postgres.Store)(nil)
)

// openStore opens the configured store. readConns bounds the SQLite
// store's read connections (0: its default); a one-shot command needs few.
func openStore(ctx context.Context, sc config.Store, readConns int, cat *schemas.Catalog) (bridgeStore, error) {
	if sc.Driver == "postgres" {
		pc := sc.Postgres
		if readConns > 0 {
			pc.MaxConns = readConns + 1
		}
		return postgres.Open(ctx, pc, cat)
	}
	c := sc.Config
	if readConns > 0 {
		c.ReadConns = readConns
	}
	return sqlite.Open(ctx, c, cat)
}
