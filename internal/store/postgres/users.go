package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// userDoc is the JSON kept in users.doc: the whole User minus what has a
// column of its own or is not the client's to write. The shadowing fields,
// always empty and omitempty, hide the embedded User's fields of the same
// JSON name, so a field added to schemas.User later is stored without
// touching this code.
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
	doc                             []byte
	hubspot                         any // jsonb or NULL
	userKey, nameCmp                string
	externalID, display, displayKey *string
	active                          *bool
}

func encodeUser(u *schemas.User) (*userColumns, error) {
	doc, err := json.Marshal(userDoc{User: u})
	if err != nil {
		return nil, fmt.Errorf("postgres: encode user: %w", err)
	}
	if err := refuseNUL(doc, "user"); err != nil {
		return nil, err
	}
	if err := refuseNULText("user", u.ExternalID, u.UserName, u.DisplayName); err != nil {
		return nil, err
	}
	c := &userColumns{
		doc:        doc,
		userKey:    schemas.Fold(u.UserName),
		nameCmp:    schemas.UsernameFold(u.UserName),
		externalID: nullIfEmpty(u.ExternalID),
		display:    nullIfEmpty(u.DisplayName),
		displayKey: nullIfEmpty(schemas.Fold(u.DisplayName)),
		active:     u.Active,
	}
	if u.HubSpot != nil {
		js, err := json.Marshal(u.HubSpot)
		if err != nil {
			return nil, fmt.Errorf("postgres: encode user: %w", err)
		}
		c.hubspot = js
	}
	return c, nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// userScan reads userCols, and groups_json after them when withGroups.
type userScan struct {
	seq, version      int64
	id, userName      string
	origin            string
	ext               *string
	doc, hub, groups  []byte
	created, modified time.Time
	dest              []any
}

func newUserScan(withGroups bool) *userScan {
	s := new(userScan)
	s.dest = []any{&s.seq, &s.id, &s.userName, &s.ext, &s.doc, &s.hub, &s.created, &s.modified, &s.version, &s.origin}
	if withGroups {
		s.dest = append(s.dest, &s.groups)
	}
	return s
}

func (s *userScan) scan(row pgx.Row) (*schemas.User, int64, error) {
	s.hub, s.groups = nil, nil
	if err := row.Scan(s.dest...); err != nil {
		return nil, 0, err
	}
	u := new(schemas.User)
	if err := json.Unmarshal(s.doc, &userDoc{User: u}); err != nil {
		return nil, 0, fmt.Errorf("postgres: user %s: decode doc: %w", s.id, err)
	}
	u.ID, u.UserName, u.ExternalID = s.id, s.userName, deref(s.ext)
	if s.hub != nil {
		u.HubSpot = new(schemas.HubSpotExt)
		if err := json.Unmarshal(s.hub, u.HubSpot); err != nil {
			return nil, 0, fmt.Errorf("postgres: user %s: decode hubspot: %w", s.id, err)
		}
	}
	if s.groups != nil {
		var err error
		if u.Groups, err = decodeGroups(s.groups); err != nil {
			return nil, 0, fmt.Errorf("postgres: user %s: %w", s.id, err)
		}
	}
	u.Meta = schemas.Meta{Created: s.created.UTC(), LastModified: s.modified.UTC(), Version: s.version}
	u.Origin = s.origin
	return u, s.seq, nil
}

// checkOrigin returns the origin to store for a resource written with
// origin o: o itself, or keep when o is empty. Any other value than the
// schemas.Origin* constants is an EINVALID error.
// decodeGroups decodes users.groups_json, [[id, displayName], …] already in
// the groups attribute's order. $ref is left to the HTTP layer;
// memberships are all direct.
func decodeGroups(js []byte) ([]schemas.GroupRef, error) {
	var pairs [][2]string
	if err := json.Unmarshal(js, &pairs); err != nil {
		return nil, fmt.Errorf("decode groups: %w", err)
	}
	if len(pairs) == 0 {
		return nil, nil
	}
	out := make([]schemas.GroupRef, len(pairs))
	for i, p := range pairs {
		out[i] = schemas.GroupRef{Value: p[0], Display: p[1], Type: "direct"}
	}
	return out, nil
}

func getUser(ctx context.Context, q querier, id string, withGroups bool) (*schemas.User, error) {
	query := qUserByID
	if withGroups {
		query = qUserByIDGroups
	}
	u, _, err := newUserScan(withGroups).scan(q.QueryRow(ctx, query, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("User", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get user %s: %w", id, err)
	}
	return u, nil
}

// GetUser returns a committed user.
func (s *Store) GetUser(ctx context.Context, id string, withGroups bool) (*schemas.User, error) {
	u, err := getUser(ctx, s.pool, id, withGroups)
	return u, clientValueError(err)
}

func (t *tx) GetUser(id string, withGroups bool) (*schemas.User, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return getUser(t.ctx, t.q, id, withGroups)
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
	var seq int64
	err = t.q.QueryRow(t.ctx, qInsertUser, u.ID, u.UserName, c.userKey, c.nameCmp, c.externalID, c.display,
		c.displayKey, c.active, c.doc, c.hubspot, t.now, origin).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		return t.userConflict(0, u, c)
	}
	if err != nil {
		return fmt.Errorf("postgres: create user %s: %w", u.ID, err)
	}
	if err := t.writeEmails(seq, u.Emails); err != nil {
		return err
	}
	u.Meta = schemas.Meta{Created: t.now, LastModified: t.now, Version: 1}
	u.Origin = origin
	return nil
}

// userConflict explains why writing u (at seq, 0 for a new user) would
// break a unique index (RFC 7644 §3.3: 409 uniqueness): another user's
// userName has the same RFC 8265 comparison key or folded form, or (for a
// new user) the id is taken.
func (t *tx) userConflict(seq int64, u *schemas.User, c *userColumns) error {
	var (
		id, name string
		cmp      bool
	)
	err := t.q.QueryRow(t.ctx, qNameHolder, c.nameCmp, c.userKey, seq).Scan(&id, &name, &cmp)
	switch {
	case err == nil && cmp:
		return store.Errorf(store.ECONFLICT, "userName %q is already taken: user %s has the userName %q, "+
			"the same under RFC 8265 comparison (width, case and Unicode normalization do not count)", u.UserName, id, name)
	case err == nil:
		return store.Errorf(store.ECONFLICT, "userName %q is already taken", u.UserName)
	case !errors.Is(err, pgx.ErrNoRows):
		return fmt.Errorf("postgres: write user %s: %w", u.ID, err)
	case seq == 0:
		return store.Errorf(store.ECONFLICT, "a user with id %q already exists", u.ID)
	}
	return nil
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
			emails, *readErr = t.strings(qUserEmails, seq)
		}
		return slices.Contains(emails, v)
	}
}

// writeEmails mirrors u.emails into user_emails, the index behind
// emails.value filters.
func (t *tx) writeEmails(seq int64, emails []schemas.MultiValue) error {
	if len(emails) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for i, e := range emails {
		var primary *bool
		if e.Primary {
			primary = &e.Primary
		}
		b.Queue(qInsertEmail, seq, i, nullIfEmpty(schemas.Fold(e.Value)), nullIfEmpty(schemas.Fold(e.Type)), primary)
	}
	if err := t.q.SendBatch(t.ctx, b).Close(); err != nil {
		return fmt.Errorf("postgres: write emails: %w", err)
	}
	return nil
}

type userMeta struct {
	seq, version     int64
	created          time.Time
	hub              []byte
	display          *string
	userName, origin string
}

// lockUser reads the stored user's columns and locks its row until the
// transaction ends.
func (t *tx) lockUser(id string) (*userMeta, error) {
	var m userMeta
	err := t.q.QueryRow(t.ctx, qUserMeta, id).Scan(&m.seq, &m.created, &m.version, &m.hub, &m.display, &m.userName, &m.origin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("User", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: user %s: %w", id, err)
	}
	return &m, nil
}

func (t *tx) ReplaceUser(u *schemas.User) error {
	if err := t.check(); err != nil {
		return err
	}
	if msg := schemas.CheckName("userName", u.UserName); msg != "" {
		return store.Errorf(store.EINVALID, "%s", msg)
	}
	m, err := t.lockUser(u.ID)
	if err != nil {
		return err
	}
	var readErr error
	err = schemas.PrepareNames(u, t.storedNames(m.seq, m.userName, &readErr))
	if readErr != nil {
		return fmt.Errorf("postgres: replace user %s: %w", u.ID, readErr)
	}
	if err != nil {
		return err
	}
	// The HubSpot extension is the provisioning engine's, not the client's:
	// keep the stored one and report it back.
	var stored *schemas.HubSpotExt
	if m.hub != nil {
		stored = new(schemas.HubSpotExt)
		if err := json.Unmarshal(m.hub, stored); err != nil {
			return fmt.Errorf("postgres: user %s: decode hubspot: %w", u.ID, err)
		}
	}
	origin, err := store.CheckOrigin(u.Origin, m.origin)
	if err != nil {
		return err
	}
	c, err := encodeUser(u)
	if err != nil {
		return err
	}
	// Ask first, for a message naming the holder; the unique indexes
	// still decide when a concurrent write takes the name meanwhile.
	if err := t.userConflict(m.seq, u, c); err != nil {
		return err
	}
	if _, err := t.q.Exec(t.ctx, qUpdateUser, m.seq, u.UserName, c.userKey, c.nameCmp, c.externalID, c.display,
		c.displayKey, c.active, c.doc, t.now, origin); err != nil {
		if uniqueViolation(err) != "" {
			return store.Errorf(store.ECONFLICT, "userName %q is already taken", u.UserName)
		}
		return fmt.Errorf("postgres: replace user %s: %w", u.ID, err)
	}
	if _, err := t.q.Exec(t.ctx, qDeleteEmails, m.seq); err != nil {
		return fmt.Errorf("postgres: replace user %s: %w", u.ID, err)
	}
	if err := t.writeEmails(m.seq, u.Emails); err != nil {
		return err
	}
	// The groups holding the user show its name in members.display: when
	// that name changes, so does their representation, hence their version.
	if memberName(deref(m.display), m.userName) != memberName(u.DisplayName, u.UserName) {
		if _, err := t.q.Exec(t.ctx, qBumpGroupsOfMember, u.ID, schemas.MemberUser, t.now); err != nil {
			return fmt.Errorf("postgres: replace user %s: %w", u.ID, err)
		}
	}
	u.HubSpot, u.Origin = stored, origin
	u.Meta = schemas.Meta{Created: m.created.UTC(), LastModified: t.now, Version: m.version + 1}
	return nil
}

func (t *tx) DeleteUser(id string) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	m, err := t.lockUser(id)
	if err != nil {
		return nil, err
	}
	groupIDs, err := t.strings(qGroupIDsOfUser, id, schemas.MemberUser)
	if err != nil {
		return nil, fmt.Errorf("postgres: delete user %s: %w", id, err)
	}
	// The groups lose a member: their representation changes, so does
	// their version (RFC 7644 §3.14).
	if _, err := t.q.Exec(t.ctx, qBumpGroupsOfMember, id, schemas.MemberUser, t.now); err != nil {
		return nil, fmt.Errorf("postgres: delete user %s: %w", id, err)
	}
	if _, err := t.q.Exec(t.ctx, qDeleteMemberships, id, schemas.MemberUser); err != nil {
		return nil, fmt.Errorf("postgres: delete user %s: %w", id, err)
	}
	if _, err := t.q.Exec(t.ctx, qDeleteUser, m.seq); err != nil {
		return nil, fmt.Errorf("postgres: delete user %s: %w", id, err)
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

// strings runs a query returning one text column.
func (t *tx) strings(query string, args ...any) ([]string, error) {
	rows, err := t.q.Query(t.ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
