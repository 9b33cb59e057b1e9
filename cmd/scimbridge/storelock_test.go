package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/internal/store/sqlite"
)

// The owner lock admits one holder, names it to the others, and is free
// again once released; lockStore waits for it.
func TestStoreLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bridge.db")
	first, err := tryLockStore(path, "scimbridge serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = tryLockStore(path, "scimbridge sync")
	var held *errLockHeld
	if !errors.As(err, &held) || !strings.HasPrefix(held.holder, "scimbridge serve (pid ") {
		t.Fatalf("second holder: %v", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("message does not name the store: %v", err)
	}

	// A waiter gets it once the holder lets go, and not before.
	got := make(chan error, 1)
	go func() {
		l, err := lockStore(context.Background(), fileStore(path), "scimbridge serve", zerolog.Nop())
		if err == nil {
			l.Release() // before the send: the test takes the lock next
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("lockStore returned while the lock was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	first.Release()
	if err := <-got; err != nil {
		t.Fatalf("lockStore after the release: %v", err)
	}

	// A waiter gives up with its context.
	l, err := tryLockStore(path, "scimbridge sync")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := lockStore(ctx, fileStore(path), "scimbridge serve", zerolog.Nop()); !errors.As(err, &held) {
		t.Fatalf("lockStore with an ended context: %v", err)
	}
}

// A one-shot command refuses beside a serve but waits for another one-shot
// command; stillHeld tells a waiter whether the holder is still there.
func TestOwnStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bridge.db")
	srv, err := tryLockStore(path, serveHolder)
	if err != nil {
		t.Fatal(err)
	}
	var held *errLockHeld
	if _, err := ownStore(context.Background(), fileStore(path), "scimbridge sync", zerolog.Nop()); !errors.As(err, &held) || !held.byServe() {
		t.Fatalf("beside a serve: %v", err)
	}
	if !stillHeld(context.Background(), fileStore(path)) {
		t.Fatal("stillHeld = false while the serve holds the lock")
	}
	srv.Release()
	if stillHeld(context.Background(), fileStore(path)) {
		t.Fatal("stillHeld = true after the release")
	}

	sync, err := tryLockStore(path, "scimbridge sync")
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		l, err := ownStore(context.Background(), fileStore(path), "scimbridge review --apply", zerolog.Nop())
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("ownStore did not wait for the sync: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	sync.Release()
	if err := <-got; err != nil {
		t.Fatalf("ownStore after the sync: %v", err)
	}
}

// Two paths to one store (through a symbolic link to its folder) share
// one lock.
func TestStoreLockThroughSymlink(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(dir, link); err != nil {
		t.Fatal(err)
	}
	l, err := tryLockStore(filepath.Join(dir, "bridge.db"), serveHolder)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	var held *errLockHeld
	if _, err := tryLockStore(filepath.Join(link, "bridge.db"), "scimbridge sync"); !errors.As(err, &held) {
		t.Fatalf("through the link: %v", err)
	}
}

// serve waits for a one-shot command holding the store before it opens
// its port (so no client hangs on a bridge that does not answer), then
// serves.
func TestServeWaitsForTheStoreBeforeListening(t *testing.T) {
	dir := t.TempDir()
	probe, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.Addr().String()
	probe.Close()
	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(`server: {listen: "`+addr+`"}
store: {path: "`+filepath.Join(dir, "bridge.db")+`"}
auth: {tokens: [{name: probe, token: serve-waits-token-0123456789, scopes: [scim.read]}]}
log: {level: error}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	sync, err := tryLockStore(filepath.Join(dir, "bridge.db"), "scimbridge sync")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errOut lockedBuffer
	go func() { done <- run(ctx, []string{"serve", "--config", cfgPath}, &out, &errOut) }()
	defer func() {
		cancel()
		<-done
	}()
	time.Sleep(500 * time.Millisecond)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("serve opened its port while a sync held the store")
	}
	sync.Release()
	waitFor(t, "serve answering once the sync is done", func() error {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("healthz %d", resp.StatusCode)
		}
		return nil
	})
}

// fileStore is the configuration of a SQLite store at path.
func fileStore(path string) config.Store {
	return config.Store{Driver: "sqlite", Config: sqlite.Config{Path: path}}
}
