package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// A store's owner lock: an advisory lock on "<store path>.lock", held by
// `serve` for its whole life and by a one-shot command while it reconciles
// or provisions, so that two processes never run reconciles or HubSpot
// workers on one store at once. The file says who holds it.

// storeLock is a held owner lock.
type storeLock struct{ f *os.File }

// errLockHeld reports the holder of a store's owner lock.
type errLockHeld struct{ store, holder string }

func (e *errLockHeld) Error() string {
	h := e.holder
	if h == "" {
		h = "another process"
	}
	return fmt.Sprintf("the store %s is in use by %s", e.store, h)
}

func lockPath(storePath string) string { return storePath + ".lock" }

// tryLockStore takes the owner lock of the store at storePath for what
// (e.g. "scimbridge serve"), or returns an *errLockHeld naming the holder.
func tryLockStore(storePath, what string) (*storeLock, error) {
	f, err := os.OpenFile(lockPath(storePath), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the store's lock file: %w", err)
	}
	held, err := flockTry(f)
	if err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("locking %s: %w", lockPath(storePath), err)
	}
	if held {
		b, _ := os.ReadFile(lockPath(storePath))
		_ = f.Close()
		return nil, &errLockHeld{store: storePath, holder: strings.TrimSpace(string(b))}
	}
	// Who holds it, for the others' messages.
	_ = f.Truncate(0)
	_, _ = f.WriteAt(fmt.Appendf(nil, "%s (pid %d, since %s)\n", what, os.Getpid(), time.Now().UTC().Format(time.RFC3339)), 0)
	return &storeLock{f: f}, nil
}

// lockStore waits for the owner lock, saying once whom it waits for.
func lockStore(ctx context.Context, storePath, what string, log zerolog.Logger) (*storeLock, error) {
	said := false
	for {
		l, err := tryLockStore(storePath, what)
		held, isHeld := err.(*errLockHeld)
		if !isHeld {
			return l, err
		}
		if !said {
			log.Warn().Str("holder", held.holder).Str("store", storePath).Msg("waiting for the store: another scimbridge process is working on it")
			said = true
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(time.Second):
		}
	}
}

// Release gives the lock up; the file stays (removing it would race with
// a process that has just opened it).
func (l *storeLock) Release() {
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // closing the descriptor releases the lock
	l.f = nil
}
