package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

const qUserNames = `SELECT id, user_name, doc -> 'emails' FROM users ORDER BY seq`

// CheckNames lists the stored users whose names break the rules writes
// enforce (store.NameChecker). The unique indexes keep userName keys from
// colliding, so only refused values can show up: those of users written by
// an older profile, or through the database itself.
func (s *Store) CheckNames(ctx context.Context) ([]store.NameProblem, error) {
	rows, err := s.pool.Query(ctx, qUserNames)
	if err != nil {
		return nil, fmt.Errorf("postgres: check names: %w", err)
	}
	defer rows.Close()
	var audit store.NameAudit
	for rows.Next() {
		var (
			u      schemas.User
			emails []byte
		)
		if err := rows.Scan(&u.ID, &u.UserName, &emails); err != nil {
			return nil, fmt.Errorf("postgres: check names: %w", err)
		}
		if emails != nil {
			if err := json.Unmarshal(emails, &u.Emails); err != nil {
				return nil, fmt.Errorf("postgres: check names: user %s: decode emails: %w", u.ID, err)
			}
		}
		audit.Add(&u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: check names: %w", err)
	}
	return audit.Problems(), nil
}

var _ store.NameChecker = (*Store)(nil)
