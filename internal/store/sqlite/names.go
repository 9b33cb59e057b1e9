package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// qUserNames reads what the name rules look at, in creation order: a
// single statement, so one snapshot, reading the table once.
const qUserNames = `SELECT id, user_name, json_extract(doc, '$."emails"') FROM users ORDER BY seq`

// CheckNames lists the users stored before the RFC 8265 rules whose
// userName or emails now collide or are refused (see store.NameAudit). It
// reads; it changes nothing.
func (s *Store) CheckNames(ctx context.Context) (out []store.NameProblem, err error) {
	err = s.get(ctx, func(r *reader) error {
		rows, err := r.conn.QueryContext(ctx, qUserNames)
		if err != nil {
			return err
		}
		defer rows.Close()
		var audit store.NameAudit
		for rows.Next() {
			var (
				u      schemas.User
				emails []byte
			)
			if err := rows.Scan(&u.ID, &u.UserName, &emails); err != nil {
				return err
			}
			if emails != nil && !plainJSON(emails) {
				if err := json.Unmarshal(emails, &u.Emails); err != nil {
					return fmt.Errorf("user %s: decode emails: %w", u.ID, err)
				}
			}
			audit.Add(&u)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		out = audit.Problems()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: check names: %w", err)
	}
	return out, nil
}

// plainJSON reports whether js, JSON as encoding/json writes it (no space
// outside strings), holds printable ASCII only, without escapes or spaces:
// every string in it is then a value the name rules accept.
func plainJSON(js []byte) bool {
	for _, c := range js {
		if c <= ' ' || c > '~' || c == '\\' {
			return false
		}
	}
	return true
}

var _ store.NameChecker = (*Store)(nil)
