package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlstore"
	"github.com/scimbridge/scimbridge/schemas"
)

// Config configures the PostgreSQL store.
type Config struct {
	// DSN is the connection string, a postgres:// URL or key=value pairs
	// (libpq's forms, as pgx reads them), naming a database the user may
	// create tables in. The PG* environment variables fill what it leaves
	// out.
	DSN string `yaml:"dsn"`
	// Now is the clock of the transactions' timestamps; time.Now when nil.
	Now func() time.Time `yaml:"-"`
	// MaxConns bounds the pool (DefaultMaxConns when 0); a pool_max_conns
	// in DSN wins.
	MaxConns int `yaml:"-"`
}

// DefaultMaxConns is the pool size when Config.MaxConns is 0.
const DefaultMaxConns = 10

func (c *Config) normalize() error {
	if c.DSN == "" {
		return errors.New("postgres: Config.DSN is empty")
	}
	if c.MaxConns < 0 {
		return fmt.Errorf("postgres: Config.MaxConns %d is negative", c.MaxConns)
	}
	if c.MaxConns == 0 {
		c.MaxConns = DefaultMaxConns
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Store is the PostgreSQL store.
type Store struct {
	cfg           Config
	pool          *pgxpool.Pool
	users, groups *table
	// Scan page bounds (scan.go); tests make them small.
	scanPage, scanBudget int
	// maxAttempts bounds Update's attempts (update.go).
	maxAttempts int
}

// Open connects to the database and brings its schema up to date.
func Open(ctx context.Context, cfg Config, cat *schemas.Catalog) (*Store, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	if cat == nil || cat.Users == nil || cat.Groups == nil {
		return nil, errors.New("postgres: Open needs a loaded schemas.Catalog")
	}
	ms, err := sqlstore.LoadMigrations(migrationFiles)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	pc, err := pgxpool.ParseConfig(cfg.DSN)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, errors.New("postgres: Config.DSN cannot be parsed")
	}
	if !strings.Contains(cfg.DSN, "pool_max_conns") {
		pc.MaxConns = int32(cfg.MaxConns)
	}
	// Timestamps are timestamptz; text-to-time conversions in filters
	// (scim_time) read a dateTime without offset as UTC.
	pc.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if pc.ConnConfig.RuntimeParams["application_name"] == "" {
		pc.ConnConfig.RuntimeParams["application_name"] = "scimbridge"
	}
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := migrate(ctx, pool, ms, cfg.Now().UTC()); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &Store{
		cfg:         cfg,
		pool:        pool,
		users:       &table{Name: "users", Alias: "u", RT: cat.Users, ResourceType: "User"},
		groups:      &table{Name: "groups", Alias: "g", RT: cat.Groups, ResourceType: "Group"},
		scanPage:    scanPage,
		scanBudget:  scanMemberBudget,
		maxAttempts: maxAttempts,
	}, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

// Close closes the pool, waiting for connections in use to be returned.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// now is a transaction's timestamp, at the microsecond precision
// timestamptz keeps.
func (s *Store) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

var _ store.Store = (*Store)(nil)
