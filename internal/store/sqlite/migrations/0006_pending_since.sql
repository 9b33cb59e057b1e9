-- pending_since: when a row's desired state last ran ahead of what was
-- applied (unix microseconds), NULL while it is settled. It stays put
-- through retries, so the age of the oldest pending row says how long
-- HubSpot has been behind (the provisioning_oldest_pending_age metric).
ALTER TABLE provisioning ADD COLUMN pending_since INTEGER;
UPDATE provisioning SET pending_since = updated WHERE desired_version > applied_version;
CREATE INDEX provisioning_pending_since ON provisioning (pending_since)
    WHERE desired_version > applied_version;
