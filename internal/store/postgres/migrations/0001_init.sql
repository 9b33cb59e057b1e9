-- Initial schema, the PostgreSQL counterpart of the SQLite driver's
-- migrations 0001 to 0008 (one file: there is no older PostgreSQL schema
-- to upgrade from).
--
-- Text that SCIM compares or sorts (RFC 7644 §3.4.2.2: by code point) is
-- COLLATE "C", byte order of UTF-8, which is code point order, whatever
-- the database's locale. *_key columns hold schemas.Fold of the value for
-- caseExact=false attributes and user_name_cmp the RFC 8265 comparison key
-- of the userName (schemas.UsernameFold); Go computes both, as PRECIS
-- cannot be written in SQL, so lookups are plain index probes.
--
-- scim_fold is the collation filters lower() JSON attributes with: glibc's
-- C.UTF-8 lower-cases each character alone, as Go's strings.ToLower (and
-- thus schemas.Fold) does, where ICU's lower() applies context (final
-- sigma) and full mappings.
CREATE COLLATION IF NOT EXISTS scim_fold (provider = libc, locale = 'C.UTF-8');

-- scim_time parses an RFC 3339 dateTime held as JSON text, NULL when it is
-- not one, so that dateTime attributes compare as instants and a malformed
-- value matches nothing instead of failing the query.
CREATE FUNCTION scim_time(v text) RETURNS timestamptz
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
BEGIN
    IF v !~ '^\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)$' THEN
        RETURN NULL;
    END IF;
    RETURN v::timestamptz;
EXCEPTION WHEN others THEN
    RETURN NULL;
END;
$$;

-- users: one row per SCIM User. doc is the user as JSON without the
-- attributes kept in columns (id, externalId, userName, groups, meta) and
-- without the HubSpot extension, which lives in hubspot and is written by
-- the provisioning engine, never by a SCIM PUT. groups_json denormalises
-- the groups attribute, [[group id, displayName], …] in the attribute's
-- order (NULL: no group); the members table stays the truth.
CREATE TABLE users (
    seq              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text        COLLATE "C" NOT NULL UNIQUE,
    user_name        text        COLLATE "C" NOT NULL,
    user_name_key    text        COLLATE "C" NOT NULL,
    user_name_cmp    text        COLLATE "C" NOT NULL,
    external_id      text        COLLATE "C",
    display_name     text        COLLATE "C",
    display_name_key text        COLLATE "C",
    active           boolean,
    doc              jsonb       NOT NULL,
    hubspot          jsonb,
    groups_json      jsonb,
    created          timestamptz NOT NULL,
    modified         timestamptz NOT NULL,
    version          bigint      NOT NULL,
    origin           text        NOT NULL DEFAULT 'scim'
);
-- Both name keys are UNIQUE: several replicas write at once, and only a
-- unique index keeps two of them from taking one name together. (The
-- SQLite driver's index on the RFC 8265 key is not unique, for users stored
-- before the key existed; a PostgreSQL database has no such users.)
CREATE UNIQUE INDEX users_user_name_key ON users (user_name_key);
CREATE UNIQUE INDEX users_user_name_cmp ON users (user_name_cmp);
CREATE INDEX users_external_id ON users (external_id);
CREATE INDEX users_display_name_key ON users (display_name_key);
CREATE INDEX users_modified ON users (modified);
-- The reports of a manager (store.Tx.ReportsOf); qReportsOf spells the
-- same expression.
CREATE INDEX users_manager ON users (
    (doc #>> '{urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,manager,value}'));

-- user_emails mirrors users.doc's emails so that emails.value and
-- emails[type eq … and value eq …] are index lookups. Empty values and
-- primary=false are NULL, as they are absent from the JSON document.
CREATE TABLE user_emails (
    user_seq   bigint  NOT NULL REFERENCES users (seq) ON DELETE CASCADE,
    pos        integer NOT NULL,
    value_key  text    COLLATE "C",
    type_key   text    COLLATE "C",
    is_primary boolean,
    PRIMARY KEY (user_seq, pos)
);
CREATE INDEX user_emails_value_key ON user_emails (value_key);

CREATE TABLE groups (
    seq              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text        COLLATE "C" NOT NULL UNIQUE,
    display_name     text        COLLATE "C" NOT NULL,
    display_name_key text        COLLATE "C" NOT NULL UNIQUE,
    external_id      text        COLLATE "C",
    doc              jsonb       NOT NULL DEFAULT '{}',
    created          timestamptz NOT NULL,
    modified         timestamptz NOT NULL,
    version          bigint      NOT NULL,
    origin           text        NOT NULL DEFAULT 'scim'
);
CREATE INDEX groups_external_id ON groups (external_id);

-- members: direct memberships. member_id is a user or group id; rows naming
-- a deleted member are removed by DeleteUser / DeleteGroup.
CREATE TABLE members (
    group_seq   bigint NOT NULL REFERENCES groups (seq) ON DELETE CASCADE,
    member_id   text   COLLATE "C" NOT NULL,
    member_type text   NOT NULL CHECK (member_type IN ('User', 'Group')),
    PRIMARY KEY (group_seq, member_id)
);
CREATE INDEX members_member_id ON members (member_id, member_type) INCLUDE (group_seq);

-- audit: append-only; readers page with "seq > last seen". A sequence may
-- commit out of order across replicas; the trail is for reading, not a
-- change feed.
CREATE TABLE audit (
    seq           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at            timestamptz NOT NULL,
    actor         text        NOT NULL,
    action        text        NOT NULL,
    resource_type text        NOT NULL,
    resource_id   text        COLLATE "C" NOT NULL,
    request_id    text,
    changed       jsonb,
    detail        text
);
CREATE INDEX audit_resource_id ON audit (resource_id, seq);

-- provisioning: the provisioning engine's state of each row (see
-- store.Provisioning). No foreign key to users: a row outlives its user.
-- desired is bytea, kept byte for byte (jsonb would reformat it).
-- next_attempt '0001-01-01' (Go's zero time) is "due now"; a NULL
-- last_synced is "never"; pending_since is when the row last ran ahead of
-- what was applied, NULL while settled.
CREATE TABLE provisioning (
    user_id           text        COLLATE "C" PRIMARY KEY,
    kind              text        NOT NULL DEFAULT 'user' CHECK (kind IN ('user', 'team')),
    desired           bytea       NOT NULL,
    desired_version   bigint      NOT NULL,
    applied_version   bigint      NOT NULL DEFAULT 0,
    attempted_version bigint      NOT NULL DEFAULT 0,
    hubspot_id        text        COLLATE "C",
    state             text        COLLATE "C" NOT NULL,
    last_error        text,
    attempts          integer     NOT NULL DEFAULT 0,
    next_attempt      timestamptz NOT NULL DEFAULT '0001-01-01 00:00:00+00',
    last_synced       timestamptz,
    updated           timestamptz NOT NULL,
    pending_since     timestamptz
);
-- The work queue: only rows with work to do are in it, so "due now,
-- earliest first" is a range read of a small index.
CREATE INDEX provisioning_due ON provisioning (next_attempt, user_id)
    WHERE desired_version > applied_version;
CREATE INDEX provisioning_pending_since ON provisioning (pending_since)
    WHERE desired_version > applied_version;
CREATE INDEX provisioning_hubspot_id ON provisioning (hubspot_id, user_id);

-- runs: one row per reconcile run; the newest is the highest id.
CREATE TABLE runs (
    id       bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind     text        NOT NULL,
    started  timestamptz,
    finished timestamptz,
    outcome  text        NOT NULL,
    counts   jsonb,
    error    text,
    forced   boolean     NOT NULL DEFAULT false
);

-- state: small named values kept between runs (store.Tx.SetState). Keys
-- and values are bytea: they are the caller's strings, byte for byte, NUL
-- included (text refuses it).
CREATE TABLE state (
    key     bytea       PRIMARY KEY,
    value   bytea       NOT NULL,
    updated timestamptz NOT NULL
);
