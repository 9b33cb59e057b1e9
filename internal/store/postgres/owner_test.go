package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestOwnerLock(t *testing.T) {
	ctx := context.Background()
	dsn := pg.Database(t)
	a, err := TryOwnerLock(ctx, dsn, "scimbridge serve")
	if err != nil {
		t.Fatal(err)
	}
	_, err = TryOwnerLock(ctx, dsn, "scimbridge sync")
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("second lock: %v, want a HeldError", err)
	}
	if !strings.HasPrefix(held.Holder, "scimbridge serve (pid ") {
		t.Errorf("holder = %q, want the serve's application_name", held.Holder)
	}
	if !strings.Contains(err.Error(), "in use by scimbridge serve") {
		t.Errorf("error = %q", err)
	}
	// Another database's lock is separate.
	other, err := TryOwnerLock(ctx, pg.Database(t), "scimbridge serve")
	if err != nil {
		t.Fatalf("a second database: %v", err)
	}
	other.Release()
	a.Release()
	a.Release() // twice is harmless
	b, err := TryOwnerLock(ctx, dsn, "scimbridge sync")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	defer b.Release()
	select {
	case <-b.Lost():
		t.Fatal("a healthy lock reported lost")
	default:
	}
}

// A holder whose session ends (a crash, a killed backend) loses the lock
// to the next process at once, and learns it has lost it.
func TestOwnerLockTakenOverWhenHolderDies(t *testing.T) {
	ctx := context.Background()
	dsn := pg.Database(t)
	a, err := TryOwnerLock(ctx, dsn, "scimbridge serve")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	pid := a.conn.PgConn().PID()
	if err := pg.Server(t).Exec(ctx, "postgres", "SELECT pg_terminate_backend("+strconv.Itoa(int(pid))+")"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var b *OwnerLock
	for b == nil {
		b, err = TryOwnerLock(ctx, dsn, "scimbridge serve")
		if err != nil && time.Now().After(deadline) {
			t.Fatalf("the lock of a dead session was not released: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer b.Release()
	select {
	case <-a.Lost():
	case <-time.After(3 * ownerCheckEvery):
		t.Fatal("the holder whose session ended was not told it lost the lock")
	}
}

// Each database has its own owner lock, and the holder named is the one of
// the database asked about, whichever was taken first on the server.
func TestOwnerLockHolderOfItsDatabase(t *testing.T) {
	ctx := context.Background()
	other, err := TryOwnerLock(ctx, pg.Database(t), "scimbridge serve")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	dsn := pg.Database(t)
	sync, err := TryOwnerLock(ctx, dsn, "scimbridge sync")
	if err != nil {
		t.Fatalf("a second database's lock: %v", err)
	}
	defer sync.Release()
	_, err = TryOwnerLock(ctx, dsn, "scimbridge review --apply")
	var held *HeldError
	if !errors.As(err, &held) || !strings.HasPrefix(held.Holder, "scimbridge sync (pid ") {
		t.Fatalf("holder = %v, want the sync holding this database", err)
	}
}
