-- userName compares by its RFC 8265 comparison key: the PRECIS
-- UsernameCaseMapped mapping (width, case, NFC) of each space-separated
-- userpart, computed by scim_name_key, i.e. schemas.UsernameFold in Go.
-- user_name_cmp holds it; it answers userName filters and sorting, and
-- the write path's uniqueness check.
--
-- The index is not UNIQUE, on purpose: users stored before this migration
-- may collide under the new key (ａｄａ beside ada, NFD beside NFC café),
-- and a UNIQUE index would make the migration fail or force it to change
-- someone's data. The migration changes no value; such users stay readable,
-- changeable and deletable, `scimbridge store check-names` lists them, and
-- the write path (checkTaken in users.go) refuses any write that would make
-- a new collision. The old user_name_key (simple lower case) keeps its
-- UNIQUE index.
ALTER TABLE users ADD COLUMN user_name_cmp TEXT NOT NULL DEFAULT '';

UPDATE users SET user_name_cmp = scim_name_key(user_name);

CREATE INDEX users_user_name_cmp ON users (user_name_cmp);
