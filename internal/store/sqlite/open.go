package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlstore"
	"github.com/scimbridge/scimbridge/schemas"
)

// Config configures Open. The zero value of every field but Path is a
// usable default. Path sits in the store section of scimbridge's
// configuration file.
type Config struct {
	// Path is the database file, created when missing (its directory must
	// exist). It must name a file: the store opens it several times (one
	// writer, the readers), so ":memory:" and "file:" URIs are refused.
	Path string `yaml:"path"`
	// Now returns the current time; every transaction takes its timestamp
	// (meta.created / meta.lastModified, audit time) from it, truncated to
	// microseconds, the precision the database keeps. Default time.Now.
	Now func() time.Time `yaml:"-"`
	// ReadConns is the size of the read-only connection pool. Reads never
	// wait for the writer (WAL), so this bounds read concurrency. Default 4.
	ReadConns int `yaml:"-"`
	// BatchMax is the most Update calls committed together by one group
	// commit. Larger batches amortise the commit's fsync over more callers
	// but hold each caller for the whole batch. Default 128.
	BatchMax int `yaml:"-"`
}

// Defaults for the zero Config fields.
const (
	DefaultReadConns = 4
	DefaultBatchMax  = 128
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("sqlite: store is closed")

func (c *Config) normalize() error {
	if c.Path == "" {
		return errors.New("sqlite: Config.Path is empty")
	}
	if c.Path == ":memory:" || strings.HasPrefix(c.Path, "file:") {
		return fmt.Errorf("sqlite: Config.Path %q must be a file path (the writer and the readers open it separately)", c.Path)
	}
	if c.ReadConns < 0 {
		return fmt.Errorf("sqlite: Config.ReadConns %d is negative", c.ReadConns)
	}
	if c.BatchMax < 0 {
		return fmt.Errorf("sqlite: Config.BatchMax %d is negative", c.BatchMax)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.ReadConns == 0 {
		c.ReadConns = DefaultReadConns
	}
	if c.BatchMax == 0 {
		c.BatchMax = DefaultBatchMax
	}
	return nil
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	cfg Config

	users, groups *table

	// scanPage and scanBudget bound the pages of ScanUsers and ScanGroups
	// (see scan.go); tests shrink them to cross page boundaries.
	scanPage, scanBudget int

	// The writer: one connection, owned by the writer goroutine (writeLoop)
	// once Open returns.
	wdb   *sql.DB
	wconn *sql.Conn
	ws    *writeStmts

	// The readers: query_only connections, each with its statements; see
	// reader. done is closed by Close.
	rdb     *sql.DB
	readers chan *reader
	slots   int // readers (or nil slots) in circulation
	done    chan struct{}

	// gen counts commit boundaries: odd while a COMMIT is in flight, even
	// otherwise. Readers use it to tell whether cached page cursors and
	// totals still describe the data they see (see pageCache).
	gen   atomic.Uint64
	pages pageCache

	mu         sync.RWMutex // guards closed and sends on jobs
	closed     bool
	jobs       chan *job
	writerDone chan struct{}
	closeOnce  sync.Once
	closeErr   error
}

// Open opens (creating if needed) the database at cfg.Path, applies pending
// migrations and starts the writer. cat supplies the schemas filters and
// sort keys are resolved against.
func Open(ctx context.Context, cfg Config, cat *schemas.Catalog) (*Store, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if cat == nil || cat.Users == nil || cat.Groups == nil {
		return nil, errors.New("sqlite: Open needs a loaded schemas.Catalog")
	}
	if err := registerFuncs(); err != nil {
		return nil, err
	}
	ms, err := sqlstore.LoadMigrations(migrationFiles)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}

	s := &Store{
		cfg:        cfg,
		users:      &table{Name: "users", Alias: "u", RT: cat.Users, ResourceType: "User"},
		groups:     &table{Name: "groups", Alias: "g", RT: cat.Groups, ResourceType: "Group"},
		scanPage:   scanPage,
		scanBudget: scanMemberBudget,
		jobs:       make(chan *job, cfg.BatchMax),
		writerDone: make(chan struct{}),
		readers:    make(chan *reader, cfg.ReadConns),
		done:       make(chan struct{}),
	}
	ok := false
	defer func() {
		if !ok {
			s.closeHandles()
		}
	}()

	// The writer connection.
	if s.wdb, err = openDB(abs, writerDSN); err != nil {
		return nil, err
	}
	s.wdb.SetMaxOpenConns(1)
	s.wdb.SetMaxIdleConns(1)
	s.wdb.SetConnMaxLifetime(0)
	s.wdb.SetConnMaxIdleTime(0)
	if s.wconn, err = s.wdb.Conn(ctx); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	if err := migrate(ctx, s.wconn, ms, cfg.Now()); err != nil {
		return nil, fmt.Errorf("sqlite: %s: %w", abs, err)
	}
	if s.ws, err = prepareWriteStmts(ctx, s.wconn); err != nil {
		return nil, err
	}

	// The readers.
	if s.rdb, err = openDB(abs, readerDSN); err != nil {
		return nil, err
	}
	s.rdb.SetMaxOpenConns(cfg.ReadConns)
	s.rdb.SetMaxIdleConns(cfg.ReadConns)
	s.rdb.SetConnMaxLifetime(0)
	s.rdb.SetConnMaxIdleTime(0)
	for range cfg.ReadConns {
		r, err := s.openReader(ctx)
		if err != nil {
			return nil, err
		}
		s.readers <- r
		s.slots++
	}

	go s.writeLoop()
	ok = true
	return s, nil
}

// Connection settings (DSN parameters of modernc.org/sqlite). WAL lets
// readers run while the writer commits; foreign keys drive the ON DELETE
// CASCADE of emails and memberships; busy_timeout bounds the wait for a lock
// another process holds (a backup tool, the sqlite3 shell). No mmap: each
// connection would map the whole file and the process's resident memory
// would count it once per connection; the page caches are sized so that a
// 100,000-user database serves hot lookups from memory within a small,
// fixed footprint (the OS page cache holds the rest).
const (
	commonDSN = "_busy_timeout=10000&_pragma=temp_store(MEMORY)&_pragma=mmap_size(0)"
	// synchronous=FULL makes every COMMIT durable (fsync of the WAL) before
	// Update returns; group commit is what keeps that affordable.
	// journal_size_limit bounds the WAL file left after checkpoints.
	writerDSN = commonDSN + "&_journal_mode=WAL&_synchronous=FULL&_foreign_keys=1" +
		"&_pragma=journal_size_limit(67108864)&_pragma=cache_size(-16384)"
	// The readers see committed data only and cannot write, whatever SQL a
	// bug might send them.
	readerDSN = commonDSN + "&_pragma=cache_size(-8192)&_query_only=1"
)

func openDB(abs, params string) (*sql.DB, error) {
	// A file: URI with the path escaped, so that a path holding '?' or '#'
	// is not read as query parameters.
	dsn := "file:" + (&url.URL{Path: filepath.ToSlash(abs)}).EscapedPath() + "?" + params
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", abs, err)
	}
	return sql.OpenDB(c), nil
}

// Ping reports whether the database answers and the store is open.
func (s *Store) Ping(ctx context.Context) error {
	s.mu.RLock()
	closed := s.closed
	s.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	return s.get(ctx, func(r *reader) error {
		var one int
		if err := r.conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return fmt.Errorf("sqlite: ping: %w", err)
		}
		return nil
	})
}

// Close waits for queued Update calls to finish, stops the writer and
// closes the database. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		close(s.jobs)
		s.mu.Unlock()
		<-s.writerDone
		s.closeErr = s.closeHandles()
	})
	return s.closeErr
}

func (s *Store) closeHandles() error {
	var errs []error
	// Take back every reader, waiting for the reads in flight. A slot
	// whose reader broke holds nil.
	close(s.done)
	for range s.slots {
		if r := <-s.readers; r != nil {
			errs = append(errs, r.close())
		}
	}
	if s.ws != nil {
		errs = append(errs, s.ws.close())
	}
	if s.wconn != nil {
		errs = append(errs, s.wconn.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// now is the timestamp of a new transaction: UTC, at the microsecond
// precision the database keeps, so what Update hands back equals what a
// later read returns.
func (s *Store) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

var _ store.Store = (*Store)(nil)
