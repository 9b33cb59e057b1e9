-- provisioning: the provisioning engine's state of each SCIM user (see
-- store.Provisioning). No foreign key to users: a row outlives its user,
-- whose HubSpot account must still be removed, until the engine deletes it.
-- Times are unix microseconds (UTC); next_attempt 0 is "due now", a NULL
-- last_synced is "never".
CREATE TABLE provisioning (
    user_id           TEXT    PRIMARY KEY,
    desired           BLOB    NOT NULL,
    desired_version   INTEGER NOT NULL,
    applied_version   INTEGER NOT NULL DEFAULT 0,
    attempted_version INTEGER NOT NULL DEFAULT 0,
    hubspot_id        TEXT,
    state             TEXT    NOT NULL,
    last_error        TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt      INTEGER NOT NULL DEFAULT 0,
    last_synced       INTEGER,
    updated           INTEGER NOT NULL
);
-- The work queue: only rows with work to do are in it, so the dispatcher's
-- "due now, earliest first" is a range read of a small index whatever the
-- number of settled rows.
CREATE INDEX provisioning_due ON provisioning (next_attempt, user_id)
    WHERE desired_version > applied_version;
-- LinkedUser (user_id: the first of several links without a sort). hubspot_id
-- is NULL rather than '' when there is no link.
CREATE INDEX provisioning_hubspot_id ON provisioning (hubspot_id, user_id);
