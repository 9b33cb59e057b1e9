-- Initial schema. Timestamps are unix microseconds (UTC); *_key columns hold
-- schemas.Fold of the value for caseExact=false attributes, so equality
-- filters and uniqueness checks use a plain index (RFC 7643 §2.2).

-- users: one row per SCIM User. doc is the user as JSON without the
-- attributes kept in columns (id, externalId, userName, groups, meta) and
-- without the HubSpot extension, which lives in hubspot and is written by the
-- provisioning engine, never by a SCIM PUT.
CREATE TABLE users (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    user_name        TEXT    NOT NULL,
    user_name_key    TEXT    NOT NULL UNIQUE,
    external_id      TEXT,
    display_name     TEXT,
    display_name_key TEXT,
    active           INTEGER,
    doc              TEXT    NOT NULL,
    hubspot          TEXT,
    created          INTEGER NOT NULL,
    modified         INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    origin           TEXT    NOT NULL DEFAULT 'scim'
);
CREATE INDEX users_external_id ON users (external_id);
CREATE INDEX users_display_name_key ON users (display_name_key);
CREATE INDEX users_modified ON users (modified);

-- user_emails mirrors users.doc's emails so that emails.value and
-- emails[type eq … and value eq …] are index lookups. Empty values and
-- primary=false are NULL, as they are absent from the JSON document.
CREATE TABLE user_emails (
    user_seq   INTEGER NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,
    value_key  TEXT,
    type_key   TEXT,
    is_primary INTEGER,
    PRIMARY KEY (user_seq, pos)
) WITHOUT ROWID;
CREATE INDEX user_emails_value_key ON user_emails (value_key);

CREATE TABLE groups (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    display_name     TEXT    NOT NULL,
    display_name_key TEXT    NOT NULL UNIQUE,
    external_id      TEXT,
    doc              TEXT    NOT NULL DEFAULT '{}',
    created          INTEGER NOT NULL,
    modified         INTEGER NOT NULL,
    version          INTEGER NOT NULL,
    origin           TEXT    NOT NULL DEFAULT 'scim'
);
CREATE INDEX groups_external_id ON groups (external_id);

-- members: direct memberships. member_id is a user or group id; rows naming
-- a deleted member are removed by DeleteUser / DeleteGroup.
CREATE TABLE members (
    group_seq   INTEGER NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   TEXT    NOT NULL,
    member_type TEXT    NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (group_seq, member_id)
) WITHOUT ROWID;
-- Covering for "the groups of member X": member_id, member_type and (as
-- the primary key) group_seq are all in the index.
CREATE INDEX members_member_id ON members (member_id, member_type);

-- audit: append-only; AUTOINCREMENT so a sequence number is never reused and
-- readers can page with "seq > last seen".
CREATE TABLE audit (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            INTEGER NOT NULL,
    actor         TEXT    NOT NULL,
    action        TEXT    NOT NULL,
    resource_type TEXT    NOT NULL,
    resource_id   TEXT    NOT NULL,
    request_id    TEXT,
    changed       TEXT,
    detail        TEXT
);
CREATE INDEX audit_resource_id ON audit (resource_id, seq);

-- counts keeps the row count of users and groups so that an unfiltered list
-- request answers totalResults without counting (SQLite's count(*) scans).
CREATE TABLE counts (
    name TEXT    PRIMARY KEY,
    n    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO counts (name, n) VALUES ('users', 0), ('groups', 0);

CREATE TRIGGER users_count_insert AFTER INSERT ON users
BEGIN
    UPDATE counts SET n = n + 1 WHERE name = 'users';
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users
BEGIN
    UPDATE counts SET n = n - 1 WHERE name = 'users';
END;
CREATE TRIGGER groups_count_insert AFTER INSERT ON groups
BEGIN
    UPDATE counts SET n = n + 1 WHERE name = 'groups';
END;
CREATE TRIGGER groups_count_delete AFTER DELETE ON groups
BEGIN
    UPDATE counts SET n = n - 1 WHERE name = 'groups';
END;
