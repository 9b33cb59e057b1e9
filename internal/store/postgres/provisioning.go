package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// The provisioning engine's rows (store.Provisioning). A zero NextAttempt
// is stored as Go's zero time, 0001-01-01, which sorts first: due now.

func scanProvisioning(row pgx.Row) (*store.Provisioning, error) {
	var (
		p                    store.Provisioning
		kind                 string
		hubspotID, lastError *string
		next, updated        time.Time
		lastSynced           *time.Time
	)
	if err := row.Scan(&p.UserID, &kind, &p.Desired, &p.DesiredVersion, &p.AppliedVersion, &p.AttemptedVersion,
		&hubspotID, &p.State, &lastError, &p.Attempts, &next, &lastSynced, &updated); err != nil {
		return nil, err
	}
	if p.Desired == nil {
		p.Desired = []byte{} // stored empty: say so, not "absent"
	}
	p.Kind = store.ProvisioningKind(kind)
	p.HubSpotID, p.LastError = deref(hubspotID), deref(lastError)
	p.NextAttempt, p.Updated = next.UTC(), updated.UTC()
	if lastSynced != nil {
		p.LastSynced = lastSynced.UTC()
	}
	return &p, nil
}

func getProvisioning(ctx context.Context, q querier, userID string) (*store.Provisioning, error) {
	p, err := scanProvisioning(q.QueryRow(ctx, qProvByID, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("provisioning of user", userID)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get provisioning %s: %w", userID, err)
	}
	return p, nil
}

func queryProvisioning(ctx context.Context, q querier, query string, args ...any) ([]*store.Provisioning, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Provisioning, error) { return scanProvisioning(r) })
}

// GetProvisioning returns a user's provisioning row.
func (s *Store) GetProvisioning(ctx context.Context, userID string) (*store.Provisioning, error) {
	p, err := getProvisioning(ctx, s.pool, userID)
	return p, clientValueError(err)
}

// DueProvisioning lists the rows due at now; see store.Reader.
func (s *Store) DueProvisioning(ctx context.Context, now time.Time, limit int) ([]*store.Provisioning, error) {
	out, err := queryProvisioning(ctx, s.pool, qProvDue, now, store.ListLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: due provisioning: %w", err)
	}
	return out, nil
}

// NextProvisioningDue returns the earliest NextAttempt of the rows with
// work to do.
func (s *Store) NextProvisioningDue(ctx context.Context) (time.Time, bool, error) {
	var t time.Time
	switch err := s.pool.QueryRow(ctx, qProvNextDue).Scan(&t); {
	case errors.Is(err, pgx.ErrNoRows):
		return time.Time{}, false, nil
	case err != nil:
		return time.Time{}, false, fmt.Errorf("postgres: next provisioning due: %w", err)
	}
	return t.UTC(), true, nil
}

// ProvisioningCounts counts the rows by state, plus "_pending".
func (s *Store) ProvisioningCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{"_pending": 0}
	rows, err := s.pool.Query(ctx, qProvCounts)
	if err != nil {
		return nil, fmt.Errorf("postgres: provisioning counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state      string
			n, pending int
		)
		if err := rows.Scan(&state, &n, &pending); err != nil {
			return nil, fmt.Errorf("postgres: provisioning counts: %w", err)
		}
		out[state] += n
		out["_pending"] += pending
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: provisioning counts: %w", err)
	}
	return out, nil
}

// OldestPending is when the longest-waiting row being worked on ran ahead
// of HubSpot.
func (s *Store) OldestPending(ctx context.Context) (time.Time, bool, error) {
	var t *time.Time
	if err := s.pool.QueryRow(ctx, qProvOldestPending).Scan(&t); err != nil {
		return time.Time{}, false, fmt.Errorf("postgres: oldest pending: %w", err)
	}
	if t == nil {
		return time.Time{}, false, nil
	}
	return t.UTC(), true, nil
}

// ListProvisioning pages through the rows in UserID order.
func (s *Store) ListProvisioning(ctx context.Context, after string, limit int) ([]*store.Provisioning, error) {
	out, err := queryProvisioning(ctx, s.pool, qProvList, after, store.ListLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("postgres: list provisioning: %w", err)
	}
	return out, nil
}

func (t *tx) GetProvisioning(userID string) (*store.Provisioning, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return getProvisioning(t.ctx, t.q, userID)
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
		desired = []byte{}
	}
	p, err := scanProvisioning(t.q.QueryRow(t.ctx, qProvSetDesired, key, desired, t.now, string(kind)))
	switch {
	case err == nil:
		return p, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, false, fmt.Errorf("postgres: set desired %s: %w", key, err)
	}
	p, err = getProvisioning(t.ctx, t.q, key)
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
	tag, err := t.q.Exec(t.ctx, qProvOutcome, userID, o.Done, o.Version, o.NextAttempt.UTC(),
		nullIfEmpty(o.HubSpotID), o.State, nullIfEmpty(o.LastError), o.Synced, t.now)
	if err != nil {
		return fmt.Errorf("postgres: record outcome %s: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return store.NotFound("provisioning of user", userID)
	}
	if o.Ext == nil && !o.ClearExt {
		return nil
	}
	return t.setHubSpot(userID, o.Ext)
}

// setHubSpot writes the user's HubSpot extension (nil removes it).
func (t *tx) setHubSpot(userID string, ext *schemas.HubSpotExt) error {
	var v any // NULL removes
	if ext != nil {
		js, err := json.Marshal(ext)
		if err != nil {
			return fmt.Errorf("postgres: set hubspot extension of %s: %w", userID, err)
		}
		v = js
	}
	if _, err := t.q.Exec(t.ctx, qSetUserHubSpot, userID, v); err != nil {
		return fmt.Errorf("postgres: set hubspot extension of %s: %w", userID, err)
	}
	return nil
}

func (t *tx) SetHubSpotExt(userID string, ext *schemas.HubSpotExt) error {
	if err := t.check(); err != nil {
		return err
	}
	return t.setHubSpot(userID, ext)
}

func (t *tx) DeleteProvisioning(userID string) error {
	if err := t.check(); err != nil {
		return err
	}
	tag, err := t.q.Exec(t.ctx, qProvDelete, userID)
	if err != nil {
		return fmt.Errorf("postgres: delete provisioning %s: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
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
	err := t.q.QueryRow(t.ctx, qProvLinked, hubspotID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("postgres: linked user of %s: %w", hubspotID, err)
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
	ids, err := t.strings(qReportsOf, managerID)
	if err != nil {
		return nil, fmt.Errorf("postgres: reports of %s: %w", managerID, err)
	}
	return ids, nil
}

func (t *tx) TouchProvisioning() (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	tag, err := t.q.Exec(t.ctx, qProvTouch, t.now)
	if err != nil {
		return 0, fmt.Errorf("postgres: touch provisioning: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func (t *tx) TouchProvisioningOf(userID string) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	tag, err := t.q.Exec(t.ctx, qProvTouchOne, userID, t.now)
	if err != nil {
		return false, fmt.Errorf("postgres: touch provisioning of %s: %w", userID, err)
	}
	return tag.RowsAffected() > 0, nil
}
