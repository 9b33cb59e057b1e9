package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// bucketsAgree checks seq_buckets against the rows themselves.
func bucketsAgree(t *testing.T, s *Store) {
	t.Helper()
	for _, tbl := range []string{"users", "groups"} {
		var bad int
		err := s.get(context.Background(), func(r *reader) error {
			return r.conn.QueryRowContext(context.Background(), `SELECT count(*) FROM (
				SELECT bucket, n FROM seq_buckets WHERE tbl = ?1 AND n > 0
				EXCEPT SELECT seq >> 10, count(*) FROM `+tbl+` GROUP BY seq >> 10
				UNION ALL
				SELECT seq >> 10, count(*) FROM `+tbl+` GROUP BY seq >> 10
				EXCEPT SELECT bucket, n FROM seq_buckets WHERE tbl = ?1 AND n > 0)`, tbl).Scan(&bad)
		})
		if err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%s: %d blocks disagree with seq_buckets", tbl, bad)
		}
	}
}

// Migration 0009 counts the rows a database already holds; the triggers
// keep the counts from then on.
func TestMigrationFillsSeqBuckets(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	s, err := Open(ctx, Config{Path: path}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 2500 {
			u := &schemas.User{UserName: fmt.Sprintf("m%d", i)}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return tx.CreateGroup(&schemas.Group{DisplayName: "g"})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := 0; i < len(ids); i += 3 {
			if _, err := tx.DeleteUser(ids[i]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	bucketsAgree(t, s)
	if err := s.Update(ctx, func(store.Tx) error {
		for _, q := range []string{
			"DROP TABLE seq_buckets",
			"DROP TRIGGER users_bucket_insert", "DROP TRIGGER users_bucket_delete",
			"DROP TRIGGER groups_bucket_insert", "DROP TRIGGER groups_bucket_delete",
			"DELETE FROM schema_migrations WHERE version = 9",
		} {
			if _, err := s.wconn.ExecContext(wctx(), q); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, Config{Path: path})
	bucketsAgree(t, s)
	p, err := s.QueryUsers(ctx, schemas.Query{StartIndex: 1500, Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Users left: ids[i] for i%3 != 0; position 1500 (1-based) is the
	// 1500th of them.
	var left []string
	for i, id := range ids {
		if i%3 != 0 {
			left = append(left, id)
		}
	}
	if p.Total != len(left) || len(p.Users) != 2 || p.Users[0].ID != left[1499] || p.Users[1].ID != left[1500] {
		t.Errorf("page at 1500: total %d, %d users, want %s, %s", p.Total, len(p.Users), left[1499], left[1500])
	}
}
