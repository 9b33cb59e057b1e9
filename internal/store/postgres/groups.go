package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// groupDoc is the JSON kept in groups.doc: the Group minus its columns and
// members (see userDoc for the shadowing).
type groupDoc struct {
	*schemas.Group
	ID          string    `json:"id,omitempty"`
	ExternalID  string    `json:"externalId,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	Members     *struct{} `json:"members,omitempty"`
}

func scanGroup(row pgx.Row, extra ...any) (*schemas.Group, int64, error) {
	var (
		seq, version        int64
		id, display, origin string
		ext                 *string
		doc                 []byte
		created, modified   time.Time
	)
	dest := append([]any{&seq, &id, &display, &ext, &doc, &created, &modified, &version, &origin}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, 0, err
	}
	g := new(schemas.Group)
	if err := json.Unmarshal(doc, &groupDoc{Group: g}); err != nil {
		return nil, 0, fmt.Errorf("postgres: group %s: decode doc: %w", id, err)
	}
	g.ID, g.DisplayName, g.ExternalID, g.Origin = id, display, deref(ext), origin
	g.Meta = schemas.Meta{Created: created.UTC(), LastModified: modified.UTC(), Version: version}
	return g, seq, nil
}

// memberList decodes the JSON [[id, type, display], …] of qGroupByIDMembers.
func memberList(js []byte) ([]schemas.Member, error) {
	if js == nil {
		return nil, nil
	}
	var rows [][3]*string
	if err := json.Unmarshal(js, &rows); err != nil {
		return nil, fmt.Errorf("postgres: decode members: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out := make([]schemas.Member, len(rows))
	for i, r := range rows {
		out[i] = schemas.Member{Value: deref(r[0]), Type: deref(r[1]), Display: deref(r[2])}
	}
	return out, nil
}

func getGroup(ctx context.Context, q querier, id string, withMembers bool) (*schemas.Group, error) {
	var (
		g   *schemas.Group
		err error
	)
	if withMembers {
		var members []byte
		g, _, err = scanGroup(q.QueryRow(ctx, qGroupByIDMembers, id), &members)
		if err == nil {
			g.Members, err = memberList(members)
			g.MembersLoaded = true
		}
	} else {
		g, _, err = scanGroup(q.QueryRow(ctx, qGroupByID, id))
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("Group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: get group %s: %w", id, err)
	}
	return g, nil
}

// GetGroup returns a committed group.
func (s *Store) GetGroup(ctx context.Context, id string, withMembers bool) (*schemas.Group, error) {
	g, err := getGroup(ctx, s.pool, id, withMembers)
	return g, clientValueError(err)
}

func (t *tx) GetGroup(id string, withMembers bool) (*schemas.Group, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return getGroup(t.ctx, t.q, id, withMembers)
}

// member is a resolved member value.
type member struct{ id, typ string }

// resolveMembers dedupes g.Members by value and tells each member's type
// from what the id names. known holds members already resolved (the
// current members on a replace), which need no lookup.
func (t *tx) resolveMembers(g *schemas.Group, known map[string]string) ([]member, error) {
	out := make([]member, 0, len(g.Members))
	seen := make(map[string]bool, len(g.Members))
	for _, m := range g.Members {
		if m.Value == "" {
			return nil, store.Errorf(store.EINVALID, "a member of group %q has no value", g.DisplayName)
		}
		if seen[m.Value] {
			continue
		}
		seen[m.Value] = true
		if m.Value == g.ID {
			return nil, store.Errorf(store.EINVALID, "group %q cannot be a member of itself", g.DisplayName)
		}
		typ, ok := known[m.Value]
		if !ok {
			hint := schemas.MemberUser
			if strings.EqualFold(m.Type, schemas.MemberGroup) {
				hint = schemas.MemberGroup
			}
			err := t.q.QueryRow(t.ctx, qMemberLookup, m.Value, hint).Scan(&typ)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil, store.Errorf(store.EINVALID, "member %q is neither a user nor a group", m.Value)
			}
			if err != nil {
				return nil, fmt.Errorf("postgres: look up member %s: %w", m.Value, err)
			}
		}
		out = append(out, member{m.Value, typ})
	}
	return out, nil
}

func encodeGroupDoc(g *schemas.Group) ([]byte, error) {
	doc, err := json.Marshal(groupDoc{Group: g})
	if err != nil {
		return nil, fmt.Errorf("postgres: encode group: %w", err)
	}
	if err := refuseNUL(doc, "group"); err != nil {
		return nil, err
	}
	if err := refuseNULText("group", g.ExternalID, g.DisplayName); err != nil {
		return nil, err
	}
	for _, m := range g.Members {
		if err := refuseNULText("group's member list", m.Value); err != nil {
			return nil, err
		}
	}
	return doc, nil
}

func (t *tx) CreateGroup(g *schemas.Group) (err error) {
	if err := t.check(); err != nil {
		return err
	}
	if msg := schemas.CheckName("displayName", g.DisplayName); msg != "" {
		return store.Errorf(store.EINVALID, "%s", msg)
	}
	origin, err := store.CheckOrigin(g.Origin, schemas.OriginSCIM)
	if err != nil {
		return err
	}
	undo, err := store.AssignID(&g.ID)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			undo()
		}
	}()
	members, err := t.resolveMembers(g, nil)
	if err != nil {
		return err
	}
	doc, err := encodeGroupDoc(g)
	if err != nil {
		return err
	}
	var seq int64
	err = t.q.QueryRow(t.ctx, qInsertGroup, g.ID, g.DisplayName, schemas.Fold(g.DisplayName),
		nullIfEmpty(g.ExternalID), doc, t.now, origin).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
		if err := t.groupNameTaken(0, g); err != nil {
			return err
		}
		return store.Errorf(store.ECONFLICT, "a group with id %q already exists", g.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create group %s: %w", g.ID, err)
	}
	if err := t.insertMembers(seq, members); err != nil {
		return err
	}
	// Joining changes each user's groups attribute, hence its version.
	if err := t.refreshUsers(members); err != nil {
		return err
	}
	g.Meta = schemas.Meta{Created: t.now, LastModified: t.now, Version: 1}
	g.Origin = origin
	return t.reloadMembers(g)
}

// groupNameTaken is an ECONFLICT error when another group (not seq) has
// g's displayName without regard to case.
func (t *tx) groupNameTaken(seq int64, g *schemas.Group) error {
	var id string
	err := t.q.QueryRow(t.ctx, qGroupNameHolder, schemas.Fold(g.DisplayName), seq).Scan(&id)
	switch {
	case err == nil:
		return store.Errorf(store.ECONFLICT, "group displayName %q is already taken", g.DisplayName)
	case errors.Is(err, pgx.ErrNoRows):
		return nil
	}
	return fmt.Errorf("postgres: write group %s: %w", g.ID, err)
}

func (t *tx) insertMembers(seq int64, ms []member) error {
	if len(ms) == 0 {
		return nil
	}
	ids, types := make([]string, len(ms)), make([]string, len(ms))
	for i, m := range ms {
		ids[i], types[i] = m.id, m.typ
	}
	if _, err := t.q.Exec(t.ctx, qInsertMembers, seq, ids, types); err != nil {
		return fmt.Errorf("postgres: add members: %w", err)
	}
	return nil
}

// refreshUsers recomputes the groups attribute (users.groups_json) of the
// users among ms from the memberships as they now stand, and bumps their
// version and lastModified: their representation changed.
func (t *tx) refreshUsers(ms []member) error {
	var ids []string
	for _, m := range ms {
		if m.typ == schemas.MemberUser {
			ids = append(ids, m.id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	if _, err := t.q.Exec(t.ctx, qRefreshUsers, ids, t.now); err != nil {
		return fmt.Errorf("postgres: refresh member groups: %w", err)
	}
	return nil
}

// reloadMembers sets g.Members to the stored members, typed and with
// display, in the order GetGroup returns them.
func (t *tx) reloadMembers(g *schemas.Group) error {
	stored, err := getGroup(t.ctx, t.q, g.ID, true)
	if err != nil {
		return err
	}
	g.Members, g.MembersLoaded = stored.Members, true
	return nil
}

type groupMeta struct {
	seq, version int64
	created      time.Time
	name, origin string
}

// lockGroup reads the stored group's columns and locks its row until the
// transaction ends.
func (t *tx) lockGroup(id string) (*groupMeta, error) {
	var m groupMeta
	err := t.q.QueryRow(t.ctx, qGroupMeta, id).Scan(&m.seq, &m.created, &m.version, &m.name, &m.origin)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.NotFound("Group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: group %s: %w", id, err)
	}
	return &m, nil
}

func (t *tx) ReplaceGroup(g *schemas.Group) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if msg := schemas.CheckName("displayName", g.DisplayName); msg != "" {
		return nil, store.Errorf(store.EINVALID, "%s", msg)
	}
	m, err := t.lockGroup(g.ID)
	if err != nil {
		return nil, err
	}
	origin, err := store.CheckOrigin(g.Origin, m.origin)
	if err != nil {
		return nil, err
	}
	current, err := t.membersOf(m.seq)
	if err != nil {
		return nil, err
	}
	known := make(map[string]string, len(current))
	for _, c := range current {
		known[c.id] = c.typ
	}
	want, err := t.resolveMembers(g, known)
	if err != nil {
		return nil, err
	}
	doc, err := encodeGroupDoc(g)
	if err != nil {
		return nil, err
	}
	if err := t.groupNameTaken(m.seq, g); err != nil {
		return nil, err
	}
	if _, err := t.q.Exec(t.ctx, qUpdateGroup, m.seq, g.DisplayName, schemas.Fold(g.DisplayName),
		nullIfEmpty(g.ExternalID), doc, t.now, origin); err != nil {
		if uniqueViolation(err) != "" {
			return nil, store.Errorf(store.ECONFLICT, "group displayName %q is already taken", g.DisplayName)
		}
		return nil, fmt.Errorf("postgres: replace group %s: %w", g.ID, err)
	}

	// Write only the difference: large groups are replaced whole by
	// identity providers for a one-member change.
	wanted := make(map[string]bool, len(want))
	var added, removed []member
	for _, w := range want {
		wanted[w.id] = true
		if _, ok := known[w.id]; !ok {
			added = append(added, w)
		}
	}
	var removedIDs []string
	for _, c := range current {
		if !wanted[c.id] {
			removed = append(removed, c)
			removedIDs = append(removedIDs, c.id)
		}
	}
	if len(removedIDs) > 0 {
		if _, err := t.q.Exec(t.ctx, qDeleteMembers, m.seq, removedIDs); err != nil {
			return nil, fmt.Errorf("postgres: remove members: %w", err)
		}
	}
	if err := t.insertMembers(m.seq, added); err != nil {
		return nil, err
	}
	changed := append(added, removed...)
	if g.DisplayName != m.name {
		// A rename changes the groups attribute of every user member,
		// staying ones included, and members.display in the groups
		// holding this one.
		if _, err := t.q.Exec(t.ctx, qRefreshMemberUsers, m.seq, t.now); err != nil {
			return nil, fmt.Errorf("postgres: replace group %s: %w", g.ID, err)
		}
		if err := t.refreshUsers(removed); err != nil {
			return nil, err
		}
		if _, err := t.q.Exec(t.ctx, qBumpGroupsOfMember, g.ID, schemas.MemberGroup, t.now); err != nil {
			return nil, fmt.Errorf("postgres: replace group %s: %w", g.ID, err)
		}
	} else if err := t.refreshUsers(changed); err != nil {
		return nil, err
	}
	g.Meta = schemas.Meta{Created: m.created.UTC(), LastModified: t.now, Version: m.version + 1}
	g.Origin = origin
	if err := t.reloadMembers(g); err != nil {
		return nil, err
	}
	ids := make([]string, len(changed))
	for i, c := range changed {
		ids[i] = c.id
	}
	return ids, nil
}

// membersOf lists a group's members in id order.
func (t *tx) membersOf(seq int64) ([]member, error) {
	rows, err := t.q.Query(t.ctx, qMembersOf, seq)
	if err != nil {
		return nil, fmt.Errorf("postgres: read members: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (member, error) {
		var m member
		err := r.Scan(&m.id, &m.typ)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: read members: %w", err)
	}
	return out, nil
}

func (t *tx) DeleteGroup(id string) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	m, err := t.lockGroup(id)
	if err != nil {
		return nil, err
	}
	former, err := t.membersOf(m.seq)
	if err != nil {
		return nil, err
	}
	// Groups that had this group as a member lose it.
	if _, err := t.q.Exec(t.ctx, qBumpGroupsOfMember, id, schemas.MemberGroup, t.now); err != nil {
		return nil, fmt.Errorf("postgres: delete group %s: %w", id, err)
	}
	if _, err := t.q.Exec(t.ctx, qDeleteMemberships, id, schemas.MemberGroup); err != nil {
		return nil, fmt.Errorf("postgres: delete group %s: %w", id, err)
	}
	// ON DELETE CASCADE removes the group's own member rows.
	if _, err := t.q.Exec(t.ctx, qDeleteGroup, m.seq); err != nil {
		return nil, fmt.Errorf("postgres: delete group %s: %w", id, err)
	}
	// After the delete: the users' groups are recomputed without it.
	if err := t.refreshUsers(former); err != nil {
		return nil, err
	}
	ids := make([]string, len(former))
	for i, f := range former {
		ids[i] = f.id
	}
	return ids, nil
}
