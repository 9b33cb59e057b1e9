package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimbridge/scimbridge/internal/store"
)

const auditCols = "seq, at, actor, action, resource_type, resource_id, request_id, changed, detail"

func (t *tx) AddAudit(rec *store.AuditRecord) error {
	if err := t.check(); err != nil {
		return err
	}
	var changed any
	if len(rec.Changed) > 0 {
		js, err := json.Marshal(rec.Changed)
		if err != nil {
			return fmt.Errorf("postgres: audit: %w", err)
		}
		changed = js
	}
	var seq int64
	if err := t.q.QueryRow(t.ctx, qInsertAudit, t.now, rec.Actor, rec.Action, rec.ResourceType, rec.ResourceID,
		nullIfEmpty(rec.RequestID), changed, nullIfEmpty(rec.Detail)).Scan(&seq); err != nil {
		return fmt.Errorf("postgres: audit: %w", err)
	}
	rec.Seq, rec.At = seq, t.now
	return nil
}

// Audit lists audit records after q.After; see store.Reader.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	limit := store.ListLimit(q.Limit)
	var (
		rows pgx.Rows
		err  error
	)
	if q.ResourceID != "" {
		rows, err = s.pool.Query(ctx, qAuditAfterResource, q.After, limit, q.ResourceID)
	} else {
		rows, err = s.pool.Query(ctx, qAuditAfter, q.After, limit)
	}
	if err != nil {
		return nil, clientValueError(fmt.Errorf("postgres: audit: %w", err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.AuditRecord, error) {
		var (
			rec               store.AuditRecord
			at                time.Time
			requestID, detail *string
			changed           []byte
		)
		if err := r.Scan(&rec.Seq, &at, &rec.Actor, &rec.Action, &rec.ResourceType, &rec.ResourceID,
			&requestID, &changed, &detail); err != nil {
			return rec, err
		}
		rec.At, rec.RequestID, rec.Detail = at.UTC(), deref(requestID), deref(detail)
		if changed != nil {
			if err := json.Unmarshal(changed, &rec.Changed); err != nil {
				return rec, fmt.Errorf("record %d: decode changed: %w", rec.Seq, err)
			}
		}
		return rec, nil
	})
	if err != nil {
		return nil, clientValueError(fmt.Errorf("postgres: audit: %w", err))
	}
	if out == nil {
		out = []store.AuditRecord{}
	}
	return out, nil
}
