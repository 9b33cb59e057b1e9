package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/store/postgres"
)

// A store's owner lock: an advisory lock on "<store path>.lock", held by
// `serve` for its whole life and by a one-shot command while it reconciles
// or provisions, so that two processes never run reconciles or HubSpot
// workers on one store at once. The file says who holds it.

// With the postgres driver the lock is PostgreSQL's (postgres.TryOwnerLock):
// an advisory lock of the database, whose holder names itself in
// application_name.

// storeLock is a held owner lock: a lock file's, or a PostgreSQL
// database's.
type storeLock struct {
	f  *os.File
	pg *postgres.OwnerLock
}

// storeName is how messages name a store: its file, or its connection
// string without the password.
func storeName(sc config.Store) string {
	if sc.Driver == "postgres" {
		return postgres.Redact(sc.Postgres.DSN)
	}
	return sc.Path
}

// tryOwnStore takes the owner lock of the store sc for what, or returns an
// *errLockHeld naming the holder.
func tryOwnStore(ctx context.Context, sc config.Store, what string) (*storeLock, error) {
	if sc.Driver != "postgres" {
		return tryLockStore(sc.Path, what)
	}
	l, err := postgres.TryOwnerLock(ctx, sc.Postgres.DSN, what)
	var held *postgres.HeldError
	if errors.As(err, &held) {
		return nil, &errLockHeld{store: storeName(sc), holder: held.Holder}
	}
	if err != nil {
		return nil, err
	}
	return &storeLock{pg: l}, nil
}

// Lost is closed when a held lock may have passed to another process (the
// database session holding it ended); nil (never) for a lock file.
func (l *storeLock) Lost() <-chan struct{} {
	if l == nil || l.pg == nil {
		return nil
	}
	return l.pg.Lost()
}

// errLockHeld reports the holder of a store's owner lock.
type errLockHeld struct{ store, holder string }

func (e *errLockHeld) Error() string {
	h := e.holder
	if h == "" {
		h = "another process"
	}
	return fmt.Sprintf("the store %s is in use by %s", e.store, h)
}

// lockPath is beside the store's real file, so two paths to one store
// (relative, absolute, through a symbolic link) share one lock.
func lockPath(storePath string) string {
	p, err := filepath.Abs(storePath)
	if err != nil {
		return storePath + ".lock"
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	} else if dir, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		p = filepath.Join(dir, filepath.Base(p)) // the store is not created yet
	}
	return p + ".lock"
}

// tryLockStore takes the owner lock of the store at storePath for what
// (e.g. "scimbridge serve"), or returns an *errLockHeld naming the holder.
func tryLockStore(storePath, what string) (*storeLock, error) {
	path := lockPath(storePath)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the store's lock file: %w", err)
	}
	held, err := flockTry(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	if held {
		b, _ := os.ReadFile(path)
		_ = f.Close()
		return nil, &errLockHeld{store: storePath, holder: strings.TrimSpace(string(b))}
	}
	// Who holds it, for the others' messages.
	_ = f.Truncate(0)
	_, _ = f.WriteAt(fmt.Appendf(nil, "%s (pid %d, since %s)\n", what, os.Getpid(), time.Now().UTC().Format(time.RFC3339)), 0)
	return &storeLock{f: f}, nil
}

// lockStore waits for the owner lock, saying once whom it waits for.
func lockStore(ctx context.Context, sc config.Store, what string, log zerolog.Logger) (*storeLock, error) {
	return waitLock(ctx, sc, what, log, func(*errLockHeld) bool { return false })
}

// serveHolder is how a serve names itself in the lock file.
const serveHolder = "scimbridge serve"

// ownStore takes the owner lock for a one-shot command (what). When a
// serve holds it, it returns that as *errLockHeld and no lock: the serve
// does the work. When another one-shot command holds it, it waits for it.
func ownStore(ctx context.Context, sc config.Store, what string, log zerolog.Logger) (*storeLock, error) {
	return waitLock(ctx, sc, what, log, (*errLockHeld).byServe)
}

// waitLock retries the owner lock every second until it is taken, the
// context ends, or giveUp says the holder is not worth waiting for.
func waitLock(ctx context.Context, sc config.Store, what string, log zerolog.Logger, giveUp func(*errLockHeld) bool) (*storeLock, error) {
	said := false
	for {
		l, err := tryOwnStore(ctx, sc, what)
		held, ok := err.(*errLockHeld)
		if !ok || giveUp(held) {
			return l, err
		}
		if !said {
			log.Warn().Str("holder", held.holder).Str("store", storeName(sc)).Msg("waiting for the store: another scimbridge process is working on it")
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Second):
		}
	}
}

func (e *errLockHeld) byServe() bool { return strings.HasPrefix(e.holder, serveHolder+" ") }

// stillHeld reports whether another process holds the store's lock (for
// one waiting on a serve's workers: false once the serve has stopped).
func stillHeld(ctx context.Context, sc config.Store) bool {
	l, err := tryOwnStore(ctx, sc, "probe")
	if err == nil {
		l.Release()
		return false
	}
	_, held := err.(*errLockHeld)
	return held
}

// Release gives the lock up; the file stays (removing it would race with
// a process that has just opened it).
func (l *storeLock) Release() {
	if l != nil && l.pg != nil {
		l.pg.Release()
		l.pg = nil
	}
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // closing the descriptor releases the lock
	l.f = nil
}
