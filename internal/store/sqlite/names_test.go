package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Migration 0007 keys userName by RFC 8265. Users
// stored before it may collide under the new keys or hold characters the
// profile refuses: the migration must neither fail nor change them, and
// CheckNames must report them. The test writes such rows into a database
// taken back to before 0007, as an older build could have written them,
// and reopens it.
func TestMigrationReportsNameProblems(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	s, err := Open(ctx, Config{Path: path}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	ada := &schemas.User{UserName: "ada@example.com", Emails: []schemas.MultiValue{{Value: "ada@example.com", Primary: true}}}
	cafe := &schemas.User{UserName: "caf\u00e9"}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ada); err != nil {
			return err
		}
		return tx.CreateUser(cafe)
	}); err != nil {
		t.Fatal(err)
	}
	legacy := []struct {
		id, userName, doc string
		active            any
	}{
		{"fullwidth", "ａｄａ@example.com", `{}`, nil},
		{"nfd", "cafe\u0301", `{}`, nil},
		{"zwsp", "z\u200bw@example.com", `{}`, nil},
		{"bob", "bob", `{"emails":[{"value":"ＡＤＡ@Example.com","primary":true}]}`, true}, // emails may repeat
		{"rlo", "carol", `{"emails":[{"value":"ada@example.com"},{"value":"c\u202e@example.com"}]}`, false},
	}
	if err := s.Update(ctx, func(store.Tx) error {
		for _, q := range []string{
			"DROP INDEX users_user_name_cmp", "ALTER TABLE users DROP COLUMN user_name_cmp",
			"DELETE FROM schema_migrations WHERE version = 7",
		} {
			if _, err := s.wconn.ExecContext(wctx(), q); err != nil {
				return fmt.Errorf("%s: %w", q, err)
			}
		}
		for i, l := range legacy {
			if _, err := s.wconn.ExecContext(wctx(), `INSERT INTO users (id, user_name, user_name_key, active, doc,
				created, modified, version, origin) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 3, 'directory')`,
				l.id, l.userName, schemas.Fold(l.userName), l.active, l.doc, int64(1_700_000_000_000_000+i)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := dumpUsers(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTest(t, Config{Path: path})
	if after := dumpUsers(t, s); !reflect.DeepEqual(after, before) {
		t.Fatalf("the migration changed users:\nbefore %q\nafter  %q", before, after)
	}
	problems, err := s.CheckNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	type brief struct {
		id, attr, kind string
		with           []string
	}
	var got []brief
	for _, p := range problems {
		got = append(got, brief{p.UserID, p.Attribute, p.Kind, p.With})
		if p.Detail == "" || p.Value == "" {
			t.Errorf("problem without detail or value: %+v", p)
		}
	}
	want := []brief{
		{ada.ID, "userName", store.NameCollides, []string{"fullwidth"}},
		{"fullwidth", "userName", store.NameCollides, []string{ada.ID}},
		{cafe.ID, "userName", store.NameCollides, []string{"nfd"}},
		{"nfd", "userName", store.NameCollides, []string{cafe.ID}},
		{"zwsp", "userName", store.NameRefused, nil},
		{"rlo", "emails", store.NameRefused, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("CheckNames:\n got %+v\nwant %+v\n(%+v)", got, want, problems)
	}

	// Still found, read, changed (keeping the name) and deleted.
	p, err := s.QueryUsers(ctx, schemas.Query{Filter: mustParse(t, `userName eq "ADA@example.com"`), Count: 10})
	if err != nil || p.Total != 2 || len(p.Users) != 2 || p.Users[0].ID != ada.ID || p.Users[1].ID != "fullwidth" {
		t.Fatalf("userName eq over a legacy collision: %+v %v", p, err)
	}
	for _, l := range legacy {
		u, err := s.GetUser(ctx, l.id, true)
		if err != nil || u.UserName != l.userName {
			t.Fatalf("legacy user %s: %+v %v", l.id, u, err)
		}
	}
	update := func(fn func(tx store.Tx) error) error { return s.Update(ctx, fn) }
	for _, id := range []string{"fullwidth", "nfd", "zwsp", "bob", "rlo"} {
		if err := update(func(tx store.Tx) error {
			u, err := tx.GetUser(id, false)
			if err != nil {
				return err
			}
			u.Title, u.Active = "Leaver", new(bool)
			return tx.ReplaceUser(u)
		}); err != nil {
			t.Errorf("deactivating legacy user %s: %v", id, err)
		}
	}
	// What a write brings in is checked as ever.
	rename := func(id, name string) error {
		return update(func(tx store.Tx) error {
			u, err := tx.GetUser(id, false)
			if err != nil {
				return err
			}
			u.UserName = name
			return tx.ReplaceUser(u)
		})
	}
	if err := rename("zwsp", "z\u200bw2@example.com"); store.ErrorCode(err) != store.EINVALID {
		t.Errorf("rename to another refused name: %v", err)
	}
	if err := rename("nfd", "ＡＤＡ@example.com"); store.ErrorCode(err) != store.ECONFLICT {
		t.Errorf("rename onto a taken key: %v", err)
	}
	if err := rename("zwsp", "zw@example.com"); err != nil {
		t.Errorf("rename to an accepted name: %v", err)
	}
	if err := update(func(tx store.Tx) error {
		for _, id := range []string{"fullwidth", "nfd"} {
			if _, err := tx.DeleteUser(id); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	problems, err = s.CheckNames(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Left: the refused email the deactivation kept.
	if len(problems) != 1 || problems[0].UserID != "rlo" || problems[0].Kind != store.NameRefused {
		t.Fatalf("after the fixes: %+v", problems)
	}
}

// dumpUsers reads every stored column of users that holds data, the
// migration's own columns excepted.
func dumpUsers(t *testing.T, s *Store) [][]any {
	t.Helper()
	var out [][]any
	err := s.get(context.Background(), func(r *reader) error {
		rows, err := r.conn.QueryContext(context.Background(), `SELECT seq, id, user_name, user_name_key, external_id,
			display_name, display_name_key, active, doc, hubspot, created, modified, version, origin, groups_json
			FROM users ORDER BY seq`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			row := make([]any, 15)
			ptrs := make([]any, len(row))
			for i := range row {
				ptrs[i] = &row[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			out = append(out, row)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
