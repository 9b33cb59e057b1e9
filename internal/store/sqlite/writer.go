package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// Writes go through one goroutine that owns the writer connection. Update
// enqueues a job and waits; the writer takes every job waiting (up to
// BatchMax), runs them in one transaction, each inside its own savepoint
// when there are several, and commits once. The commit's fsync (the
// dominant cost of a durable write) is thus shared by every caller of the
// batch, while each caller still sees only its own outcome: a job whose fn
// fails is rolled back to its savepoint and the others go on.

type job struct {
	ctx  context.Context
	fn   func(store.Tx) error
	done chan jobResult // buffered: the writer never blocks on a caller
}

type jobResult struct {
	err   error
	after []func()
	panic *panicError
}

// panicError carries a panic of fn from the writer goroutine back to the
// caller of Update, which re-panics with it.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string {
	return fmt.Sprintf("panic in Update fn: %v\n\nwriter goroutine stack:\n%s", p.value, p.stack)
}

// Update runs fn in a write transaction; see store.Store. It returns fn's
// error unchanged, ctx's error when ctx ends before the job runs, or the
// error of a commit that failed. AfterCommit functions run on the calling
// goroutine, after the commit, before Update returns. A panic in fn is
// re-raised here.
func (s *Store) Update(ctx context.Context, fn func(store.Tx) error) error {
	if fn == nil {
		return errors.New("sqlite: Update with a nil fn")
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &job{ctx: ctx, fn: fn, done: make(chan jobResult, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	select {
	case s.jobs <- j:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued, wait for the outcome even if ctx ends meanwhile: the
	// job may already be committed, and reporting ctx.Err() for a write that
	// happened would be a lie. The wait is bounded by one batch.
	r := <-j.done
	if r.panic != nil {
		panic(r.panic)
	}
	if r.err != nil {
		return r.err
	}
	for _, f := range r.after {
		f()
	}
	return nil
}

// writeLoop is the writer goroutine. It exits when Close has closed jobs
// and every queued job has run.
func (s *Store) writeLoop() {
	defer close(s.writerDone)
	batch := make([]*job, 0, s.cfg.BatchMax)
	var lastCommit time.Time
	for j := range s.jobs {
		batch = append(batch[:0], j)
	fill:
		for len(batch) < s.cfg.BatchMax {
			select {
			case j, ok := <-s.jobs:
				if !ok {
					break fill
				}
				batch = append(batch, j)
			default:
				break fill
			}
		}
		if len(batch) < s.cfg.BatchMax && time.Since(lastCommit) < busyWindow {
			batch = s.gather(batch)
		}
		s.runBatch(batch)
		lastCommit = time.Now()
		clear(batch)
	}
}

// busyWindow and gatherWait tune group commit under load. A commit costs a
// WAL write and an fsync whatever the batch size, and on a busy server the
// callers of the next batch are still parsing their requests when the
// writer finishes a commit: taking only the jobs already queued then makes
// batches of one or two. So when the previous commit ended less than
// busyWindow ago, the writer keeps collecting jobs while they keep coming
// (each within gatherIdle of the last), for at most gatherWait. An idle
// server commits at once; a lone client writing sequentially pays at most
// gatherIdle per write.
const (
	busyWindow = 5 * time.Millisecond
	gatherWait = time.Millisecond
	gatherIdle = 200 * time.Microsecond
)

// gather adds jobs arriving in quick succession to batch.
func (s *Store) gather(batch []*job) []*job {
	deadline := time.Now().Add(gatherWait)
	idle := time.NewTimer(gatherIdle)
	defer idle.Stop()
	for len(batch) < s.cfg.BatchMax {
		select {
		case j, ok := <-s.jobs:
			if !ok {
				return batch
			}
			batch = append(batch, j)
			left := time.Until(deadline)
			if left <= 0 {
				return batch
			}
			idle.Reset(min(gatherIdle, left))
		case <-idle.C:
			return batch
		}
	}
	return batch
}

// wctx() is the context of every statement on the writer connection. It is
// never a caller's: modernc.org/sqlite interrupts a statement whose context
// ends, and SQLite rolls back the whole transaction when an INSERT, UPDATE or
// DELETE inside it is interrupted — one impatient caller would undo the
// batch. Callers' contexts are honoured before their job starts instead.
func wctx() context.Context { return context.Background() }

// exec runs one of the writer's transaction-control statements.
func exec(st *sql.Stmt) error {
	_, err := st.ExecContext(wctx())
	return err
}

func (s *Store) runBatch(batch []*job) {
	for len(batch) > 0 {
		batch = s.runTx(batch)
	}
}

// runTx runs jobs in one transaction and delivers their results. When the
// transaction breaks (a savepoint cannot be released or rolled back, which
// means SQLite aborted the transaction), the jobs that had run fail and the
// ones that had not are returned, to run in a fresh transaction.
func (s *Store) runTx(batch []*job) (rest []*job) {
	res := make([]jobResult, len(batch))
	deliver := func(n int) {
		for i := range n {
			batch[i].done <- res[i]
		}
	}
	if err := s.begin(); err != nil {
		for i := range res {
			res[i].err = fmt.Errorf("sqlite: begin: %w", err)
		}
		deliver(len(batch))
		return nil
	}
	// A job runs inside a savepoint so that its failure undoes its work
	// alone. A batch of one needs none: its failure is undone by rolling
	// back the whole transaction, which is what happens below when no job
	// succeeded. That saves two statements per write when the server is
	// not busy enough to batch.
	savepoints := len(batch) > 1
	committed := 0 // jobs whose fn succeeded
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			res[i].err = err
			continue
		}
		if savepoints {
			if err := exec(s.ws.savepoint); err != nil {
				return s.abort(batch, res, i+1, err)
			}
		}
		t := &tx{s: s, st: s.ws, now: s.now()}
		err := t.run(j.fn)
		t.done = true
		if err != nil {
			res[i].err = err
			if pe, ok := err.(*panicError); ok {
				res[i].panic = pe
			}
			if !savepoints {
				continue
			}
			if e := exec(s.ws.rollbackTo); e != nil {
				return s.abort(batch, res, i+1, e)
			}
			if e := exec(s.ws.release); e != nil {
				return s.abort(batch, res, i+1, e)
			}
			continue
		}
		if savepoints {
			if e := exec(s.ws.release); e != nil {
				return s.abort(batch, res, i+1, e)
			}
		}
		res[i].after = t.after
		committed++
	}
	if committed == 0 {
		// Nothing to make durable: skip the fsync.
		_ = exec(s.ws.rollback)
		deliver(len(batch))
		return nil
	}
	s.gen.Add(1) // odd: a commit is in flight
	err := exec(s.ws.commit)
	if err != nil {
		_ = exec(s.ws.rollback) // SQLite may already have rolled back
		for i := range res {
			if res[i].err == nil { // fn succeeded; its work is lost
				res[i] = jobResult{err: fmt.Errorf("sqlite: commit: %w", err)}
			}
		}
	}
	s.gen.Add(1)
	deliver(len(batch))
	return nil
}

// abort ends a broken transaction: the jobs before next that had not failed
// on their own lose their work with it and fail with err; the jobs from next
// on have not run and are returned to run in a new transaction.
func (s *Store) abort(batch []*job, res []jobResult, next int, err error) []*job {
	_ = exec(s.ws.rollback)
	err = fmt.Errorf("sqlite: transaction aborted: %w", err)
	for i := range next {
		if res[i].err == nil {
			res[i] = jobResult{err: err}
		}
		batch[i].done <- res[i]
	}
	return batch[next:]
}

// begin starts the batch's transaction. Should an earlier failure have left
// the connection inside a transaction (a ROLLBACK that failed), it is rolled
// back and BEGIN tried once more, so one bad moment does not fail every
// later write.
func (s *Store) begin() error {
	err := exec(s.ws.begin)
	if err == nil {
		return nil
	}
	if exec(s.ws.rollback) != nil {
		return err
	}
	return exec(s.ws.begin)
}

// tx is the store.Tx handed to one job's fn. It is only valid during fn.
type tx struct {
	s     *Store
	st    *writeStmts
	now   time.Time
	after []func()
	done  bool
}

var errTxDone = errors.New("sqlite: Tx used after its Update fn returned")

// run calls fn, turning a panic into a *panicError so the writer survives
// and the savepoint is rolled back.
func (t *tx) run(fn func(store.Tx) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &panicError{value: v, stack: debug.Stack()}
		}
	}()
	return fn(t)
}

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
