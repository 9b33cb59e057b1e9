package sqlite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// runJobs runs jobs as one batch, as the writer goroutine would, and
// returns their results. The writer goroutine is idle meanwhile (no Update
// is in flight), so the test may drive the connection.
func runJobs(s *Store, jobs ...*job) []jobResult {
	s.runBatch(jobs)
	out := make([]jobResult, len(jobs))
	for i, j := range jobs {
		out[i] = <-j.done
	}
	return out
}

func newJob(ctx context.Context, fn func(store.Tx) error) *job {
	return &job{ctx: ctx, fn: fn, done: make(chan jobResult, 1)}
}

func createJob(name string) *job {
	return newJob(context.Background(), func(tx store.Tx) error {
		return tx.CreateUser(&schemas.User{UserName: name})
	})
}

func userExists(t *testing.T, s *Store, name string) bool {
	t.Helper()
	p, err := s.QueryUsers(context.Background(), schemas.Query{Filter: mustParse(t, `userName eq "`+name+`"`)})
	if err != nil {
		t.Fatal(err)
	}
	return p.Total == 1
}

func TestBatchIsolation(t *testing.T) {
	s := openTest(t, Config{})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	res := runJobs(s,
		createJob("a"),
		newJob(context.Background(), func(tx store.Tx) error {
			if err := tx.CreateUser(&schemas.User{UserName: "b"}); err != nil {
				return err
			}
			return errors.New("b fails")
		}),
		newJob(canceled, func(store.Tx) error { ran = true; return nil }),
		createJob("A"), // conflicts with a, within the same batch
		createJob("c"),
	)
	for i, want := range []string{"", "b fails", context.Canceled.Error(), "already taken", ""} {
		got := ""
		if res[i].err != nil {
			got = res[i].err.Error()
		}
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("job %d: err %q, want %q", i, got, want)
		}
	}
	if ran {
		t.Error("a job whose context had ended ran")
	}
	for name, want := range map[string]bool{"a": true, "b": false, "c": true} {
		if got := userExists(t, s, name); got != want {
			t.Errorf("user %s exists: %v, want %v", name, got, want)
		}
	}
}

// A job that breaks the transaction (here by ending it behind the writer's
// back, as SQLite does on some I/O errors) fails the jobs that ran before it
// in the batch; those after it run in a new transaction.
func TestBatchAbort(t *testing.T) {
	s := openTest(t, Config{})
	res := runJobs(s,
		createJob("a"),
		newJob(context.Background(), func(tx store.Tx) error {
			if err := tx.CreateUser(&schemas.User{UserName: "b"}); err != nil {
				return err
			}
			_, err := s.wconn.ExecContext(wctx(), "ROLLBACK")
			return err
		}),
		createJob("c"),
	)
	for i, wantErr := range []bool{true, true, false} {
		if (res[i].err != nil) != wantErr {
			t.Errorf("job %d: err %v, want error %v", i, res[i].err, wantErr)
		}
	}
	for name, want := range map[string]bool{"a": false, "b": false, "c": true} {
		if got := userExists(t, s, name); got != want {
			t.Errorf("user %s exists: %v, want %v", name, got, want)
		}
	}
	// The writer goes on.
	if err := s.Update(context.Background(), func(tx store.Tx) error {
		return tx.CreateUser(&schemas.User{UserName: "d"})
	}); err != nil {
		t.Fatal(err)
	}
}

func TestTxUsedAfterUpdate(t *testing.T) {
	s := openTest(t, Config{})
	var leaked store.Tx
	if err := s.Update(context.Background(), func(tx store.Tx) error { leaked = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := leaked.CreateUser(&schemas.User{UserName: "late"}); !errors.Is(err, errTxDone) {
		t.Errorf("late CreateUser = %v", err)
	}
}

// A batch of one runs without a savepoint: its failure, its panic, or a
// transaction broken behind the writer's back must still leave nothing
// behind and fail that job alone.
func TestSingleJobBatch(t *testing.T) {
	s := openTest(t, Config{})
	fails := newJob(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateUser(&schemas.User{UserName: "failed"}); err != nil {
			return err
		}
		return errors.New("fn fails")
	})
	if res := runJobs(s, fails); res[0].err == nil || res[0].err.Error() != "fn fails" {
		t.Errorf("failing job: %v", res[0].err)
	}
	panics := newJob(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateUser(&schemas.User{UserName: "panicked"}); err != nil {
			return err
		}
		panic("boom")
	})
	if res := runJobs(s, panics); res[0].panic == nil {
		t.Errorf("panicking job: %+v", res[0])
	}
	breaks := newJob(context.Background(), func(tx store.Tx) error {
		if err := tx.CreateUser(&schemas.User{UserName: "broken"}); err != nil {
			return err
		}
		_, err := s.wconn.ExecContext(wctx(), "ROLLBACK")
		return err
	})
	if res := runJobs(s, breaks); res[0].err == nil {
		t.Error("a job whose transaction broke succeeded")
	}
	if res := runJobs(s, createJob("ok")); res[0].err != nil {
		t.Fatal(res[0].err)
	}
	for name, want := range map[string]bool{"failed": false, "panicked": false, "broken": false, "ok": true} {
		if got := userExists(t, s, name); got != want {
			t.Errorf("user %s exists: %v, want %v", name, got, want)
		}
	}
}
