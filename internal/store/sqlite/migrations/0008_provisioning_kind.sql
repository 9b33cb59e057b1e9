-- kind: what a provisioning row provisions, 'user' (a user's HubSpot
-- account) or 'team' (a group's HubSpot team, provisioning.manage_teams).
-- Before it, team rows were told apart by the 'group:' their key starts
-- with; they keep their keys (unique beside the users' ids) and get the
-- kind the engine now reads instead.
ALTER TABLE provisioning ADD COLUMN kind TEXT NOT NULL DEFAULT 'user'
    CHECK (kind IN ('user', 'team'));

UPDATE provisioning SET kind = 'team' WHERE substr(user_id, 1, 6) = 'group:';
