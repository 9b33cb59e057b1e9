package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// groupDoc is the JSON kept in groups.doc: the Group minus its columns and
// members (see userDoc for the shadowing). Today that is "{}"; it keeps
// attributes a later schema adds.
type groupDoc struct {
	*schemas.Group
	ID          string    `json:"id,omitempty"`
	ExternalID  string    `json:"externalId,omitempty"`
	DisplayName string    `json:"displayName,omitempty"`
	Members     *struct{} `json:"members,omitempty"`
}

func scanGroup(sc scanner, extra ...any) (*schemas.Group, int64, error) {
	var (
		seq, created, modified, version int64
		id, display, doc, origin        string
		ext                             sql.NullString
	)
	dest := append([]any{&seq, &id, &display, &ext, &doc, &created, &modified, &version, &origin}, extra...)
	if err := sc.Scan(dest...); err != nil {
		return nil, 0, err
	}
	g := new(schemas.Group)
	if err := json.Unmarshal([]byte(doc), &groupDoc{Group: g}); err != nil {
		return nil, 0, fmt.Errorf("sqlite: group %s: decode doc: %w", id, err)
	}
	g.ID, g.DisplayName, g.ExternalID, g.Origin = id, display, ext.String, origin
	g.Meta = schemas.Meta{Created: fromMicros(created), LastModified: fromMicros(modified), Version: version}
	return g, seq, nil
}

// memberList decodes the JSON [[id, type, display], …] of qGroupByIDMembers.
func memberList(js sql.NullString) ([]schemas.Member, error) {
	if !js.Valid {
		return nil, nil
	}
	var rows [][3]*string
	if err := json.Unmarshal([]byte(js.String), &rows); err != nil {
		return nil, fmt.Errorf("sqlite: decode members: %w", err)
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

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func getGroup(ctx context.Context, rs *readStmts, id string, withMembers bool) (*schemas.Group, error) {
	var (
		g   *schemas.Group
		err error
	)
	if withMembers {
		var members sql.NullString
		g, _, err = scanGroup(rs.groupByIDMembers.QueryRowContext(ctx, id), &members)
		if err == nil {
			g.Members, err = memberList(members)
			g.MembersLoaded = true
		}
	} else {
		g, _, err = scanGroup(rs.groupByID.QueryRowContext(ctx, id))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("Group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: get group %s: %w", id, err)
	}
	return g, nil
}

// GetGroup returns a committed group.
func (s *Store) GetGroup(ctx context.Context, id string, withMembers bool) (g *schemas.Group, err error) {
	err = s.get(ctx, func(r *reader) error {
		g, err = getGroup(ctx, r.st, id, withMembers)
		return err
	})
	return g, err
}

func (t *tx) GetGroup(id string, withMembers bool) (*schemas.Group, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	return getGroup(wctx(), &t.st.readStmts, id, withMembers)
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
			err := t.st.memberLookup.QueryRowContext(wctx(), m.Value, hint).Scan(&typ)
			if errors.Is(err, sql.ErrNoRows) {
				return nil, store.Errorf(store.EINVALID, "member %q is neither a user nor a group", m.Value)
			}
			if err != nil {
				return nil, fmt.Errorf("sqlite: look up member %s: %w", m.Value, err)
			}
		}
		out = append(out, member{m.Value, typ})
	}
	return out, nil
}

func encodeGroupDoc(g *schemas.Group) (string, error) {
	doc, err := json.Marshal(groupDoc{Group: g})
	if err != nil {
		return "", fmt.Errorf("sqlite: encode group: %w", err)
	}
	return string(doc), nil
}

func groupConflict(err error, g *schemas.Group) error {
	switch uniqueViolation(err) {
	case "groups.display_name_key":
		return store.Errorf(store.ECONFLICT, "group displayName %q is already taken", g.DisplayName)
	case "groups.id":
		return store.Errorf(store.ECONFLICT, "a group with id %q already exists", g.ID)
	}
	return fmt.Errorf("sqlite: write group %s: %w", g.ID, err)
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
	r, err := t.st.insertGroup.ExecContext(wctx(), g.ID, g.DisplayName, schemas.Fold(g.DisplayName),
		nullIfEmpty(g.ExternalID), doc, t.now.UnixMicro(), origin)
	if err != nil {
		return groupConflict(err, g)
	}
	seq, err := r.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create group: %w", err)
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

func (t *tx) insertMembers(seq int64, ms []member) error {
	for _, m := range ms {
		if _, err := t.st.insertMember.ExecContext(wctx(), seq, m.id, m.typ); err != nil {
			return fmt.Errorf("sqlite: add member %s: %w", m.id, err)
		}
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
	js, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	if _, err := t.st.refreshUsers.ExecContext(wctx(), string(js), t.now.UnixMicro()); err != nil {
		return fmt.Errorf("sqlite: refresh member groups: %w", err)
	}
	return nil
}

// reloadMembers sets g.Members to the stored members, typed and with
// display, in the order GetGroup returns them.
func (t *tx) reloadMembers(g *schemas.Group) error {
	stored, err := getGroup(wctx(), &t.st.readStmts, g.ID, true)
	if err != nil {
		return err
	}
	g.Members, g.MembersLoaded = stored.Members, true
	return nil
}

func (t *tx) ReplaceGroup(g *schemas.Group) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if msg := schemas.CheckName("displayName", g.DisplayName); msg != "" {
		return nil, store.Errorf(store.EINVALID, "%s", msg)
	}
	var (
		seq, created, version int64
		oldName, oldOrigin    string
	)
	err := t.st.groupMeta.QueryRowContext(wctx(), g.ID).Scan(&seq, &created, &version, &oldName, &oldOrigin)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("Group", g.ID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: replace group %s: %w", g.ID, err)
	}
	// As for users: a group written without an origin keeps its own.
	origin, err := store.CheckOrigin(g.Origin, oldOrigin)
	if err != nil {
		return nil, err
	}
	current, err := t.membersOf(seq)
	if err != nil {
		return nil, err
	}
	known := make(map[string]string, len(current))
	for _, m := range current {
		known[m.id] = m.typ
	}
	want, err := t.resolveMembers(g, known)
	if err != nil {
		return nil, err
	}
	doc, err := encodeGroupDoc(g)
	if err != nil {
		return nil, err
	}
	if _, err := t.st.updateGroup.ExecContext(wctx(), seq, g.DisplayName, schemas.Fold(g.DisplayName),
		nullIfEmpty(g.ExternalID), doc, t.now.UnixMicro(), origin); err != nil {
		return nil, groupConflict(err, g)
	}

	// Write only the difference: large groups (tens of thousands of members)
	// are replaced whole by identity providers for a one-member change.
	wanted := make(map[string]bool, len(want))
	var added, removed []member
	for _, m := range want {
		wanted[m.id] = true
		if _, ok := known[m.id]; !ok {
			added = append(added, m)
		}
	}
	var removedIDs []string
	for _, m := range current {
		if !wanted[m.id] {
			removed = append(removed, m)
			removedIDs = append(removedIDs, m.id)
		}
	}
	if len(removedIDs) > 0 {
		js, err := json.Marshal(removedIDs)
		if err != nil {
			return nil, err
		}
		if _, err := t.st.deleteMembers.ExecContext(wctx(), seq, string(js)); err != nil {
			return nil, fmt.Errorf("sqlite: remove members: %w", err)
		}
	}
	if err := t.insertMembers(seq, added); err != nil {
		return nil, err
	}
	changed := append(added, removed...)
	if g.DisplayName != oldName {
		// A rename (even of case alone: display shows it) changes the
		// groups attribute of every user member, staying ones included,
		// and members.display in the groups holding this one.
		if _, err := t.st.refreshMemberUsers.ExecContext(wctx(), seq, t.now.UnixMicro()); err != nil {
			return nil, fmt.Errorf("sqlite: replace group %s: %w", g.ID, err)
		}
		if err := t.refreshUsers(removed); err != nil {
			return nil, err
		}
		if _, err := t.st.bumpGroupsOfMember.ExecContext(wctx(), g.ID, schemas.MemberGroup, t.now.UnixMicro()); err != nil {
			return nil, fmt.Errorf("sqlite: replace group %s: %w", g.ID, err)
		}
	} else if err := t.refreshUsers(changed); err != nil {
		return nil, err
	}
	g.Meta = schemas.Meta{Created: fromMicros(created), LastModified: t.now, Version: version + 1}
	g.Origin = origin
	if err := t.reloadMembers(g); err != nil {
		return nil, err
	}
	ids := make([]string, len(changed))
	for i, m := range changed {
		ids[i] = m.id
	}
	return ids, nil
}

// membersOf lists a group's members in id order.
func (t *tx) membersOf(seq int64) ([]member, error) {
	rows, err := t.st.membersOf.QueryContext(wctx(), seq)
	if err != nil {
		return nil, fmt.Errorf("sqlite: read members: %w", err)
	}
	defer rows.Close()
	var out []member
	for rows.Next() {
		var m member
		if err := rows.Scan(&m.id, &m.typ); err != nil {
			return nil, fmt.Errorf("sqlite: read members: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (t *tx) DeleteGroup(id string) ([]string, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var seq, created, version int64
	var name, origin string
	err := t.st.groupMeta.QueryRowContext(wctx(), id).Scan(&seq, &created, &version, &name, &origin)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, store.NotFound("Group", id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: delete group %s: %w", id, err)
	}
	former, err := t.membersOf(seq)
	if err != nil {
		return nil, err
	}
	// Groups that had this group as a member lose it.
	if _, err := t.st.bumpGroupsOfMember.ExecContext(wctx(), id, schemas.MemberGroup, t.now.UnixMicro()); err != nil {
		return nil, fmt.Errorf("sqlite: delete group %s: %w", id, err)
	}
	if _, err := t.st.deleteMemberships.ExecContext(wctx(), id, schemas.MemberGroup); err != nil {
		return nil, fmt.Errorf("sqlite: delete group %s: %w", id, err)
	}
	// ON DELETE CASCADE removes the group's own member rows.
	if _, err := t.st.deleteGroup.ExecContext(wctx(), seq); err != nil {
		return nil, fmt.Errorf("sqlite: delete group %s: %w", id, err)
	}
	// After the delete: the users' groups are recomputed without it.
	if err := t.refreshUsers(former); err != nil {
		return nil, err
	}
	ids := make([]string, len(former))
	for i, m := range former {
		ids[i] = m.id
	}
	return ids, nil
}
