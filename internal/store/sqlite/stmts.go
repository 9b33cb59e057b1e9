package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/internal/store/sqlfilter"
)

// Statements of the hot paths, prepared once per connection: on the read
// pool (database/sql re-prepares a *sql.Stmt lazily on each pooled
// connection and keeps it) and on the single writer connection.

// userCols are the users columns scanUser reads, in order.
const userCols = "u.seq, u.id, u.user_name, u.external_id, u.doc, u.hubspot, u.created, u.modified, u.version, u.origin"

// groupCols are the groups columns scanGroup reads, in order.
const groupCols = "g.seq, g.id, g.display_name, g.external_id, g.doc, g.created, g.modified, g.version, g.origin"

// userGroupsJSON is users.groups_json computed from the memberships of the
// user being updated: [[group id, displayName], …] ordered as the groups
// attribute is (sortGroups: folded displayName, then creation), NULL for
// none. display_name_key holds schemas.Fold of the name and SQLite compares
// text byte-wise, as strings.Compare does, so the orders agree.
const userGroupsJSON = `nullif((SELECT json_group_array(json_array(g.id, g.display_name) ORDER BY g.display_name_key, g.seq)
	   FROM members m JOIN groups g ON g.seq = m.group_seq
	  WHERE m.member_id = users.id AND m.member_type = 'User'), '[]')`

// memberDisplay is members.display (sqlfilter.MemberDisplay). It expects
// members m LEFT JOIN users mu, groups mg.
const memberDisplay = sqlfilter.MemberDisplay

const memberJoins = `LEFT JOIN users mu ON m.member_type = 'User' AND mu.id = m.member_id
	LEFT JOIN groups mg ON m.member_type = 'Group' AND mg.id = m.member_id`

const (
	qUserByID = `SELECT ` + userCols + ` FROM users u WHERE u.id = ?1`
	// The groups attribute is kept in the user's row (groups_json, see
	// migration 0003 and userGroupsJSON).
	qUserByIDGroups   = `SELECT ` + userCols + `, u.groups_json FROM users u WHERE u.id = ?1`
	qGroupByID        = `SELECT ` + groupCols + ` FROM groups g WHERE g.id = ?1`
	qGroupByIDMembers = `SELECT ` + groupCols + `,
	(SELECT json_group_array(json_array(m.member_id, m.member_type, ` + memberDisplay + `) ORDER BY m.member_id)
	   FROM members m ` + memberJoins + `
	  WHERE m.group_seq = g.seq)
	FROM groups g WHERE g.id = ?1`
	// qMembersOfGroups loads the members of a page of groups; ?1 is a JSON
	// array of group seqs.
	qMembersOfGroups = `SELECT m.group_seq, m.member_id, m.member_type, ` + memberDisplay + `
	FROM members m ` + memberJoins + `
	WHERE m.group_seq IN (SELECT value FROM json_each(?1))
	ORDER BY m.group_seq, m.member_id`
	// qScanUsers and qScanGroups read one page of ScanUsers / ScanGroups:
	// the rows after seq ?1, at most ?2 of them, a range of the primary key.
	qScanUsers = `SELECT ` + userCols + `, u.groups_json FROM users u WHERE u.seq > ?1 ORDER BY u.seq LIMIT ?2`
	// The member count lets ScanGroups end a page early when its groups
	// hold many members (a range count of the members primary key).
	// ?3 asks for it; CASE leaves the subquery unevaluated otherwise.
	qScanGroups = `SELECT ` + groupCols + `,
	CASE WHEN ?3 THEN (SELECT count(*) FROM members m WHERE m.group_seq = g.seq) ELSE 0 END
	FROM groups g WHERE g.seq > ?1 ORDER BY g.seq LIMIT ?2`
	// qScanMembers loads the members of the groups after seq ?1 up to seq ?2.
	qScanMembers = `SELECT m.group_seq, m.member_id, m.member_type, ` + memberDisplay + `
	FROM members m ` + memberJoins + `
	WHERE m.group_seq > ?1 AND m.group_seq <= ?2
	ORDER BY m.group_seq, m.member_id`
	qCount              = `SELECT n FROM counts WHERE name = ?1`
	qAuditAfter         = `SELECT ` + auditCols + ` FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2`
	qAuditAfterResource = `SELECT ` + auditCols + ` FROM audit WHERE resource_id = ?3 AND seq > ?1 ORDER BY seq LIMIT ?2`
)

const (
	// qInsertUser and qUpdateUser write nothing when another user's
	// userName has the same RFC 8265 key (migration 0007): the uniqueness
	// check rides on the write, an index probe, and a write that changed
	// no row is the conflict (see checkTaken). An update may keep the key
	// the row already holds (user_name_cmp in its WHERE is the old value).
	qInsertUser = `INSERT INTO users (id, user_name, user_name_key, external_id, display_name, display_name_key,
	active, doc, hubspot, created, modified, version, origin, user_name_cmp)
	SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10, 1, ?11, ?12
	WHERE NOT EXISTS (SELECT 1 FROM users WHERE user_name_cmp = ?12)`
	qUpdateUser = `UPDATE users SET user_name = ?2, user_name_key = ?3, external_id = ?4, display_name = ?5,
	display_name_key = ?6, active = ?7, doc = ?8, modified = ?9, version = version + 1, origin = ?10,
	user_name_cmp = ?11
	WHERE seq = ?1 AND (user_name_cmp = ?11 OR NOT EXISTS (SELECT 1 FROM users o WHERE o.user_name_cmp = ?11))`
	// qNameTaken names the first other user (seq <> ?2) whose userName has
	// the key ?1, for the message of a refused write.
	qNameTaken = `SELECT id, user_name FROM users WHERE user_name_cmp = ?1 AND seq <> ?2 ORDER BY seq LIMIT 1`
	// qUserEmails reads a user's stored email values, only when a value it
	// is written with is refused (schemas.PrepareNames).
	qUserEmails   = `SELECT json_extract(value, '$."value"') FROM users, json_each(users.doc, '$."emails"') WHERE seq = ?1`
	qUserMeta     = `SELECT seq, created, version, hubspot, display_name, user_name, origin FROM users WHERE id = ?1`
	qDeleteUser   = `DELETE FROM users WHERE seq = ?1`
	qInsertEmail  = `INSERT INTO user_emails (user_seq, pos, value_key, type_key, is_primary) VALUES (?1, ?2, ?3, ?4, ?5)`
	qDeleteEmails = `DELETE FROM user_emails WHERE user_seq = ?1`
	// Memberships of one user, for DeleteUser.
	qGroupIDsOfUser = `SELECT g.id FROM members m JOIN groups g ON g.seq = m.group_seq
	WHERE m.member_id = ?1 AND m.member_type = ?2 ORDER BY g.seq`
	qBumpGroupsOfMember = `UPDATE groups SET version = version + 1, modified = ?3
	WHERE seq IN (SELECT group_seq FROM members WHERE member_id = ?1 AND member_type = ?2)`
	qDeleteMemberships = `DELETE FROM members WHERE member_id = ?1 AND member_type = ?2`

	qInsertGroup = `INSERT INTO groups (id, display_name, display_name_key, external_id, doc, created, modified, version, origin)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?7)`
	qUpdateGroup = `UPDATE groups SET display_name = ?2, display_name_key = ?3, external_id = ?4, doc = ?5,
	modified = ?6, version = version + 1, origin = ?7 WHERE seq = ?1`
	qGroupMeta   = `SELECT seq, created, version, display_name, origin FROM groups WHERE id = ?1`
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
	// qRefreshUsers recomputes groups_json and bumps the version of the
	// users whose groups attribute changed; ?1 is a JSON array of user ids.
	qRefreshUsers = `UPDATE users SET groups_json = ` + userGroupsJSON + `, version = version + 1, modified = ?2
	WHERE id IN (SELECT value FROM json_each(?1))`
	// qRefreshMemberUsers is qRefreshUsers for every user member of group
	// ?1 (a seq), after a rename.
	qRefreshMemberUsers = `UPDATE users SET groups_json = ` + userGroupsJSON + `, version = version + 1, modified = ?2
	WHERE id IN (SELECT member_id FROM members WHERE group_seq = ?1 AND member_type = 'User')`

	qInsertAudit = `INSERT INTO audit (at, actor, action, resource_type, resource_id, request_id, changed, detail)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`
)

// provCols are the provisioning columns scanProvisioning reads, in order.
const provCols = `user_id, kind, desired, desired_version, applied_version, attempted_version, hubspot_id, state,
	last_error, attempts, next_attempt, last_synced, updated`

// Provisioning reads. "desired_version > applied_version" is spelled as in
// the partial index provisioning_due so that the planner can use it.
const (
	qProvByID = `SELECT ` + provCols + ` FROM provisioning WHERE user_id = ?1`
	qProvDue  = `SELECT ` + provCols + ` FROM provisioning
	WHERE desired_version > applied_version AND next_attempt <= ?1 ORDER BY next_attempt, user_id LIMIT ?2`
	qProvNextDue = `SELECT next_attempt FROM provisioning
	WHERE desired_version > applied_version ORDER BY next_attempt LIMIT 1`
	qProvCounts = `SELECT state, count(*), sum(desired_version > applied_version) FROM provisioning GROUP BY state`
	qProvList   = `SELECT ` + provCols + ` FROM provisioning WHERE user_id > ?1 ORDER BY user_id LIMIT ?2`
	qProvLinked = `SELECT user_id FROM provisioning WHERE hubspot_id = ?1 AND kind = 'user' ORDER BY user_id LIMIT 1`
	// qProvOldestPending: when the longest-waiting row that is being
	// worked on (not parked as failed or deferred, not waiting out a
	// removal's verification) ran ahead of HubSpot.
	qProvOldestPending = `SELECT min(pending_since) FROM provisioning
	WHERE desired_version > applied_version AND state NOT IN ('failed', 'deferred', 'verifying')`
	// qReportsOf finds the users whose manager is ?1 through the
	// expression index users_manager (migration 0005).
	qReportsOf = `SELECT id FROM users
	WHERE json_extract(doc, '$."urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"."manager"."value"') = ?1
	ORDER BY id`
)

// Provisioning writes.
const (
	// qProvSetDesired inserts a row or, when the document differs
	// byte-wise (BLOBs compare with memcmp), makes it a new version due
	// now. It returns the row when it wrote one and nothing otherwise (a
	// row of another kind ?4 is left alone).
	qProvSetDesired = `INSERT INTO provisioning (user_id, desired, desired_version, state, updated, pending_since, kind)
	VALUES (?1, ?2, 1, 'pending', ?3, ?3, ?4)
	ON CONFLICT (user_id) DO UPDATE SET desired = excluded.desired, desired_version = desired_version + 1,
	attempts = 0, next_attempt = 0, state = 'pending', updated = excluded.updated,
	pending_since = CASE WHEN desired_version > applied_version THEN coalesce(pending_since, excluded.updated) ELSE excluded.updated END
	WHERE desired IS NOT excluded.desired AND kind = excluded.kind
	RETURNING ` + provCols
	// qProvOutcome records store.Outcome: ?2 done, ?3 version, ?4 next
	// attempt, ?5 HubSpot id, ?6 state, ?7 last error, ?8 synced, ?9 now.
	// Every right-hand side reads the row as it was before the UPDATE.
	qProvOutcome = `UPDATE provisioning SET
	applied_version = CASE WHEN ?2 AND ?3 <= desired_version THEN max(applied_version, ?3) ELSE applied_version END,
	attempted_version = CASE WHEN ?3 <= desired_version THEN max(attempted_version, ?3) ELSE attempted_version END,
	attempts = CASE WHEN ?2 THEN 0 ELSE attempts + 1 END,
	next_attempt = CASE WHEN ?3 = desired_version THEN ?4 ELSE next_attempt END,
	hubspot_id = ?5, state = ?6, last_error = ?7,
	last_synced = CASE WHEN ?8 THEN ?9 ELSE last_synced END,
	pending_since = CASE WHEN ?2 AND ?3 >= desired_version THEN NULL ELSE pending_since END,
	updated = ?9
	WHERE user_id = ?1`
	qProvDelete = `DELETE FROM provisioning WHERE user_id = ?1`
	qProvTouch  = `UPDATE provisioning SET desired_version = desired_version + 1, next_attempt = 0, updated = ?1, pending_since = coalesce(pending_since, ?1)`
	// qProvTouchOne makes one row due again now, with a fresh retry count.
	qProvTouchOne = `UPDATE provisioning SET desired_version = desired_version + 1, next_attempt = 0, attempts = 0, updated = ?2, pending_since = coalesce(pending_since, ?2) WHERE user_id = ?1`
	// qSetUserHubSpot writes the HubSpot extension alone: no new version,
	// no new lastModified (store.Outcome.Ext).
	qSetUserHubSpot = `UPDATE users SET hubspot = ?2 WHERE id = ?1`
)

// Reconcile runs and named state (migration 0004).
const (
	runCols = `id, kind, started, finished, outcome, counts, error, forced`
	// Newest first: ids grow with each insert (AUTOINCREMENT, never reused).
	qRuns      = `SELECT ` + runCols + ` FROM runs ORDER BY id DESC LIMIT ?1`
	qInsertRun = `INSERT INTO runs (kind, started, finished, outcome, counts, error, forced)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)`
	qUpdateRun = `UPDATE runs SET kind = ?2, started = ?3, finished = ?4, outcome = ?5, counts = ?6, error = ?7,
	forced = ?8 WHERE id = ?1`
	qState    = `SELECT value FROM state WHERE key = ?1`
	qSetState = `INSERT INTO state (key, value, updated) VALUES (?1, ?2, ?3)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`
)

// readStmts are the prepared reads, valid on the read pool and on the
// writer connection alike.
type readStmts struct {
	userByID, userByIDGroups, groupByID, groupByIDMembers *sql.Stmt
	membersOfGroups, count                                *sql.Stmt
	auditAfter, auditAfterResource                        *sql.Stmt
	provByID, provDue, provNextDue, provCounts, provList  *sql.Stmt
	provOldestPending                                     *sql.Stmt
	provLinked, reportsOf                                 *sql.Stmt
	scanUsers, scanGroups, scanMembers, runs, state       *sql.Stmt
}

func (r *readStmts) list() []stmtDef {
	return []stmtDef{
		{&r.userByID, qUserByID}, {&r.userByIDGroups, qUserByIDGroups},
		{&r.groupByID, qGroupByID}, {&r.groupByIDMembers, qGroupByIDMembers},
		{&r.membersOfGroups, qMembersOfGroups},
		{&r.count, qCount}, {&r.auditAfter, qAuditAfter}, {&r.auditAfterResource, qAuditAfterResource},
		{&r.provByID, qProvByID}, {&r.provDue, qProvDue}, {&r.provNextDue, qProvNextDue},
		{&r.provCounts, qProvCounts}, {&r.provOldestPending, qProvOldestPending}, {&r.provList, qProvList}, {&r.provLinked, qProvLinked},
		{&r.reportsOf, qReportsOf},
		{&r.scanUsers, qScanUsers}, {&r.scanGroups, qScanGroups}, {&r.scanMembers, qScanMembers},
		{&r.runs, qRuns}, {&r.state, qState},
	}
}

// writeStmts are prepared on the writer connection.
type writeStmts struct {
	readStmts
	insertUser, updateUser, userMeta, deleteUser, insertEmail, deleteEmails *sql.Stmt
	nameTaken, userEmails                                                   *sql.Stmt
	groupIDsOfUser, bumpGroupsOfMember, deleteMemberships                   *sql.Stmt
	insertGroup, updateGroup, groupMeta, deleteGroup, memberLookup          *sql.Stmt
	membersOf, insertMember, deleteMembers                                  *sql.Stmt
	refreshUsers, refreshMemberUsers, insertAudit                           *sql.Stmt
	provSetDesired, provOutcome, provDelete, provTouch, provTouchOne        *sql.Stmt
	setUserHubSpot                                                          *sql.Stmt
	insertRun, updateRun, setState                                          *sql.Stmt
	// Transaction control of group commit, a few per job.
	begin, commit, rollback, savepoint, release, rollbackTo *sql.Stmt
}

func (w *writeStmts) list() []stmtDef {
	return append(w.readStmts.list(),
		stmtDef{&w.insertUser, qInsertUser}, stmtDef{&w.updateUser, qUpdateUser},
		stmtDef{&w.nameTaken, qNameTaken}, stmtDef{&w.userEmails, qUserEmails},
		stmtDef{&w.userMeta, qUserMeta}, stmtDef{&w.deleteUser, qDeleteUser},
		stmtDef{&w.insertEmail, qInsertEmail}, stmtDef{&w.deleteEmails, qDeleteEmails},
		stmtDef{&w.groupIDsOfUser, qGroupIDsOfUser}, stmtDef{&w.bumpGroupsOfMember, qBumpGroupsOfMember},
		stmtDef{&w.deleteMemberships, qDeleteMemberships},
		stmtDef{&w.insertGroup, qInsertGroup}, stmtDef{&w.updateGroup, qUpdateGroup},
		stmtDef{&w.groupMeta, qGroupMeta}, stmtDef{&w.deleteGroup, qDeleteGroup},
		stmtDef{&w.memberLookup, qMemberLookup}, stmtDef{&w.membersOf, qMembersOf},
		stmtDef{&w.insertMember, qInsertMember}, stmtDef{&w.deleteMembers, qDeleteMembers},
		stmtDef{&w.refreshUsers, qRefreshUsers}, stmtDef{&w.refreshMemberUsers, qRefreshMemberUsers},
		stmtDef{&w.insertAudit, qInsertAudit},
		stmtDef{&w.provSetDesired, qProvSetDesired}, stmtDef{&w.provOutcome, qProvOutcome},
		stmtDef{&w.provDelete, qProvDelete}, stmtDef{&w.provTouch, qProvTouch}, stmtDef{&w.provTouchOne, qProvTouchOne},
		stmtDef{&w.setUserHubSpot, qSetUserHubSpot},
		stmtDef{&w.insertRun, qInsertRun}, stmtDef{&w.updateRun, qUpdateRun}, stmtDef{&w.setState, qSetState},
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
