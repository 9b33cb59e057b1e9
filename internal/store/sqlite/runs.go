package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/scimbridge/scimbridge/internal/store"
)

// Reconcile runs (store.Run) and named state values, in the runs and state
// tables of migration 0004.

// Runs page bounds.
const (
	defaultRunsLimit = 20
	maxRunsLimit     = 1000
)

// SaveRun inserts r when r.ID is 0, assigning r.ID, and otherwise
// overwrites run r.ID (an ENOTFOUND error when there is none).
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
			return fmt.Errorf("sqlite: save run: %w", err)
		}
		counts = string(js)
	}
	started, finished := microsOrZero(r.Started), microsOrZero(r.Finished)
	if r.ID == 0 {
		res, err := t.st.insertRun.ExecContext(wctx(), r.Kind, started, finished, r.Outcome, counts,
			nullIfEmpty(r.Error), r.Forced)
		if err != nil {
			return fmt.Errorf("sqlite: save run: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return fmt.Errorf("sqlite: save run: %w", err)
		}
		r.ID = id
		return nil
	}
	res, err := t.st.updateRun.ExecContext(wctx(), r.ID, r.Kind, started, finished, r.Outcome, counts,
		nullIfEmpty(r.Error), r.Forced)
	if err != nil {
		return fmt.Errorf("sqlite: save run %d: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: save run %d: %w", r.ID, err)
	}
	if n == 0 {
		return store.NotFound("run", strconv.FormatInt(r.ID, 10))
	}
	return nil
}

// Runs lists the most recent runs, newest (highest ID) first.
func (s *Store) Runs(ctx context.Context, limit int) ([]*store.Run, error) {
	switch {
	case limit <= 0:
		limit = defaultRunsLimit
	case limit > maxRunsLimit:
		limit = maxRunsLimit
	}
	var out []*store.Run
	err := s.get(ctx, func(r *reader) error {
		rows, err := r.st.runs.QueryContext(ctx, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				run               store.Run
				started, finished int64
				counts, errText   sql.NullString
			)
			if err := rows.Scan(&run.ID, &run.Kind, &started, &finished, &run.Outcome, &counts, &errText,
				&run.Forced); err != nil {
				return err
			}
			run.Started, run.Finished, run.Error = fromMicrosOrZero(started), fromMicrosOrZero(finished), errText.String
			if counts.Valid {
				if err := json.Unmarshal([]byte(counts.String), &run.Counts); err != nil {
					return fmt.Errorf("run %d: decode counts: %w", run.ID, err)
				}
			}
			out = append(out, &run)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: runs: %w", err)
	}
	return out, nil
}

// SetState saves value under key, replacing any earlier value.
func (t *tx) SetState(key, value string) error {
	if err := t.check(); err != nil {
		return err
	}
	if key == "" {
		return store.Errorf(store.EINVALID, "state key is empty")
	}
	if _, err := t.st.setState.ExecContext(wctx(), key, value, t.now.UnixMicro()); err != nil {
		return fmt.Errorf("sqlite: set state %q: %w", key, err)
	}
	return nil
}

// State reads the value saved under key, "" when none is.
func (s *Store) State(ctx context.Context, key string) (string, error) {
	var v string
	err := s.get(ctx, func(r *reader) error {
		err := r.st.state.QueryRowContext(ctx, key).Scan(&v)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sqlite: state %q: %w", key, err)
	}
	return v, nil
}
