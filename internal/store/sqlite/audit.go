package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
)

const auditCols = "seq, at, actor, action, resource_type, resource_id, request_id, changed, detail"

// Audit page bounds (store.AuditQuery).
func (t *tx) AddAudit(rec *store.AuditRecord) error {
	if err := t.check(); err != nil {
		return err
	}
	var changed any
	if len(rec.Changed) > 0 {
		js, err := json.Marshal(rec.Changed)
		if err != nil {
			return fmt.Errorf("sqlite: audit: %w", err)
		}
		changed = string(js)
	}
	r, err := t.st.insertAudit.ExecContext(wctx(), t.now.UnixMicro(), rec.Actor, rec.Action, rec.ResourceType,
		rec.ResourceID, nullIfEmpty(rec.RequestID), changed, nullIfEmpty(rec.Detail))
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: audit: %w", err)
	}
	rec.Seq, rec.At = seq, t.now
	return nil
}

// Audit pages through the audit trail in ascending sequence. Sequence
// numbers are assigned by the single writer in commit order and a batch
// becomes visible atomically, so a reader paging with After never misses a
// record committed later.
func (s *Store) Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error) {
	limit := store.ListLimit(q.Limit)
	var out []store.AuditRecord
	err := s.get(ctx, func(r *reader) error {
		var (
			rows *sql.Rows
			err  error
		)
		if q.ResourceID != "" {
			rows, err = r.st.auditAfterResource.QueryContext(ctx, q.After, limit, q.ResourceID)
		} else {
			rows, err = r.st.auditAfter.QueryContext(ctx, q.After, limit)
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		out = make([]store.AuditRecord, 0, min(limit, 64))
		for rows.Next() {
			var (
				rec                        store.AuditRecord
				at                         int64
				requestID, changed, detail sql.NullString
			)
			if err := rows.Scan(&rec.Seq, &at, &rec.Actor, &rec.Action, &rec.ResourceType, &rec.ResourceID,
				&requestID, &changed, &detail); err != nil {
				return err
			}
			rec.At, rec.RequestID, rec.Detail = fromMicros(at), requestID.String, detail.String
			if changed.Valid {
				if err := json.Unmarshal([]byte(changed.String), &rec.Changed); err != nil {
					return fmt.Errorf("record %d: decode changed: %w", rec.Seq, err)
				}
			}
			out = append(out, rec)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit: %w", err)
	}
	return out, nil
}
