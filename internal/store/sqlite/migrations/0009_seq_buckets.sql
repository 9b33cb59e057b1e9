-- seq_buckets counts the rows of users and groups by block of 1,024
-- sequence numbers (bucket = seq >> 10), kept by triggers like counts. A
-- list request in creation order finds the block holding its startIndex by
-- adding up these counts, then reads from the block's first seq with an
-- OFFSET of at most 1,023 rows: a page at any depth costs about the same,
-- in any order the pages are asked for. Emptied blocks keep a row with
-- n = 0.
CREATE TABLE seq_buckets (
    tbl    TEXT    NOT NULL,
    bucket INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    PRIMARY KEY (tbl, bucket)
) WITHOUT ROWID;

INSERT INTO seq_buckets (tbl, bucket, n)
    SELECT 'users', seq >> 10, count(*) FROM users GROUP BY seq >> 10;
INSERT INTO seq_buckets (tbl, bucket, n)
    SELECT 'groups', seq >> 10, count(*) FROM groups GROUP BY seq >> 10;

CREATE TRIGGER users_bucket_insert AFTER INSERT ON users
BEGIN
    INSERT INTO seq_buckets (tbl, bucket, n) VALUES ('users', new.seq >> 10, 1)
        ON CONFLICT (tbl, bucket) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER users_bucket_delete AFTER DELETE ON users
BEGIN
    UPDATE seq_buckets SET n = n - 1 WHERE tbl = 'users' AND bucket = old.seq >> 10;
END;
CREATE TRIGGER groups_bucket_insert AFTER INSERT ON groups
BEGIN
    INSERT INTO seq_buckets (tbl, bucket, n) VALUES ('groups', new.seq >> 10, 1)
        ON CONFLICT (tbl, bucket) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER groups_bucket_delete AFTER DELETE ON groups
BEGIN
    UPDATE seq_buckets SET n = n - 1 WHERE tbl = 'groups' AND bucket = old.seq >> 10;
END;
