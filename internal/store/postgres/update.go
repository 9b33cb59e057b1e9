package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/scimbridge/scimbridge/internal/store"
)

// maxAttempts bounds how often Update runs a transaction that keeps losing
// serialization conflicts or deadlocks (Store.maxAttempts; tests lower it).
// A retry runs alone among writers (runTx), so two attempts are enough
// unless a transaction deadlocks with a reader's lock; the margin covers
// that.
const maxAttempts = 40

// Update runs fn in a SERIALIZABLE transaction and commits it; see
// store.Store. SERIALIZABLE gives fn what the SQLite driver's single
// writer gives it: its reads through tx stay true until it commits (a
// read-modify-write such as "read the group, add a member, replace it"
// cannot lose a concurrent writer's change). A transaction PostgreSQL
// aborts for a serialization conflict or as a deadlock victim is run
// again, fn included, after a short random pause. fn's error comes back unchanged; AfterCommit functions run after
// the commit, before Update returns. A panic in fn rolls back and
// propagates.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if fn == nil {
		return errors.New("postgres: Update with a nil fn")
	}
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		after, err := s.runTx(ctx, fn, attempt > 1)
		if err != nil {
			if attempt < s.maxAttempts && retryable(err) {
				pause(ctx, attempt)
				continue
			}
			return clientValueError(err)
		}
		for _, f := range after {
			f()
		}
		return nil
	}
}

// pause waits a little before a retry, longer after each attempt, jittered
// so that the transactions that collided do not collide again.
func pause(ctx context.Context, attempt int) {
	d := time.Duration(min(attempt, 20)) * time.Millisecond
	d = d/2 + rand.N(d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// writersLockKey is the advisory lock writers share (pg_locks: classid
// 0x5c1b, objid 0x0002).
const writersLockKey int64 = ownerClassID<<32 | 0x0002

// runTx runs fn in one SERIALIZABLE transaction. A first attempt holds the
// writers' lock shared, so writers run side by side; a retry, after a
// serialization failure, holds it exclusively and so runs alone among
// writers, where nothing can fail it again for a conflict (readers are
// read-only REPEATABLE READ snapshots and take no part in conflicts). Busy
// transactions that touch many rows (a group of hundreds of members, whose
// predicate locks PostgreSQL coarsens to whole relations) thus finish on
// their second attempt instead of colliding until the retries run out.
// The lock is the session's, taken before BEGIN: a SERIALIZABLE
// transaction takes its snapshot at its first statement, which must come
// after the writers it waited for have committed.
func (s *Store) runTx(ctx context.Context, fn func(store.Tx) error, alone bool) (_ []func(), err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("postgres: acquire: %w", err)
	}
	bg := context.WithoutCancel(ctx)
	lock, unlock := "SELECT pg_advisory_lock_shared($1)", "SELECT pg_advisory_unlock_shared($1)"
	if alone {
		lock, unlock = "SELECT pg_advisory_lock($1)", "SELECT pg_advisory_unlock($1)"
	}
	if _, err := conn.Exec(ctx, lock, writersLockKey); err != nil {
		conn.Release()
		return nil, fmt.Errorf("postgres: taking the writers' lock: %w", err)
	}
	defer func() {
		if _, uerr := conn.Exec(bg, unlock, writersLockKey); uerr != nil {
			// A connection that may still hold the lock is not reused:
			// closing it ends the session and its locks.
			_ = conn.Conn().Close(bg)
		}
		conn.Release()
	}()
	ptx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.Serializable})
	if err != nil {
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
	// The transaction ends even when ctx has: rollback and commit run
	// without its cancellation. Rollback after Commit does nothing.
	defer ptx.Rollback(bg)
	t := &tx{s: s, ctx: ctx, q: ptx, now: s.now()}
	err = fn(t)
	t.done = true
	if err != nil {
		return nil, err
	}
	if err := ptx.Commit(bg); err != nil {
		return nil, fmt.Errorf("postgres: commit: %w", err)
	}
	return t.after, nil
}

// querier is what reads and writes run on: the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// tx is the store.Tx handed to fn. It is only valid during fn.
type tx struct {
	s     *Store
	ctx   context.Context
	q     pgx.Tx
	now   time.Time
	after []func()
	done  bool
}

var errTxDone = errors.New("postgres: Tx used after its Update fn returned")

func (t *tx) Now() time.Time { return t.now }

func (t *tx) AfterCommit(f func()) {
	if f != nil && !t.done {
		t.after = append(t.after, f)
	}
}

func (t *tx) check() error {
	if t.done {
		return errTxDone
	}
	return nil
}
