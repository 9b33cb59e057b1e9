package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// The provisioning engine's rows (store.Provisioning), in the provisioning
// table of migration 0002 (kind: migration 0008). Every rule about versions lives in the SQL of
// qProvSetDesired and qProvOutcome, so that each write is one statement.

// Provisioning page bounds (DueProvisioning, ListProvisioning).
// scanProvisioning reads provCols.
func scanProvisioning(sc scanner) (*store.Provisioning, error) {
	var (
		p                          store.Provisioning
		hubspotID, lastError       sql.NullString
		next, updated              int64
		lastSynced                 sql.NullInt64
		desiredVersion, applied    int64
		attemptedVersion, attempts int64
	)
	if err := sc.Scan(&p.UserID, &p.Kind, &p.Desired, &desiredVersion, &applied, &attemptedVersion, &hubspotID,
		&p.State, &lastError, &attempts, &next, &lastSynced, &updated); err != nil {
		return nil, err
	}
	if p.Desired == nil {
		p.Desired = []byte{} // stored empty: say so, not "absent"
	}
	p.DesiredVersion, p.AppliedVersion, p.AttemptedVersion = desiredVersion, applied, attemptedVersion
	p.HubSpotID, p.LastError, p.Attempts = hubspotID.String, lastError.String, int(attempts)
	p.NextAttempt = fromMicrosOrZero(next)
	if lastSynced.Valid {
		p.LastSynced = fromMicros(lastSynced.Int64)
	}
	p.Updated = fromMicros(updated)
	return &p, nil
}

// Zero times are stored as 0 (next_attempt: due since forever), not as the
// unix microseconds of year 1, so that they sort first and read back as
// zero.
func microsOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromMicrosOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return fromMicros(us)
}

func getProvisioning(ctx context.Context, rs *readStmts, userID string) (*store.Provisioning, error) {
	p, err := scanProvisioning(rs.provByID.QueryRowContext(ctx, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("provisioning of user", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get provisioning %s: %w", userID, err)
	}
	return p, nil
}

// queryProvisioning runs a statement returning provCols.
func queryProvisioning(ctx context.Context, st *sql.Stmt, args ...any) ([]*store.Provisioning, error) {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*store.Provisioning
	for rows.Next() {
		p, err := scanProvisioning(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// GetProvisioning returns a committed provisioning row.
func (s *Store) GetProvisioning(ctx context.Context, userID string) (p *store.Provisioning, err error) {
	err = s.get(ctx, func(r *reader) error {
		p, err = getProvisioning(ctx, r.st, userID)
		return err
	})
	return p, err
}

// DueProvisioning lists the rows due at now; see store.Reader.
func (s *Store) DueProvisioning(ctx context.Context, now time.Time, limit int) (out []*store.Provisioning, err error) {
	// NextAttempt is kept in microseconds: compare at that precision, so
	// that a row whose NextAttempt is now is due now.
	at := now.UnixMicro()
	err = s.get(ctx, func(r *reader) error {
		out, err = queryProvisioning(ctx, r.st.provDue, at, store.ListLimit(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: due provisioning: %w", err)
	}
	return out, nil
}

// NextProvisioningDue returns the earliest NextAttempt of the rows with
// work to do.
func (s *Store) NextProvisioningDue(ctx context.Context) (t time.Time, ok bool, err error) {
	err = s.get(ctx, func(r *reader) error {
		var us int64
		switch err := r.st.provNextDue.QueryRowContext(ctx).Scan(&us); {
		case errors.Is(err, sql.ErrNoRows):
			return nil
		case err != nil:
			return err
		}
		t, ok = fromMicrosOrZero(us), true
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: next provisioning due: %w", err)
	}
	return t, ok, nil
}

// ProvisioningCounts counts the rows by state, plus "_pending". One
// statement, so the numbers come from one snapshot and add up. It reads
// every row (about 0.1 s for 100,000 on a small server): it serves status
// pages, and an index to make it cheaper would be one more to maintain on
// every outcome the workers record.
func (s *Store) ProvisioningCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{"_pending": 0}
	err := s.get(ctx, func(r *reader) error {
		rows, err := r.st.provCounts.QueryContext(ctx)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				state      string
				n, pending int
			)
			if err := rows.Scan(&state, &n, &pending); err != nil {
				return err
			}
			out[state] += n
			out["_pending"] += pending
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: provisioning counts: %w", err)
	}
	return out, nil
}

// OldestPending is when the longest-waiting row being worked on ran ahead
// of HubSpot; ok is false when none is.
func (s *Store) OldestPending(ctx context.Context) (t time.Time, ok bool, err error) {
	err = s.get(ctx, func(r *reader) error {
		var us sql.NullInt64
		if err := r.st.provOldestPending.QueryRowContext(ctx).Scan(&us); err != nil {
			return err
		}
		if us.Valid {
			t, ok = time.UnixMicro(us.Int64).UTC(), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: oldest pending: %w", err)
	}
	return t, ok, nil
}

// ListProvisioning pages through the rows by user id.
func (s *Store) ListProvisioning(ctx context.Context, after string, limit int) (out []*store.Provisioning, err error) {
	err = s.get(ctx, func(r *reader) error {
		out, err = queryProvisioning(ctx, r.st.provList, after, store.ListLimit(limit))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: list provisioning: %w", err)
	}
	return out, nil
}

func (t *tx) GetProvisioning(userID string) (*store.Provisioning, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return getProvisioning(wctx(), &t.st.readStmts, userID)
}

func (t *tx) SetDesired(userID string, desired []byte) (*store.Provisioning, bool, error) {
	return t.SetDesiredOf(store.KindUser, userID, desired)
}

func (t *tx) SetDesiredOf(kind store.ProvisioningKind, key string, desired []byte) (*store.Provisioning, bool, error) {
	if err := t.check(); err != nil {
		return nil, false, err
	}
	if key == "" {
		return nil, false, store.Errorf(store.EINVALID, "provisioning needs a key")
	}
	if !kind.Valid() {
		return nil, false, store.Errorf(store.EINVALID, "provisioning row %s: unknown kind %q", key, kind)
	}
	if desired == nil {
		// A nil []byte would bind as NULL; the document is bytes, even
		// none.
		desired = []byte{}
	}
	p, err := scanProvisioning(t.st.provSetDesired.QueryRowContext(wctx(), key, desired, t.now.UnixMicro(), string(kind)))
	switch {
	case err == nil:
		return p, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return nil, false, fmt.Errorf("sqlite: set desired %s: %w", key, err)
	}
	// The document was the stored one, or the key a row of another kind:
	// nothing written.
	p, err = getProvisioning(wctx(), &t.st.readStmts, key)
	if err == nil && p.Kind != kind {
		return nil, false, store.Errorf(store.ECONFLICT, "provisioning row %s is of kind %s, not %s", key, p.Kind, kind)
	}
	return p, false, err
}

func (t *tx) RecordOutcome(userID string, o store.Outcome) error {
	if err := t.check(); err != nil {
		return err
	}
	if o.Ext != nil && o.ClearExt {
		return store.Errorf(store.EINVALID, "an outcome cannot both set and clear the HubSpot extension")
	}
	now := t.now.UnixMicro()
	r, err := t.st.provOutcome.ExecContext(wctx(), userID, o.Done, o.Version, microsOrZero(o.NextAttempt),
		nullIfEmpty(o.HubSpotID), o.State, nullIfEmpty(o.LastError), o.Synced, now)
	if err != nil {
		return fmt.Errorf("sqlite: record outcome %s: %w", userID, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: record outcome %s: %w", userID, err)
	} else if n == 0 {
		return store.NotFound("provisioning of user", userID)
	}
	var ext any // NULL clears
	switch {
	case o.Ext != nil:
		js, err := json.Marshal(o.Ext)
		if err != nil {
			return fmt.Errorf("sqlite: record outcome %s: encode hubspot: %w", userID, err)
		}
		ext = string(js)
	case !o.ClearExt:
		return nil
	}
	// A user deleted meanwhile has nothing to show it on: no row updated,
	// no error.
	if _, err := t.st.setUserHubSpot.ExecContext(wctx(), userID, ext); err != nil {
		return fmt.Errorf("sqlite: record outcome %s: %w", userID, err)
	}
	return nil
}

func (t *tx) SetHubSpotExt(userID string, ext *schemas.HubSpotExt) error {
	if err := t.check(); err != nil {
		return err
	}
	var v any // NULL removes
	if ext != nil {
		js, err := json.Marshal(ext)
		if err != nil {
			return fmt.Errorf("sqlite: set hubspot extension of %s: %w", userID, err)
		}
		v = string(js)
	}
	if _, err := t.st.setUserHubSpot.ExecContext(wctx(), userID, v); err != nil {
		return fmt.Errorf("sqlite: set hubspot extension of %s: %w", userID, err)
	}
	return nil
}

func (t *tx) DeleteProvisioning(userID string) error {
	if err := t.check(); err != nil {
		return err
	}
	r, err := t.st.provDelete.ExecContext(wctx(), userID)
	if err != nil {
		return fmt.Errorf("sqlite: delete provisioning %s: %w", userID, err)
	}
	if n, err := r.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete provisioning %s: %w", userID, err)
	} else if n == 0 {
		return store.NotFound("provisioning of user", userID)
	}
	return nil
}

func (t *tx) LinkedUser(hubspotID string) (string, error) {
	if err := t.check(); err != nil {
		return "", err
	}
	if hubspotID == "" {
		return "", nil // "" is no link, stored as NULL
	}
	var id string
	err := t.st.provLinked.QueryRowContext(wctx(), hubspotID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sqlite: linked user of %s: %w", hubspotID, err)
	}
	return id, nil
}

func (t *tx) ReportsOf(managerID string) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if managerID == "" {
		return nil, nil
	}
	rows, err := t.st.reportsOf.QueryContext(wctx(), managerID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: reports of %s: %w", managerID, err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: reports of %s: %w", managerID, err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: reports of %s: %w", managerID, err)
	}
	return ids, nil
}

func (t *tx) TouchProvisioning() (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	r, err := t.st.provTouch.ExecContext(wctx(), t.now.UnixMicro())
	if err != nil {
		return 0, fmt.Errorf("sqlite: touch provisioning: %w", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: touch provisioning: %w", err)
	}
	return int(n), nil
}

// TouchProvisioningOf makes one row due again now (access review fixes).
func (t *tx) TouchProvisioningOf(userID string) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	r, err := t.st.provTouchOne.ExecContext(wctx(), userID, t.now.UnixMicro())
	if err != nil {
		return false, fmt.Errorf("sqlite: touch provisioning of %s: %w", userID, err)
	}
	n, err := r.RowsAffected()
	return n > 0, err
}
