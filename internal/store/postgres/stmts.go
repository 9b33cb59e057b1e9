package postgres

import "github.com/scimbridge/scimbridge/internal/store/sqlfilter"

// The SQL of the hot paths. pgx prepares each text once per connection and
// caches it, so these are parsed and planned once per connection.

// userCols are the users columns userScan reads, in order.
const userCols = "u.seq, u.id, u.user_name, u.external_id, u.doc, u.hubspot, u.created, u.modified, u.version, u.origin"

// groupCols are the groups columns scanGroup reads, in order.
const groupCols = "g.seq, g.id, g.display_name, g.external_id, g.doc, g.created, g.modified, g.version, g.origin"

// userGroupsJSON is users.groups_json computed from the memberships of the
// user being updated: [[group id, displayName], …] ordered as the groups
// attribute is (folded displayName in code point order, then creation),
// NULL for none.
const userGroupsJSON = `(SELECT jsonb_agg(jsonb_build_array(g.id, g.display_name) ORDER BY g.display_name_key, g.seq)
	   FROM members m JOIN groups g ON g.seq = m.group_seq
	  WHERE m.member_id = users.id AND m.member_type = 'User')`

// memberDisplay is members.display (sqlfilter.MemberDisplay). It expects
// members m LEFT JOIN users mu, groups mg (memberJoins).
const memberDisplay = sqlfilter.MemberDisplay

const memberJoins = `LEFT JOIN users mu ON m.member_type = 'User' AND mu.id = m.member_id
	LEFT JOIN groups mg ON m.member_type = 'Group' AND mg.id = m.member_id`

const (
	qUserByID         = `SELECT ` + userCols + ` FROM users u WHERE u.id = $1`
	qUserByIDGroups   = `SELECT ` + userCols + `, u.groups_json FROM users u WHERE u.id = $1`
	qGroupByID        = `SELECT ` + groupCols + ` FROM groups g WHERE g.id = $1`
	qGroupByIDMembers = `SELECT ` + groupCols + `,
	(SELECT jsonb_agg(jsonb_build_array(m.member_id, m.member_type, ` + memberDisplay + `) ORDER BY m.member_id)
	   FROM members m ` + memberJoins + `
	  WHERE m.group_seq = g.seq)
	FROM groups g WHERE g.id = $1`
	// qMembersOfGroups loads the members of a page of groups.
	qMembersOfGroups = `SELECT m.group_seq, m.member_id, m.member_type, ` + memberDisplay + `
	FROM members m ` + memberJoins + `
	WHERE m.group_seq = ANY($1::bigint[])
	ORDER BY m.group_seq, m.member_id`
	// qScanUsers and qScanGroups read one page of ScanUsers / ScanGroups:
	// the rows after seq $1, at most $2 of them, a range of the primary key.
	qScanUsers  = `SELECT ` + userCols + `, u.groups_json FROM users u WHERE u.seq > $1 ORDER BY u.seq LIMIT $2`
	qScanGroups = `SELECT ` + groupCols + `,
	CASE WHEN $3::boolean THEN (SELECT count(*) FROM members m WHERE m.group_seq = g.seq) ELSE 0 END
	FROM groups g WHERE g.seq > $1 ORDER BY g.seq LIMIT $2`
	qScanMembers = `SELECT m.group_seq, m.member_id, m.member_type, ` + memberDisplay + `
	FROM members m ` + memberJoins + `
	WHERE m.group_seq > $1 AND m.group_seq <= $2
	ORDER BY m.group_seq, m.member_id`
	qAuditAfter         = `SELECT ` + auditCols + ` FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2`
	qAuditAfterResource = `SELECT ` + auditCols + ` FROM audit WHERE resource_id = $3 AND seq > $1 ORDER BY seq LIMIT $2`
)

const (
	// qInsertUser writes nothing when a unique index holds the id or a
	// name key already; insertUser then tells which (RFC 7644 §3.3: 409).
	qInsertUser = `INSERT INTO users (id, user_name, user_name_key, user_name_cmp, external_id, display_name,
	display_name_key, active, doc, hubspot, created, modified, version, origin)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1, $12)
	ON CONFLICT DO NOTHING RETURNING seq`
	qUpdateUser = `UPDATE users SET user_name = $2, user_name_key = $3, user_name_cmp = $4, external_id = $5,
	display_name = $6, display_name_key = $7, active = $8, doc = $9, modified = $10, version = version + 1,
	origin = $11 WHERE seq = $1`
	// qNameHolder names the first other user (seq <> $3) whose userName
	// has the RFC 8265 key $1 or the folded form $2, cmp telling which.
	qNameHolder = `SELECT id, user_name, user_name_cmp = $1 AS cmp FROM users
	WHERE (user_name_cmp = $1 OR user_name_key = $2) AND seq <> $3 ORDER BY cmp DESC, seq LIMIT 1`
	// qUserEmails reads a user's stored email values, only when a value it
	// is written with is refused (schemas.PrepareNames).
	qUserEmails = `SELECT e ->> 'value' FROM users,
	jsonb_array_elements(CASE WHEN jsonb_typeof(doc -> 'emails') = 'array' THEN doc -> 'emails' END) e
	WHERE seq = $1 AND e ->> 'value' IS NOT NULL`
	// qUserMeta locks the user for the rest of the transaction.
	qUserMeta       = `SELECT seq, created, version, hubspot, display_name, user_name, origin FROM users WHERE id = $1 FOR UPDATE`
	qDeleteUser     = `DELETE FROM users WHERE seq = $1`
	qInsertEmail    = `INSERT INTO user_emails (user_seq, pos, value_key, type_key, is_primary) VALUES ($1, $2, $3, $4, $5)`
	qDeleteEmails   = `DELETE FROM user_emails WHERE user_seq = $1`
	qGroupIDsOfUser = `SELECT g.id FROM members m JOIN groups g ON g.seq = m.group_seq
	WHERE m.member_id = $1 AND m.member_type = $2 ORDER BY g.seq`
	qBumpGroupsOfMember = `UPDATE groups SET version = version + 1, modified = $3
	WHERE seq IN (SELECT group_seq FROM members WHERE member_id = $1 AND member_type = $2)`
	qDeleteMemberships = `DELETE FROM members WHERE member_id = $1 AND member_type = $2`

	qInsertGroup = `INSERT INTO groups (id, display_name, display_name_key, external_id, doc, created, modified, version, origin)
	VALUES ($1, $2, $3, $4, $5, $6, $6, 1, $7) ON CONFLICT DO NOTHING RETURNING seq`
	qGroupNameHolder = `SELECT id FROM groups WHERE display_name_key = $1 AND seq <> $2 LIMIT 1`
	qUpdateGroup     = `UPDATE groups SET display_name = $2, display_name_key = $3, external_id = $4, doc = $5,
	modified = $6, version = version + 1, origin = $7 WHERE seq = $1`
	// qGroupMeta locks the group for the rest of the transaction.
	qGroupMeta   = `SELECT seq, created, version, display_name, origin FROM groups WHERE id = $1 FOR UPDATE`
	qDeleteGroup = `DELETE FROM groups WHERE seq = $1`
	// qMemberLookup tells what an id names. A user wins over a group with
	// the same id unless $2 asks for groups first.
	qMemberLookup = `SELECT t FROM (
	SELECT 'User' AS t, $2::text <> 'Group' AS pref FROM users WHERE id = $1
	UNION ALL
	SELECT 'Group', $2::text = 'Group' FROM groups WHERE id = $1) x ORDER BY pref DESC LIMIT 1`
	qMembersOf     = `SELECT member_id, member_type FROM members WHERE group_seq = $1 ORDER BY member_id`
	qInsertMembers = `INSERT INTO members (group_seq, member_id, member_type)
	SELECT $1, id, typ FROM unnest($2::text[], $3::text[]) AS x (id, typ)`
	qDeleteMembers = `DELETE FROM members WHERE group_seq = $1 AND member_id = ANY($2::text[])`
	// qRefreshUsers recomputes groups_json and bumps the version of the
	// users whose groups attribute changed.
	qRefreshUsers = `UPDATE users SET groups_json = ` + userGroupsJSON + `, version = version + 1, modified = $2
	WHERE id = ANY($1::text[])`
	// qRefreshMemberUsers is qRefreshUsers for every user member of group
	// $1 (a seq), after a rename.
	qRefreshMemberUsers = `UPDATE users SET groups_json = ` + userGroupsJSON + `, version = version + 1, modified = $2
	WHERE id IN (SELECT member_id FROM members WHERE group_seq = $1 AND member_type = 'User')`

	qInsertAudit = `INSERT INTO audit (at, actor, action, resource_type, resource_id, request_id, changed, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq`
)

// provCols are the provisioning columns scanProvisioning reads, in order.
const provCols = `user_id, kind, desired, desired_version, applied_version, attempted_version, hubspot_id, state,
	last_error, attempts, next_attempt, last_synced, updated`

// Provisioning reads. "desired_version > applied_version" is spelled as in
// the partial index provisioning_due so that the planner can use it.
const (
	qProvByID = `SELECT ` + provCols + ` FROM provisioning WHERE user_id = $1`
	qProvDue  = `SELECT ` + provCols + ` FROM provisioning
	WHERE desired_version > applied_version AND next_attempt <= $1 ORDER BY next_attempt, user_id LIMIT $2`
	qProvNextDue = `SELECT next_attempt FROM provisioning
	WHERE desired_version > applied_version ORDER BY next_attempt LIMIT 1`
	qProvCounts = `SELECT state, count(*), count(*) FILTER (WHERE desired_version > applied_version)
	FROM provisioning GROUP BY state`
	qProvList          = `SELECT ` + provCols + ` FROM provisioning WHERE user_id > $1 ORDER BY user_id LIMIT $2`
	qProvLinked        = `SELECT user_id FROM provisioning WHERE hubspot_id = $1 AND kind = 'user' ORDER BY user_id LIMIT 1`
	qProvOldestPending = `SELECT min(pending_since) FROM provisioning
	WHERE desired_version > applied_version AND state NOT IN ('failed', 'deferred', 'verifying')`
	// qReportsOf finds the users whose manager is $1 through the
	// expression index users_manager.
	qReportsOf = `SELECT id FROM users
	WHERE (doc #>> '{urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,manager,value}') = $1
	ORDER BY id`
)

// Provisioning writes.
const (
	// qProvSetDesired inserts a row or, when the document differs byte-wise,
	// makes it a new version due now. It returns the row when it wrote one
	// and nothing otherwise (a row of another kind $4 is left alone).
	qProvSetDesired = `INSERT INTO provisioning AS p (user_id, desired, desired_version, state, updated, pending_since, kind)
	VALUES ($1, $2, 1, 'pending', $3, $3, $4)
	ON CONFLICT (user_id) DO UPDATE SET desired = excluded.desired, desired_version = p.desired_version + 1,
	attempts = 0, next_attempt = '0001-01-01 00:00:00+00', state = 'pending', updated = excluded.updated,
	pending_since = CASE WHEN p.desired_version > p.applied_version THEN coalesce(p.pending_since, excluded.updated)
	ELSE excluded.updated END
	WHERE p.desired <> excluded.desired AND p.kind = excluded.kind
	RETURNING ` + provCols
	// qProvOutcome records store.Outcome: $2 done, $3 version, $4 next
	// attempt, $5 HubSpot id, $6 state, $7 last error, $8 synced, $9 now.
	// Every right-hand side reads the row as it was before the UPDATE.
	qProvOutcome = `UPDATE provisioning SET
	applied_version = CASE WHEN $2::boolean AND $3::bigint <= desired_version THEN greatest(applied_version, $3::bigint)
	ELSE applied_version END,
	attempted_version = CASE WHEN $3::bigint <= desired_version THEN greatest(attempted_version, $3::bigint)
	ELSE attempted_version END,
	attempts = CASE WHEN $2::boolean THEN 0 ELSE attempts + 1 END,
	next_attempt = CASE WHEN $3::bigint = desired_version THEN $4::timestamptz ELSE next_attempt END,
	hubspot_id = $5, state = $6, last_error = $7,
	last_synced = CASE WHEN $8::boolean THEN $9::timestamptz ELSE last_synced END,
	pending_since = CASE WHEN $2::boolean AND $3::bigint >= desired_version THEN NULL ELSE pending_since END,
	updated = $9::timestamptz
	WHERE user_id = $1`
	qProvDelete = `DELETE FROM provisioning WHERE user_id = $1`
	qProvTouch  = `UPDATE provisioning SET desired_version = desired_version + 1, next_attempt = '0001-01-01 00:00:00+00',
	updated = $1, pending_since = coalesce(pending_since, $1)`
	qProvTouchOne = `UPDATE provisioning SET desired_version = desired_version + 1, next_attempt = '0001-01-01 00:00:00+00',
	attempts = 0, updated = $2, pending_since = coalesce(pending_since, $2) WHERE user_id = $1`
	// qSetUserHubSpot writes the HubSpot extension alone: no new version,
	// no new lastModified (store.Outcome.Ext).
	qSetUserHubSpot = `UPDATE users SET hubspot = $2 WHERE id = $1`
)

// Reconcile runs and named state.
const (
	runCols    = `id, kind, started, finished, outcome, counts, error, forced`
	qRuns      = `SELECT ` + runCols + ` FROM runs ORDER BY id DESC LIMIT $1`
	qInsertRun = `INSERT INTO runs (kind, started, finished, outcome, counts, error, forced)
	VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
	qUpdateRun = `UPDATE runs SET kind = $2, started = $3, finished = $4, outcome = $5, counts = $6, error = $7,
	forced = $8 WHERE id = $1`
	qState    = `SELECT value FROM state WHERE key = $1`
	qSetState = `INSERT INTO state (key, value, updated) VALUES ($1, $2, $3)
	ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated = excluded.updated`
)
