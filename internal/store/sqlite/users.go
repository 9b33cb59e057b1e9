package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// userDoc is the JSON kept in users.doc: the whole User minus what has a
// column of its own or is not the client's to write. The shadowing fields,
// always empty and omitempty, hide the embedded User's fields of the same
// JSON name (encoding/json prefers the shallower field), so a field added to
// schemas.User later is stored without touching this code.
type userDoc struct {
	*schemas.User
	ID         string    `json:"id,omitempty"`
	ExternalID string    `json:"externalId,omitempty"`
	UserName   string    `json:"userName,omitempty"`
	Groups     *struct{} `json:"groups,omitempty"`
	HubSpot    *struct{} `json:"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User,omitempty"`
}

// userColumns are the values written to users for u.
type userColumns struct {
	doc, hubspot                    []byte
	userKey                         string
	externalID, display, displayKey any // NULL when empty
	active                          any // NULL when absent
}

func encodeUser(u *schemas.User) (*userColumns, error) {
	doc, err := json.Marshal(userDoc{User: u})
	if err != nil {
		return nil, fmt.Errorf("sqlite: encode user: %w", err)
	}
	c := &userColumns{
		doc:        doc,
		userKey:    schemas.Fold(u.UserName),
		externalID: nullIfEmpty(u.ExternalID),
		display:    nullIfEmpty(u.DisplayName),
		displayKey: nullIfEmpty(schemas.Fold(u.DisplayName)),
	}
	if u.Active != nil {
		c.active = *u.Active
	}
	if u.HubSpot != nil {
		if c.hubspot, err = json.Marshal(u.HubSpot); err != nil {
			return nil, fmt.Errorf("sqlite: encode user: %w", err)
		}
	}
	return c, nil
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// scanUser reads userCols (and extra columns after them) into a User.
func scanUser(sc scanner, extra ...any) (*schemas.User, int64, error) {
	var (
		seq, created, modified, version int64
		id, userName, doc               string
		ext, hub                        sql.NullString
	)
	dest := append([]any{&seq, &id, &userName, &ext, &doc, &hub, &created, &modified, &version}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, 0, err
	}
	u := new(schemas.User)
	if err := json.Unmarshal([]byte(doc), &userDoc{User: u}); err != nil {
		return nil, 0, fmt.Errorf("sqlite: user %s: decode doc: %w", id, err)
	}
	u.ID, u.UserName, u.ExternalID = id, userName, ext.String
	if hub.Valid {
		u.HubSpot = new(schemas.HubSpotExt)
		if err := json.Unmarshal([]byte(hub.String), u.HubSpot); err != nil {
			return nil, 0, fmt.Errorf("sqlite: user %s: decode hubspot: %w", id, err)
		}
	}
	u.Meta = schemas.Meta{Created: fromMicros(created), LastModified: fromMicros(modified), Version: version}
	return u, seq, nil
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// groupRefs decodes the JSON [[id, displayName, seq], …] of
// qUserByIDGroups.
func groupRefs(js sql.NullString) ([]schemas.GroupRef, error) {
	if !js.Valid {
		return nil, nil
	}
	var rows [][3]any // id, displayName, seq
	if err := json.Unmarshal([]byte(js.String), &rows); err != nil {
		return nil, fmt.Errorf("sqlite: decode groups: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	gs := make([]groupOf, len(rows))
	for i, r := range rows {
		id, _ := r[0].(string)
		display, _ := r[1].(string)
		seq, _ := r[2].(float64) // exact: seqs stay far below 2^53
		gs[i] = groupOf{ref: directGroup(id, display), seq: int64(seq)}
	}
	return sortGroups(gs), nil
}

// groupOf is a groups value with its group's seq, for sorting.
type groupOf struct {
	ref schemas.GroupRef
	seq int64
}

// sortGroups orders a user's groups by display name without regard to case,
// then creation, and returns them.
func sortGroups(gs []groupOf) []schemas.GroupRef {
	slices.SortFunc(gs, func(a, b groupOf) int {
		if c := strings.Compare(schemas.Fold(a.ref.Display), schemas.Fold(b.ref.Display)); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]schemas.GroupRef, len(gs))
	for i, g := range gs {
		out[i] = g.ref
	}
	return out
}

// directGroup is one groups value. $ref is left to the HTTP layer, which
// knows the base URL; memberships are all direct (no nested expansion).
func directGroup(id, display string) schemas.GroupRef {
	return schemas.GroupRef{Value: id, Display: display, Type: "direct"}
}

func getUser(ctx context.Context, rs *readStmts, id string, withGroups bool) (*schemas.User, error) {
	var (
		u   *schemas.User
		err error
	)
	if withGroups {
		var groups sql.NullString
		u, _, err = scanUser(rs.userByIDGroups.QueryRowContext(ctx, id), &groups)
		if err == nil {
			u.Groups, err = groupRefs(groups)
		}
	} else {
		u, _, err = scanUser(rs.userByID.QueryRowContext(ctx, id))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("User", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get user %s: %w", id, err)
	}
	return u, nil
}

// GetUser returns a committed user.
func (s *Store) GetUser(ctx context.Context, id string, withGroups bool) (u *schemas.User, err error) {
	err = s.get(ctx, func(r *reader) error {
		u, err = getUser(ctx, r.st, id, withGroups)
		return err
	})
	return u, err
}

func (t *tx) GetUser(id string, withGroups bool) (*schemas.User, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return getUser(wctx(), &t.st.readStmts, id, withGroups)
}

func (t *tx) CreateUser(u *schemas.User) (err error) {
	if err := t.check(); err != nil {
		return err
	}
	if u.UserName == "" {
		return store.Errorf(store.EINVALID, "userName is required")
	}
	assigned := u.ID == ""
	if assigned {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("sqlite: new user id: %w", err)
		}
		u.ID = id.String()
		defer func() {
			if err != nil {
				u.ID = ""
			}
		}()
	}
	c, err := encodeUser(u)
	if err != nil {
		return err
	}
	now := t.now.UnixMicro()
	r, err := t.st.insertUser.ExecContext(wctx(), u.ID, u.UserName, c.userKey, c.externalID, c.display,
		c.displayKey, c.active, c.doc, nullBytes(c.hubspot), now)
	if err != nil {
		return userConflict(err, u)
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	if err := t.writeEmails(seq, u.Emails); err != nil {
		return err
	}
	u.Meta = schemas.Meta{Created: t.now, LastModified: t.now, Version: 1}
	return nil
}

func nullBytes(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// userConflict maps a uniqueness violation on users to ECONFLICT
// (RFC 7644 §3.3: 409 uniqueness).
func userConflict(err error, u *schemas.User) error {
	switch uniqueViolation(err) {
	case "users.user_name_key":
		return store.Errorf(store.ECONFLICT, "userName %q is already taken", u.UserName)
	case "users.id":
		return store.Errorf(store.ECONFLICT, "a user with id %q already exists", u.ID)
	}
	return fmt.Errorf("sqlite: write user %s: %w", u.ID, err)
}

// writeEmails mirrors u.emails into user_emails, the index behind
// emails.value filters.
func (t *tx) writeEmails(seq int64, emails []schemas.MultiValue) error {
	for i, e := range emails {
		var primary any
		if e.Primary {
			primary = 1
		}
		if _, err := t.st.insertEmail.ExecContext(wctx(), seq, i, nullIfEmpty(schemas.Fold(e.Value)),
			nullIfEmpty(schemas.Fold(e.Type)), primary); err != nil {
			return fmt.Errorf("sqlite: write emails: %w", err)
		}
	}
	return nil
}

func (t *tx) ReplaceUser(u *schemas.User) error {
	if err := t.check(); err != nil {
		return err
	}
	if u.UserName == "" {
		return store.Errorf(store.EINVALID, "userName is required")
	}
	var (
		seq, created, version int64
		hub                   sql.NullString
	)
	err := t.st.userMeta.QueryRowContext(wctx(), u.ID).Scan(&seq, &created, &version, &hub)
	if errors.Is(err, sql.ErrNoRows) {
		return store.NotFound("User", u.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: replace user %s: %w", u.ID, err)
	}
	// The HubSpot extension is the provisioning engine's, not the client's:
	// keep the stored one and report it back.
	var stored *schemas.HubSpotExt
	if hub.Valid {
		stored = new(schemas.HubSpotExt)
		if err := json.Unmarshal([]byte(hub.String), stored); err != nil {
			return fmt.Errorf("sqlite: user %s: decode hubspot: %w", u.ID, err)
		}
	}
	c, err := encodeUser(u)
	if err != nil {
		return err
	}
	if _, err := t.st.updateUser.ExecContext(wctx(), seq, u.UserName, c.userKey, c.externalID, c.display,
		c.displayKey, c.active, c.doc, t.now.UnixMicro()); err != nil {
		return userConflict(err, u)
	}
	if _, err := t.st.deleteEmails.ExecContext(wctx(), seq); err != nil {
		return fmt.Errorf("sqlite: replace user %s: %w", u.ID, err)
	}
	if err := t.writeEmails(seq, u.Emails); err != nil {
		return err
	}
	u.HubSpot = stored
	u.Meta = schemas.Meta{Created: fromMicros(created), LastModified: t.now, Version: version + 1}
	return nil
}

func (t *tx) DeleteUser(id string) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var seq, created, version int64
	var hub sql.NullString
	err := t.st.userMeta.QueryRowContext(wctx(), id).Scan(&seq, &created, &version, &hub)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("User", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete user %s: %w", id, err)
	}
	groupIDs, err := queryStrings(t.st.groupIDsOfUser, id, schemas.MemberUser)
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete user %s: %w", id, err)
	}
	// The groups lose a member: their representation changes, so does
	// their version (RFC 7644 §3.14).
	if _, err := t.st.bumpGroupsOfMember.ExecContext(wctx(), id, schemas.MemberUser, t.now.UnixMicro()); err != nil {
		return nil, fmt.Errorf("sqlite: delete user %s: %w", id, err)
	}
	if _, err := t.st.deleteMemberships.ExecContext(wctx(), id, schemas.MemberUser); err != nil {
		return nil, fmt.Errorf("sqlite: delete user %s: %w", id, err)
	}
	if _, err := t.st.deleteUser.ExecContext(wctx(), seq); err != nil {
		return nil, fmt.Errorf("sqlite: delete user %s: %w", id, err)
	}
	return groupIDs, nil
}

// queryStrings runs a statement returning one text column.
func queryStrings(st *sql.Stmt, args ...any) ([]string, error) {
	rows, err := st.QueryContext(wctx(), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
