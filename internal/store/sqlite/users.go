package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

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
	// nameCmp is the RFC 8265 comparison key of the userName (migration
	// 0007, checkTaken).
	nameCmp string
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
		nameCmp:    schemas.UsernameFold(u.UserName),
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

// userScan reads userCols, and groups_json after them when withGroups, into
// Users. One userScan serves every row of a page, its scan destinations
// allocated once. For *sql.Rows the JSON columns are read as sql.RawBytes:
// database/sql copies them into one buffer it reuses from row to row, where
// a []byte or string destination would allocate a copy per column and row.
// *sql.Row refuses RawBytes, so a single-row scan uses []byte.
type userScan struct {
	seq, created, modified, version int64
	id, userName                    string
	ext                             sql.NullString
	doc, hub, groups                sql.RawBytes // nil for NULL
	origin                          sql.RawBytes
	dest                            []any
}

func newUserScan(withGroups, rows bool) *userScan {
	s := new(userScan)
	s.dest = []any{&s.seq, &s.id, &s.userName, &s.ext, &s.doc, &s.hub, &s.created, &s.modified, &s.version, &s.origin}
	if withGroups {
		s.dest = append(s.dest, &s.groups)
	}
	if !rows {
		for i, d := range s.dest {
			if rb, ok := d.(*sql.RawBytes); ok {
				s.dest[i] = (*[]byte)(rb)
			}
		}
	}
	return s
}

// scan reads one row. The groups attribute is filled when the scan
// includes groups_json. The RawBytes are only valid until the next row:
// everything kept is copied out (json.Unmarshal and string conversions
// copy).
func (s *userScan) scan(sc scanner) (*schemas.User, int64, error) {
	if err := sc.Scan(s.dest...); err != nil {
		return nil, 0, err
	}
	u := new(schemas.User)
	if !decodeUserDocFast(s.doc, u) {
		*u = schemas.User{}
		if err := json.Unmarshal(s.doc, &userDoc{User: u}); err != nil {
			return nil, 0, fmt.Errorf("sqlite: user %s: decode doc: %w", s.id, err)
		}
	}
	u.ID, u.UserName, u.ExternalID = s.id, s.userName, s.ext.String
	if s.hub != nil {
		u.HubSpot = new(schemas.HubSpotExt)
		if err := json.Unmarshal(s.hub, u.HubSpot); err != nil {
			return nil, 0, fmt.Errorf("sqlite: user %s: decode hubspot: %w", s.id, err)
		}
	}
	if s.groups != nil {
		var err error
		if u.Groups, err = decodeGroups(s.groups); err != nil {
			return nil, 0, fmt.Errorf("sqlite: user %s: %w", s.id, err)
		}
	}
	u.Meta = schemas.Meta{Created: fromMicros(s.created), LastModified: fromMicros(s.modified), Version: s.version}
	u.Origin = originString(s.origin)
	return u, s.seq, nil
}

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// originString converts a stored origin without allocating for the two
// values every row holds.
func originString(b []byte) string {
	switch string(b) { // no allocation: the conversion is only compared
	case schemas.OriginSCIM:
		return schemas.OriginSCIM
	case schemas.OriginDirectory:
		return schemas.OriginDirectory
	}
	return string(b)
}

// checkOrigin returns the origin to store for a resource written with
// origin o: o itself, or keep (the stored origin, or OriginSCIM for a new
// resource) when o is empty. Any other value than the schemas.Origin*
// constants is an EINVALID error.
// directGroup is one groups value. $ref is left to the HTTP layer, which
// knows the base URL; memberships are all direct (no nested expansion).
func directGroup(id, display string) schemas.GroupRef {
	return schemas.GroupRef{Value: id, Display: display, Type: "direct"}
}

// decodeGroups decodes users.groups_json, [[id, displayName], …] already in
// the groups attribute's order (see userGroupsJSON).
func decodeGroups(js []byte) ([]schemas.GroupRef, error) {
	if gs, ok := decodeGroupsFast(js); ok {
		return gs, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal(js, &pairs); err != nil {
		return nil, fmt.Errorf("decode groups: %w", err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make([]schemas.GroupRef, len(pairs))
	for i, p := range pairs {
		out[i] = directGroup(p[0], p[1])
	}
	return out, nil
}

// decodeGroupsFast decodes groups_json as SQLite's json_array writes it
// (no whitespace) when no string holds an escape, which is every group id
// and nearly every name: each string is then its bytes between quotes.
// Anything else reports false, for encoding/json to decode.
func decodeGroupsFast(js []byte) ([]schemas.GroupRef, bool) {
	if len(js) < 2 || js[0] != '[' || js[len(js)-1] != ']' {
		return nil, false
	}
	out := make([]schemas.GroupRef, 0, bytes.Count(js, []byte("],["))+1)
	i := 1
	str := func() (string, bool) {
		if i >= len(js) || js[i] != '"' {
			return "", false
		}
		end := bytes.IndexByte(js[i+1:], '"')
		if end < 0 {
			return "", false
		}
		v := js[i+1 : i+1+end]
		if bytes.IndexByte(v, '\\') >= 0 {
			return "", false
		}
		i += end + 2
		return string(v), true
	}
	for i < len(js)-1 {
		if len(out) > 0 {
			if js[i] != ',' {
				return nil, false
			}
			i++
		}
		if i >= len(js) || js[i] != '[' {
			return nil, false
		}
		i++
		id, ok := str()
		if !ok || i >= len(js) || js[i] != ',' {
			return nil, false
		}
		i++
		name, ok := str()
		if !ok || i >= len(js) || js[i] != ']' {
			return nil, false
		}
		i++
		out = append(out, directGroup(id, name))
	}
	if i != len(js)-1 { // the last ']' closed an element, not the array
		return nil, false
	}
	if len(out) == 0 {
		return nil, true
	}
	return out, true
}

func getUser(ctx context.Context, rs *readStmts, id string, withGroups bool) (*schemas.User, error) {
	st := rs.userByID
	if withGroups {
		st = rs.userByIDGroups
	}
	u, _, err := newUserScan(withGroups, false).scan(st.QueryRowContext(ctx, id))
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
	if err := schemas.PrepareNames(u, nil); err != nil {
		return err
	}
	origin, err := store.CheckOrigin(u.Origin, schemas.OriginSCIM)
	if err != nil {
		return err
	}
	undo, err := store.AssignID(&u.ID)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	c, err := encodeUser(u)
	if err != nil {
		return err
	}
	now := t.now.UnixMicro()
	r, err := t.st.insertUser.ExecContext(wctx(), u.ID, u.UserName, c.userKey, c.externalID, c.display,
		c.displayKey, c.active, c.doc, nullBytes(c.hubspot), now, origin, c.nameCmp)
	if err != nil {
		return userConflict(err, u)
	}
	if err := t.checkTaken(r, 0, u, c); err != nil {
		return err
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create user: %w", err)
	}
	if err := t.writeEmails(seq, u.Emails); err != nil {
		return err
	}
	u.Meta = schemas.Meta{Created: t.now, LastModified: t.now, Version: 1}
	u.Origin = origin
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

// checkTaken turns a user write that wrote no row into ECONFLICT (RFC 7644
// §3.3: 409 uniqueness): qInsertUser and qUpdateUser write nothing when
// another user's userName has the same RFC 8265 comparison key, as names
// differing only in width, case or normalization name one person. seq is
// the written user's row (0 for a new user). An update may keep the key
// its row holds, so users that collided before the keys existed
// (migration 0007) can still be written as long as they keep their names.
//
// The index behind the check is not UNIQUE (see migration 0007). The check
// is part of the write's statement, on the store's single writer
// connection, so no other write can come between them; a driver with
// several writers would need a unique index or a lock instead.
func (t *tx) checkTaken(r sql.Result, seq int64, u *schemas.User, c *userColumns) error {
	n, err := r.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: write user %s: %w", u.ID, err)
	}
	if n > 0 {
		return nil
	}
	var id, name string
	err = t.st.nameTaken.QueryRowContext(wctx(), c.nameCmp, seq).Scan(&id, &name)
	if err != nil {
		return fmt.Errorf("sqlite: write user %s: no row written, and no user holds its userName key: %w", u.ID, err)
	}
	return store.Errorf(store.ECONFLICT, "userName %q is already taken: user %s has the userName %q, "+
		"the same under RFC 8265 comparison (width, case and Unicode normalization do not count)", u.UserName, id, name)
}

// storedNames tells PrepareNames which values the stored user seq already
// holds; its emails are read once, on first use, and *readErr reports a
// failure to read them.
func (t *tx) storedNames(seq int64, userName string, readErr *error) func(attr, v string) bool {
	var emails []string
	read := false
	return func(attr, v string) bool {
		if attr == "userName" {
			return v == userName
		}
		if !read {
			read = true
			emails, *readErr = queryStrings(t.st.userEmails, seq)
		}
		return slices.Contains(emails, v)
	}
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
	if msg := schemas.CheckName("userName", u.UserName); msg != "" {
		return store.Errorf(store.EINVALID, "%s", msg)
	}
	var (
		seq, created, version  int64
		hub, oldDisplay        sql.NullString
		oldUserName, oldOrigin string
	)
	err := t.st.userMeta.QueryRowContext(wctx(), u.ID).Scan(&seq, &created, &version, &hub, &oldDisplay, &oldUserName,
		&oldOrigin)
	if errors.Is(err, sql.ErrNoRows) {
		return store.NotFound("User", u.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: replace user %s: %w", u.ID, err)
	}
	var readErr error
	err = schemas.PrepareNames(u, t.storedNames(seq, oldUserName, &readErr))
	if readErr != nil {
		return fmt.Errorf("sqlite: replace user %s: %w", u.ID, readErr)
	}
	if err != nil {
		return err
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
	// SCIM PUT and PATCH build the user without an origin: keep the
	// stored one.
	origin, err := store.CheckOrigin(u.Origin, oldOrigin)
	if err != nil {
		return err
	}
	c, err := encodeUser(u)
	if err != nil {
		return err
	}
	r, err := t.st.updateUser.ExecContext(wctx(), seq, u.UserName, c.userKey, c.externalID, c.display,
		c.displayKey, c.active, c.doc, t.now.UnixMicro(), origin, c.nameCmp)
	if err != nil {
		return userConflict(err, u)
	}
	if err := t.checkTaken(r, seq, u, c); err != nil {
		return err
	}
	if _, err := t.st.deleteEmails.ExecContext(wctx(), seq); err != nil {
		return fmt.Errorf("sqlite: replace user %s: %w", u.ID, err)
	}
	if err := t.writeEmails(seq, u.Emails); err != nil {
		return err
	}
	// The groups holding the user show its name in members.display
	// (memberDisplay): when that name changes, so does their
	// representation, hence their version.
	if memberName(oldDisplay.String, oldUserName) != memberName(u.DisplayName, u.UserName) {
		if _, err := t.st.bumpGroupsOfMember.ExecContext(wctx(), u.ID, schemas.MemberUser, t.now.UnixMicro()); err != nil {
			return fmt.Errorf("sqlite: replace user %s: %w", u.ID, err)
		}
	}
	u.HubSpot, u.Origin = stored, origin
	u.Meta = schemas.Meta{Created: fromMicros(created), LastModified: t.now, Version: version + 1}
	return nil
}

func (t *tx) DeleteUser(id string) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var seq, created, version int64
	var hub, display sql.NullString
	var userName, origin string
	err := t.st.userMeta.QueryRowContext(wctx(), id).Scan(&seq, &created, &version, &hub, &display, &userName, &origin)
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

// memberName is a user's members.display in its groups: the displayName,
// else the userName (memberDisplay in SQL).
func memberName(displayName, userName string) string {
	if displayName != "" {
		return displayName
	}
	return userName
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
