package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The owner lock of a database: a session-level advisory lock, held by
// `scimbridge serve` for its whole life and by a one-shot command while it
// reconciles or provisions, so that two processes never run reconciles or
// HubSpot workers on one database at once. It is the PostgreSQL form of the
// SQLite store's lock file: a second replica waits for it and takes over
// when the holder stops or dies (PostgreSQL releases a session's locks
// when its connection ends). The holder names itself in application_name,
// which the others read from pg_stat_activity.

// ownerLockKey is the advisory lock's key ("scimbridge owner" in the
// pg_locks view: classid 0x5c1b and objid 0x0001).
const (
	ownerClassID       = 0x5c1b
	ownerObjID         = 0x0001
	ownerLockKey int64 = ownerClassID<<32 | ownerObjID
)

// ownerCheckEvery is how often a held lock's connection is checked, and
// how long a check may take.
const ownerCheckEvery = time.Second

// HeldError reports that another session holds the owner lock.
type HeldError struct {
	// Holder is the holder's application_name, e.g. "scimbridge serve
	// (pid 42 on host-a)"; empty when it could not be read.
	Holder string
}

func (e *HeldError) Error() string {
	h := e.Holder
	if h == "" {
		h = "another process"
	}
	return "the database is in use by " + h
}

// OwnerLock is a held owner lock.
type OwnerLock struct {
	conn *pgx.Conn
	lost chan struct{}
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

// TryOwnerLock takes the owner lock of the database dsn names for what
// (e.g. "scimbridge serve"), or returns a *HeldError naming the holder.
func TryOwnerLock(ctx context.Context, dsn, what string) (*OwnerLock, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("postgres: the connection string cannot be parsed")
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%s (pid %d on %s)", what, os.Getpid(), host)
	if len(name) > 63 { // NAMEDATALEN-1: PostgreSQL would cut it
		name = name[:63]
	}
	cc.RuntimeParams["application_name"] = name
	// The server ends a session whose client vanished without closing it
	// (a host lost, a network cut) after about 25 s of silence, releasing
	// the lock for a standby, instead of after the kernel's default hours.
	cc.RuntimeParams["tcp_keepalives_idle"] = "10"
	cc.RuntimeParams["tcp_keepalives_interval"] = "5"
	cc.RuntimeParams["tcp_keepalives_count"] = "3"
	conn, err := pgx.ConnectConfig(ctx, cc)
	if err != nil {
		return nil, fmt.Errorf("postgres: connecting for the owner lock: %w", err)
	}
	var got bool
	if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", ownerLockKey).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("postgres: taking the owner lock: %w", err)
	}
	if !got {
		held := &HeldError{}
		_ = conn.QueryRow(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objid = $2 AND l.objsubid = 1
				AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
			ownerClassID, ownerObjID).Scan(&held.Holder)
		conn.Close(context.Background())
		return nil, held
	}
	l := &OwnerLock{conn: conn, lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go l.watch()
	return l, nil
}

// watch checks the lock's connection; when it fails (the database
// restarted, the network broke) the lock may be another's already, and
// Lost says so.
func (l *OwnerLock) watch() {
	defer close(l.done)
	t := time.NewTicker(ownerCheckEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), ownerCheckEvery)
			err := l.conn.Ping(ctx)
			cancel()
			if err != nil {
				close(l.lost)
				return
			}
		}
	}
}

// Lost is closed when the lock's connection failed: the holder must stop
// working on the database, as another process may hold the lock now.
func (l *OwnerLock) Lost() <-chan struct{} { return l.lost }

// Release gives the lock up.
func (l *OwnerLock) Release() {
	if l == nil {
		return
	}
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", ownerLockKey)
		_ = l.conn.Close(ctx)
	})
}
