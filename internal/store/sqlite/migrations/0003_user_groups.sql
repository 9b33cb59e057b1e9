-- users.groups_json denormalises a user's groups attribute (direct
-- memberships) into the user's row, so that reading a page of users with
-- their groups reads nothing but the page's rows. It is a JSON array of
-- [group id, group displayName], in the order the groups attribute lists
-- them (displayName without regard to case, then group creation), NULL
-- when the user is in no group. The members table stays the truth (filters
-- on groups.value use it); every write that changes a user's memberships or
-- a group's displayName recomputes the column from it.
ALTER TABLE users ADD COLUMN groups_json TEXT;

UPDATE users SET groups_json = (
    SELECT json_group_array(json_array(g.id, g.display_name) ORDER BY g.display_name_key, g.seq)
      FROM members m JOIN groups g ON g.seq = m.group_seq
     WHERE m.member_id = users.id AND m.member_type = 'User')
 WHERE id IN (SELECT member_id FROM members WHERE member_type = 'User');
