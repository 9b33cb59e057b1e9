package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strings"
)

// reader is one query_only connection with its prepared statements. The
// store keeps ReadConns of them in a channel; a read takes one for its whole
// duration, so the statements of a list request share one read transaction
// (one snapshot) and run as statements prepared once on that connection —
// compiled filters included, cached by SQL text. Managing the connections
// here rather than through database/sql's pool is what allows that: a
// statement prepared on the pool would be re-prepared per connection and a
// transaction would pay the pool's bookkeeping on every statement.
type reader struct {
	conn            *sql.Conn
	st              *readStmts
	begin, rollback *sql.Stmt
	cache           map[string]*sql.Stmt
}

// maxCachedStmts bounds each reader's cache of compiled list queries.
// Filter values are bound parameters, so the SQL texts are as many as the
// filter shapes clients send: a handful per identity provider.
const maxCachedStmts = 256

func (s *Store) openReader(ctx context.Context) (*reader, error) {
	c, err := s.rdb.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	r := &reader{conn: c, cache: map[string]*sql.Stmt{}}
	if r.st, err = prepareReadStmts(ctx, c); err != nil {
		c.Close()
		return nil, err
	}
	// A deferred BEGIN takes its snapshot at the first SELECT.
	if r.begin, err = c.PrepareContext(ctx, "BEGIN"); err == nil {
		r.rollback, err = c.PrepareContext(ctx, "ROLLBACK")
	}
	if err != nil {
		r.close()
		return nil, fmt.Errorf("sqlite: open reader: %w", err)
	}
	return r, nil
}

func (r *reader) close() error {
	for _, st := range r.cache {
		st.Close()
	}
	if r.st != nil {
		r.st.close()
	}
	for _, st := range []*sql.Stmt{r.begin, r.rollback} {
		if st != nil {
			st.Close()
		}
	}
	return r.conn.Close()
}

// discard closes r for good: its connection is closed, not returned to
// database/sql's pool (driver.ErrBadConn from Raw tells the pool so).
func (r *reader) discard() {
	_ = r.conn.Raw(func(any) error { return driver.ErrBadConn })
	r.close()
}

// stmt returns the prepared statement for a compiled query.
func (r *reader) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st := r.cache[q]; st != nil {
		return st, nil
	}
	st, err := r.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(r.cache) >= maxCachedStmts {
		for k, old := range r.cache {
			old.Close()
			delete(r.cache, k)
		}
	}
	r.cache[q] = st
	return st, nil
}

// query runs a compiled query.
func (r *reader) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := r.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// acquire takes a reader from the pool, waiting for one to be free.
func (s *Store) acquire(ctx context.Context) (*reader, error) {
	select {
	case <-s.done:
		return nil, ErrClosed
	default:
	}
	var r *reader
	select {
	case r = <-s.readers:
	case <-s.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r == nil { // the slot of a reader that broke: reconnect
		var err error
		if r, err = s.openReader(ctx); err != nil {
			s.readers <- nil
			return nil, err
		}
	}
	return r, nil
}

// release returns r to the pool.
func (s *Store) release(r *reader) { s.readers <- r }

// read runs fn with a reader inside a read transaction, so that every
// statement of fn sees the same snapshot.
func (s *Store) read(ctx context.Context, fn func(r *reader) error) error {
	r, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	if _, err := r.begin.ExecContext(ctx); err != nil {
		s.release(r)
		return err
	}
	err = fn(r)
	// Not ctx: the transaction must end even when the request was canceled.
	if _, rerr := r.rollback.ExecContext(context.Background()); rerr != nil &&
		!strings.Contains(rerr.Error(), "no transaction is active") {
		// The connection is in an unknown state: replace it.
		r.discard()
		r = nil
	}
	s.release(r)
	return err
}

// get runs fn with a reader, for a single statement (its own snapshot).
func (s *Store) get(ctx context.Context, fn func(r *reader) error) error {
	r, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.release(r)
	return fn(r)
}
