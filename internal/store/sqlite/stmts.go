package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Statements of the hot paths, prepared once per connection: on the read
// pool (database/sql re-prepares a *sql.Stmt lazily on each pooled
// connection and keeps it) and on the single writer connection.

// userCols are the users columns scanUser reads, in order.
const userCols = "u.seq, u.id, u.user_name, u.external_id, u.doc, u.hubspot, u.created, u.modified, u.version"

// groupCols are the groups columns scanGroup reads, in order.
const groupCols = "g.seq, g.id, g.display_name, g.external_id, g.doc, g.created, g.modified, g.version"

// memberDisplay is members.display: the user's displayName, else its
// userName; a group's displayName (RFC 7643 §4.2 leaves display to the
// service provider). It expects members m LEFT JOIN users mu, groups mg.
const memberDisplay = "coalesce(mu.display_name, mu.user_name, mg.display_name)"

const memberJoins = `LEFT JOIN users mu ON m.member_type = 'User' AND mu.id = m.member_id
	LEFT JOIN groups mg ON m.member_type = 'Group' AND mg.id = m.member_id`

const (
	qUserByID = `SELECT ` + userCols + ` FROM users u WHERE u.id = ?1`
	// The groups come unsorted (a sort step costs more in SQLite than in
	// Go); sortGroups orders them.
	qUserByIDGroups = `SELECT ` + userCols + `,
	(SELECT json_group_array(json_array(g.id, g.display_name, g.seq))
	   FROM members m JOIN groups g ON g.seq = m.group_seq
	  WHERE m.member_id = u.id AND m.member_type = 'User')
	FROM users u WHERE u.id = ?1`
	qGroupByID        = `SELECT ` + groupCols + ` FROM groups g WHERE g.id = ?1`
	qGroupByIDMembers = `SELECT ` + groupCols + `,
	(SELECT json_group_array(json_array(m.member_id, m.member_type, ` + memberDisplay + `) ORDER BY m.member_id)
	   FROM members m ` + memberJoins + `
	  WHERE m.group_seq = g.seq)
	FROM groups g WHERE g.id = ?1`
	// qGroupsOfUsers loads the groups attribute of a whole page of users in
	// one query; ?1 is a JSON array of user ids. qGroupsOfUser is the same
	// for a page of one user (the lookup by userName), without the cost of
	// json_each.
	qGroupsOfUsers = `SELECT m.member_id, g.id, g.display_name, g.seq
	FROM members m JOIN groups g ON g.seq = m.group_seq
	WHERE m.member_type = 'User' AND m.member_id IN (SELECT value FROM json_each(?1))`
	qGroupsOfUser = `SELECT m.member_id, g.id, g.display_name, g.seq
	FROM members m JOIN groups g ON g.seq = m.group_seq
	WHERE m.member_type = 'User' AND m.member_id = ?1`
	// qMembersOfGroups loads the members of a page of groups; ?1 is a JSON
	// array of group seqs.
	qMembersOfGroups = `SELECT m.group_seq, m.member_id, m.member_type, ` + memberDisplay + `
	FROM members m ` + memberJoins + `
	WHERE m.group_seq IN (SELECT value FROM json_each(?1))
	ORDER BY m.group_seq, m.member_id`
	qCount              = `SELECT n FROM counts WHERE name = ?1`
	qAuditAfter         = `SELECT ` + auditCols + ` FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2`
	qAuditAfterResource = `SELECT ` + auditCols + ` FROM audit WHERE resource_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2`
)

const (
	qInsertUser = `INSERT INTO users (id, user_name, user_name_key, external_id, display_name, display_name_key,
	active, doc, hubspot, created, modified, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 1)`
	qUpdateUser = `UPDATE users SET user_name = ?2, user_name_key = ?3, external_id = ?4, display_name = ?5,
	display_name_key = ?6, active = ?7, doc = ?8, modified = ?9, version = version + 1 WHERE seq = ?1`
	qUserMeta     = `SELECT seq, created, version, hubspot FROM users WHERE id = ?1`
	qDeleteUser   = `DELETE FROM users WHERE seq = ?1`
	qInsertEmail  = `INSERT INTO user_emails (user_seq, pos, value_key, type_key, is_primary) VALUES (?1, ?2, ?3, ?4, ?5)`
	qDeleteEmails = `DELETE FROM user_emails WHERE user_seq = ?1`
	// Memberships of one user, for DeleteUser.
	qGroupIDsOfUser = `SELECT g.id FROM members m JOIN groups g ON g.seq = m.group_seq
	WHERE m.member_id = ?1 AND m.member_type = ?2 ORDER BY g.seq`
	qBumpGroupsOfMember = `UPDATE groups SET version = version + 1, modified = ?3
	WHERE seq IN (SELECT group_seq FROM members WHERE member_id = ?1 AND member_type = ?2)`
	qDeleteMemberships = `DELETE FROM members WHERE member_id = ?1 AND member_type = ?2`

	qInsertGroup = `INSERT INTO groups (id, display_name, display_name_key, external_id, doc, created, modified, version)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1)`
	qUpdateGroup = `UPDATE groups SET display_name = ?2, display_name_key = ?3, external_id = ?4, doc = ?5,
	modified = ?6, version = version + 1 WHERE seq = ?1`
	qGroupMeta   = `SELECT seq, created, version FROM groups WHERE id = ?1`
	qDeleteGroup = `DELETE FROM groups WHERE seq = ?1`
	// qMemberLookup tells what an id names. A user wins over a group with
	// the same id unless ?2 asks for groups first; ids are UUIDs, so this
	// only matters for ids a caller chose.
	qMemberLookup = `SELECT t FROM (
	SELECT 'User' AS t, ?2 <> 'Group' AS pref FROM users WHERE id = ?1
	UNION ALL
	SELECT 'Group', ?2 = 'Group' FROM groups WHERE id = ?1) ORDER BY pref DESC LIMIT 1`
	qMembersOf    = `SELECT member_id, member_type FROM members WHERE group_seq = ?1 ORDER BY member_id`
	qInsertMember = `INSERT INTO members (group_seq, member_id, member_type) VALUES (?1, ?2, ?3)`
	// ?2 is a JSON array of member ids.
	qDeleteMembers = `DELETE FROM members WHERE group_seq = ?1 AND member_id IN (SELECT value FROM json_each(?2))`
	// qBumpUsers bumps the version of users whose groups attribute changed;
	// ?1 is a JSON array of user ids.
	qBumpUsers = `UPDATE users SET version = version + 1, modified = ?2
	WHERE id IN (SELECT value FROM json_each(?1))`

	qInsertAudit = `INSERT INTO audit (at, actor, action, resource_type, resource_id, request_id, changed, detail)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`
)

// readStmts are the prepared reads, valid on the read pool and on the
// writer connection alike.
type readStmts struct {
	userByID, userByIDGroups, groupByID, groupByIDMembers *sql.Stmt
	groupsOfUsers, groupsOfUser, membersOfGroups, count   *sql.Stmt
	auditAfter, auditAfterResource                        *sql.Stmt
}

func (r *readStmts) list() []stmtDef {
	return []stmtDef{
		{&r.userByID, qUserByID}, {&r.userByIDGroups, qUserByIDGroups},
		{&r.groupByID, qGroupByID}, {&r.groupByIDMembers, qGroupByIDMembers},
		{&r.groupsOfUsers, qGroupsOfUsers}, {&r.groupsOfUser, qGroupsOfUser},
		{&r.membersOfGroups, qMembersOfGroups},
		{&r.count, qCount}, {&r.auditAfter, qAuditAfter}, {&r.auditAfterResource, qAuditAfterResource},
	}
}

// writeStmts are prepared on the writer connection.
type writeStmts struct {
	readStmts
	insertUser, updateUser, userMeta, deleteUser, insertEmail, deleteEmails *sql.Stmt
	groupIDsOfUser, bumpGroupsOfMember, deleteMemberships                   *sql.Stmt
	insertGroup, updateGroup, groupMeta, deleteGroup, memberLookup          *sql.Stmt
	membersOf, insertMember, deleteMembers, bumpUsers                       *sql.Stmt
	insertAudit                                                             *sql.Stmt
	// Transaction control of group commit, a few per job.
	begin, commit, rollback, savepoint, release, rollbackTo *sql.Stmt
}

func (w *writeStmts) list() []stmtDef {
	return append(w.readStmts.list(),
		stmtDef{&w.insertUser, qInsertUser}, stmtDef{&w.updateUser, qUpdateUser},
		stmtDef{&w.userMeta, qUserMeta}, stmtDef{&w.deleteUser, qDeleteUser},
		stmtDef{&w.insertEmail, qInsertEmail}, stmtDef{&w.deleteEmails, qDeleteEmails},
		stmtDef{&w.groupIDsOfUser, qGroupIDsOfUser}, stmtDef{&w.bumpGroupsOfMember, qBumpGroupsOfMember},
		stmtDef{&w.deleteMemberships, qDeleteMemberships},
		stmtDef{&w.insertGroup, qInsertGroup}, stmtDef{&w.updateGroup, qUpdateGroup},
		stmtDef{&w.groupMeta, qGroupMeta}, stmtDef{&w.deleteGroup, qDeleteGroup},
		stmtDef{&w.memberLookup, qMemberLookup}, stmtDef{&w.membersOf, qMembersOf},
		stmtDef{&w.insertMember, qInsertMember}, stmtDef{&w.deleteMembers, qDeleteMembers},
		stmtDef{&w.bumpUsers, qBumpUsers}, stmtDef{&w.insertAudit, qInsertAudit},
		stmtDef{&w.begin, "BEGIN IMMEDIATE"}, stmtDef{&w.commit, "COMMIT"}, stmtDef{&w.rollback, "ROLLBACK"},
		stmtDef{&w.savepoint, "SAVEPOINT job"}, stmtDef{&w.release, "RELEASE job"},
		stmtDef{&w.rollbackTo, "ROLLBACK TO job"},
	)
}

type stmtDef struct {
	dst   **sql.Stmt
	query string
}

type preparer interface {
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

func prepareAll(ctx context.Context, p preparer, defs []stmtDef) error {
	for _, d := range defs {
		st, err := p.PrepareContext(ctx, d.query)
		if err != nil {
			closeAll(defs)
			return fmt.Errorf("sqlite: prepare %q: %w", d.query, err)
		}
		*d.dst = st
	}
	return nil
}

func closeAll(defs []stmtDef) error {
	var errs []error
	for _, d := range defs {
		if *d.dst != nil {
			errs = append(errs, (*d.dst).Close())
			*d.dst = nil
		}
	}
	return errors.Join(errs...)
}

func prepareReadStmts(ctx context.Context, p preparer) (*readStmts, error) {
	r := new(readStmts)
	if err := prepareAll(ctx, p, r.list()); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *readStmts) close() error { return closeAll(r.list()) }

func prepareWriteStmts(ctx context.Context, c *sql.Conn) (*writeStmts, error) {
	w := new(writeStmts)
	if err := prepareAll(ctx, c, w.list()); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *writeStmts) close() error { return closeAll(w.list()) }
