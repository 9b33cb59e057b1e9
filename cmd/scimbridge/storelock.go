package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
func lockStore(ctx context.Context, storePath, what string, log zerolog.Logger) (*storeLock, error) {
	return waitLock(ctx, storePath, what, log, func(*errLockHeld) bool { return false })
}

// serveHolder is how a serve names itself in the lock file.
const serveHolder = "scimbridge serve"

// ownStore takes the owner lock for a one-shot command (what). When a
// serve holds it, it returns that as *errLockHeld and no lock: the serve
// does the work. When another one-shot command holds it, it waits for it.
func ownStore(ctx context.Context, storePath, what string, log zerolog.Logger) (*storeLock, error) {
	return waitLock(ctx, storePath, what, log, (*errLockHeld).byServe)
}

// waitLock retries the owner lock every second until it is taken, the
// context ends, or giveUp says the holder is not worth waiting for.
func waitLock(ctx context.Context, storePath, what string, log zerolog.Logger, giveUp func(*errLockHeld) bool) (*storeLock, error) {
	said := false
	for {
		l, err := tryLockStore(storePath, what)
		held, ok := err.(*errLockHeld)
		if !ok || giveUp(held) {
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

func (e *errLockHeld) byServe() bool { return strings.HasPrefix(e.holder, serveHolder+" ") }

// stillHeld reports whether another process holds the store's lock (for
// one waiting on a serve's workers: false once the serve has stopped).
func stillHeld(storePath string) bool {
	l, err := tryLockStore(storePath, "probe")
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
	if l == nil || l.f == nil {
		return
	}
	_ = l.f.Truncate(0)
	_ = l.f.Close() // closing the descriptor releases the lock
	l.f = nil
}
