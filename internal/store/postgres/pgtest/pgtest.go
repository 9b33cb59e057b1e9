// Package pgtest starts a throwaway PostgreSQL server for tests: initdb on
// a temporary directory, then the postmaster on a free 127.0.0.1 port,
// trusting local connections. One server serves a whole test binary (see
// Main); each test gets a database of its own, copied from a template the
// binary prepared once (CREATE DATABASE … TEMPLATE, a file copy).
//
// The binaries are found on PATH, else in the newest
// /usr/lib/postgresql/*/bin. When they are missing, tests asking for a
// database are skipped, or fail when SCIMBRIDGE_REQUIRE_POSTGRES=1 (set it
// in CI, so that a missing server cannot pass as a skipped test).
//
// PostgreSQL refuses to run as root. Under root the server runs as the
// postgres user (SysProcAttr.Credential), which owns the temporary
// directory.
//
// The postmaster is a child of the test binary, not daemonized by
// pg_ctl: it is stopped (fast shutdown) when Main returns, and it gets
// SIGQUIT (immediate shutdown) from the kernel should the test binary
// die without stopping it (Pdeathsig), so a killed test run leaves no
// server behind. Its backends exit when the postmaster does. The
// temporary directory of a killed run stays in os.TempDir.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// RequireEnv, set to 1, turns a missing PostgreSQL into a test failure.
const RequireEnv = "SCIMBRIDGE_REQUIRE_POSTGRES"

// templateDB is the database Prepare fills and Database copies.
const templateDB = "pgtest_template"

// ErrNotInstalled reports that initdb or postgres was not found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL (initdb, postgres) not found on PATH or in /usr/lib/postgresql/*/bin")

// Server is a running PostgreSQL server.
type Server struct {
	dir  string
	port int
	cmd  *exec.Cmd
	log  *syncBuffer
	exit chan struct{} // closed when the postmaster has exited
	n    atomic.Int64  // databases created
	// template is the database Database copies, "" for template0.
	template string
}

// Harness is the server of one test binary: the first test asking for it
// starts it, Database hands out databases, Main stops it. The zero value
// is ready for Main.
type Harness struct {
	// Prepare, when set, runs once on the template database when the
	// server starts (to migrate it); its connection string is given.
	Prepare func(ctx context.Context, dsn string) error

	once sync.Once
	srv  *Server
	err  error // why there is no server
}

// Main runs the tests and stops the server if one started; it returns
// the exit code for os.Exit:
//
//	var pg pgtest.Harness
//	func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }
func (h *Harness) Main(m *testing.M) int {
	code := m.Run()
	if h.srv != nil {
		if err := h.srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop: %v\n", err)
		}
	}
	return code
}

// start starts the server on first use, so that a test binary whose
// tests asked for no database starts none.
func (h *Harness) start() {
	h.srv, h.err = Start()
	if h.err == nil && h.Prepare != nil {
		if err := h.srv.prepare(h.Prepare); err != nil {
			h.srv.Stop()
			h.srv, h.err = nil, fmt.Errorf("pgtest: prepare template: %w", err)
		}
	}
}

// Server returns the running server, started on the first call, skipping
// t (failing it when SCIMBRIDGE_REQUIRE_POSTGRES=1) when there is none.
// Main must run the tests, so that the server stops when they end.
func (h *Harness) Server(t testing.TB) *Server {
	t.Helper()
	h.once.Do(h.start)
	if h.srv != nil {
		return h.srv
	}
	err := h.err
	if errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("%v; install PostgreSQL (apt-get install postgresql), or set %s=1 to make this a failure", err, RequireEnv)
	}
	t.Fatalf("%v", err)
	return nil
}

// Database creates a fresh database, a copy of the template, and returns
// its connection string; it is dropped when t ends.
func (h *Harness) Database(t testing.TB) string {
	t.Helper()
	return h.Server(t).Database(t)
}

// findBinaries returns the directory holding initdb and postgres.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dir := filepath.Dir(p)
		if fileExists(filepath.Join(dir, "postgres")) {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(b) - versionOf(a) })
	for _, d := range dirs {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// runAs is the credential the server runs with: the postgres user when
// this process is root, nil otherwise.
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgtest: running as root, and PostgreSQL refuses root: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pgtest: user postgres: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// Start initializes and starts a server. Stop it with Stop.
func Start() (*Server, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"-E", "UTF8", "--locale=C", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	initdb.Dir = dir
	if out, err := initdb.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgtest: initdb: %v\n%s", err, out)
	}
	var lastErr error
	for range 5 { // the free port may be taken before the server binds it
		s, err := launch(bin, dir, data, cred)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	os.RemoveAll(dir)
	return nil, lastErr
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// launch starts the postmaster and waits until it accepts connections.
// Durability is off: a test server never outlives its run.
func launch(bin, dir, data string, cred *syscall.Credential) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{dir: dir, port: port, log: new(syncBuffer), exit: make(chan struct{})}
	s.cmd = exec.Command(filepath.Join(bin, "postgres"), "-D", data,
		"-c", "listen_addresses=127.0.0.1", "-c", "port="+strconv.Itoa(port),
		"-c", "unix_socket_directories=", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB")
	s.cmd.Dir = dir
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pgtest: start postgres: %w", err)
	}
	go func() {
		_ = s.cmd.Wait()
		close(s.exit)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, s.DSN("postgres"))
		if err == nil {
			conn.Close(ctx)
			return s, nil
		}
		select {
		case <-s.exit:
			return nil, fmt.Errorf("pgtest: postgres exited: %s", s.log.String())
		case <-ctx.Done():
			s.kill()
			return nil, fmt.Errorf("pgtest: postgres did not start: %v\n%s", err, s.log.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exit
}

// DSN is the connection string of database db, as the superuser.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// Exec runs SQL statements on database db.
func (s *Server) Exec(ctx context.Context, db string, sql ...string) error {
	conn, err := pgx.Connect(ctx, s.DSN(db))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, q := range sql {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	return nil
}

// prepare creates the template database and runs fn on it.
func (s *Server) prepare(fn func(ctx context.Context, dsn string) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Exec(ctx, "postgres", "CREATE DATABASE "+templateDB); err != nil {
		return err
	}
	if err := fn(ctx, s.DSN(templateDB)); err != nil {
		return err
	}
	s.template = templateDB
	return nil
}

// Database creates a fresh database from the template (template0 when
// there is no prepared template) and returns its connection string. It is
// dropped when t ends; every connection to it must be closed by then.
func (s *Server) Database(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	name := "t" + strconv.FormatInt(s.n.Add(1), 10)
	tmpl := s.template
	if tmpl == "" {
		tmpl = "template0"
	}
	if err := s.Exec(ctx, "postgres", "CREATE DATABASE "+name+" TEMPLATE "+tmpl); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Exec(ctx, "postgres", "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v", err)
		}
	})
	return s.DSN(name)
}

// Stop shuts the server down (fast shutdown: sessions are ended) and
// removes its directory.
func (s *Server) Stop() error {
	if s == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exit:
	case <-time.After(20 * time.Second):
		s.kill()
	}
	return os.RemoveAll(s.dir)
}

// Log is what the server wrote so far.
func (s *Server) Log() string { return s.log.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.b.String())
}
