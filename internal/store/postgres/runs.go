package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimbridge/scimbridge/internal/store"
)

// Reconcile runs and named state. A zero time is stored as NULL.

const (
	defaultRunsLimit = 20
	maxRunsLimit     = 1000
)

func timeOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func (t *tx) SaveRun(r *store.Run) error {
	if err := t.check(); err != nil {
		return err
	}
	if r == nil {
		return store.Errorf(store.EINVALID, "SaveRun with a nil run")
	}
	var counts any
	if len(r.Counts) > 0 {
		js, err := json.Marshal(r.Counts)
		if err != nil {
			return fmt.Errorf("postgres: save run: %w", err)
		}
		counts = js
	}
	started, finished := timeOrNull(r.Started), timeOrNull(r.Finished)
	if r.ID == 0 {
		if err := t.q.QueryRow(t.ctx, qInsertRun, r.Kind, started, finished, r.Outcome, counts,
			nullIfEmpty(r.Error), r.Forced).Scan(&r.ID); err != nil {
			return fmt.Errorf("postgres: save run: %w", err)
		}
		return nil
	}
	tag, err := t.q.Exec(t.ctx, qUpdateRun, r.ID, r.Kind, started, finished, r.Outcome, counts,
		nullIfEmpty(r.Error), r.Forced)
	if err != nil {
		return fmt.Errorf("postgres: save run %d: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return store.NotFound("run", strconv.FormatInt(r.ID, 10))
	}
	return nil
}

// Runs lists the most recent runs, newest first.
func (s *Store) Runs(ctx context.Context, limit int) ([]*store.Run, error) {
	switch {
	case limit <= 0:
		limit = defaultRunsLimit
	case limit > maxRunsLimit:
		limit = maxRunsLimit
	}
	rows, err := s.pool.Query(ctx, qRuns, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: runs: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Run, error) {
		var (
			run               store.Run
			started, finished *time.Time
			counts            []byte
			errText           *string
		)
		if err := r.Scan(&run.ID, &run.Kind, &started, &finished, &run.Outcome, &counts, &errText, &run.Forced); err != nil {
			return nil, err
		}
		if started != nil {
			run.Started = started.UTC()
		}
		if finished != nil {
			run.Finished = finished.UTC()
		}
		run.Error = deref(errText)
		if counts != nil {
			if err := json.Unmarshal(counts, &run.Counts); err != nil {
				return nil, fmt.Errorf("run %d: decode counts: %w", run.ID, err)
			}
		}
		return &run, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: runs: %w", err)
	}
	return out, nil
}

func (t *tx) SetState(key, value string) error {
	if err := t.check(); err != nil {
		return err
	}
	if key == "" {
		return store.Errorf(store.EINVALID, "state key is empty")
	}
	if _, err := t.q.Exec(t.ctx, qSetState, []byte(key), []byte(value), t.now); err != nil {
		return fmt.Errorf("postgres: set state %q: %w", key, err)
	}
	return nil
}

// State reads a value saved with SetState ("" when unset).
func (s *Store) State(ctx context.Context, key string) (string, error) {
	var v []byte
	err := s.pool.QueryRow(ctx, qState, []byte(key)).Scan(&v)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return "", fmt.Errorf("postgres: state %q: %w", key, err)
	}
	return string(v), nil
}
