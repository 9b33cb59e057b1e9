-- Row counts of users and groups, for the total of an unfiltered list
-- without a count(*) over the table. Triggers keep them; each counts into
-- one of 64 shards chosen by the writer's backend, so concurrent writers
-- rarely update the same row (the same row would make SERIALIZABLE writers
-- conflict). A list's total is the sum of the shards in its snapshot.
CREATE TABLE row_counts (
    tbl   text   COLLATE "C" NOT NULL,
    shard int    NOT NULL,
    n     bigint NOT NULL,
    PRIMARY KEY (tbl, shard)
);

CREATE FUNCTION count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO row_counts (tbl, shard, n)
    VALUES (TG_TABLE_NAME, pg_backend_pid() % 64, CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END)
    ON CONFLICT (tbl, shard) DO UPDATE SET n = row_counts.n + EXCLUDED.n;
    RETURN NULL;
END $$;

CREATE TRIGGER users_count AFTER INSERT OR DELETE ON users FOR EACH ROW EXECUTE FUNCTION count_rows();
CREATE TRIGGER groups_count AFTER INSERT OR DELETE ON groups FOR EACH ROW EXECUTE FUNCTION count_rows();

INSERT INTO row_counts (tbl, shard, n) SELECT 'users', 0, count(*) FROM users;
INSERT INTO row_counts (tbl, shard, n) SELECT 'groups', 0, count(*) FROM groups;
