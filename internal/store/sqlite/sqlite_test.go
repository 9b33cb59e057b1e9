package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/internal/store/sqlstore"
	"github.com/scimbridge/scimbridge/internal/store/storetest"
	"github.com/scimbridge/scimbridge/schemas"
)

var _ store.Store = (*Store)(nil)

func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "scim.db")
	}
	s, err := Open(context.Background(), cfg, schemas.MustLoad())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Config{}) })
}

// Deep pages read out of order and concurrently, over several seq_buckets
// blocks, filtered and sorted.
func TestConformancePaging(t *testing.T) {
	storetest.RunPaging(t, func(t *testing.T) store.Store { return openTest(t, Config{}) })
}

// A batch size of one disables group commit; the suite must pass either way.
func TestConformanceNoBatching(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, Config{BatchMax: 1, ReadConns: 1}) })
}

func TestConfig(t *testing.T) {
	cat := schemas.MustLoad()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		cfg  Config
		cat  *schemas.Catalog
	}{
		{"no path", Config{}, cat},
		{"memory", Config{Path: ":memory:"}, cat},
		{"uri", Config{Path: "file:x.db?mode=memory"}, cat},
		{"negative readers", Config{Path: filepath.Join(dir, "a.db"), ReadConns: -1}, cat},
		{"negative batch", Config{Path: filepath.Join(dir, "b.db"), BatchMax: -1}, cat},
		{"no catalog", Config{Path: filepath.Join(dir, "c.db")}, nil},
		{"bad directory", Config{Path: filepath.Join(dir, "missing", "d.db")}, cat},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(context.Background(), tc.cfg, tc.cat)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
		})
	}
	// A path with characters special to URIs.
	s := openTest(t, Config{Path: filepath.Join(dir, "odd ?#%name.db")})
	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	cat := schemas.MustLoad()
	s, err := Open(ctx, Config{Path: path}, cat)
	if err != nil {
		t.Fatal(err)
	}
	u := &schemas.User{UserName: "persist", Emails: []schemas.MultiValue{{Value: "p@x"}}}
	g := &schemas.Group{DisplayName: "G"}
	if err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		g.Members = []schemas.Member{{Value: u.ID}}
		return tx.CreateGroup(g)
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(store.Tx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("Update after Close = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	s = openTest(t, Config{Path: path})
	got, err := s.GetUser(ctx, u.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserName != "persist" || len(got.Groups) != 1 || got.Groups[0].Value != g.ID || !got.Meta.Created.Equal(u.Meta.Created) {
		t.Errorf("after reopen: %+v", got)
	}
	var n int
	if err := s.get(ctx, func(r *reader) error {
		return r.conn.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n)
	}); err != nil || n == 0 {
		t.Errorf("schema_migrations: %d rows, %v", n, err)
	}
	p, err := s.QueryUsers(ctx, schemas.Query{Filter: mustParse(t, `emails eq "P@X"`), Count: 1})
	if err != nil || p.Total != 1 {
		t.Errorf("after reopen, email filter: %+v %v", p, err)
	}
}

// A database written by a newer build is refused, not silently used.
func TestMigrationFromTheFuture(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	s, err := Open(ctx, Config{Path: path}, schemas.MustLoad())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(store.Tx) error {
		_, err := s.wconn.ExecContext(wctx(), "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, Config{Path: path}, schemas.MustLoad()); err == nil {
		s.Close()
		t.Fatal("Open accepted a newer schema")
	} else if !strings.Contains(err.Error(), "9999") {
		t.Errorf("error %v does not name the version", err)
	}
}

func TestLoadMigrations(t *testing.T) {
	ms, err := sqlstore.LoadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %s has version %d, want %d (no gaps)", m.Name, m.Version, i+1)
		}
	}
}

func mustParse(t testing.TB, f string) filter.Expression {
	t.Helper()
	e, err := filter.ParseFilter([]byte(f))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The HubSpot extension is stored apart from the SCIM document and kept by
// ReplaceUser; its attributes are filterable like any other.
func TestHubSpotExtension(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	synced := mustTime(t, "2026-03-01T10:00:00.123456Z")
	u := &schemas.User{UserName: "h", HubSpot: &schemas.HubSpotExt{HubSpotUserID: "HS-1", Role: "Admin",
		SecondaryTeams: []string{"Blue", "Red"}, SuperAdmin: true, LastSyncedAt: &synced}}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(u) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateUser(&schemas.User{UserName: "plain"})
	}); err != nil {
		t.Fatal(err)
	}
	repl := &schemas.User{ID: u.ID, UserName: "h", Title: "t"}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.ReplaceUser(repl) }); err != nil {
		t.Fatal(err)
	}
	if repl.HubSpot == nil || repl.HubSpot.Role != "Admin" {
		t.Errorf("ReplaceUser did not report the kept extension: %+v", repl.HubSpot)
	}
	got, err := s.GetUser(ctx, u.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	if got.HubSpot == nil || got.HubSpot.HubSpotUserID != "HS-1" || !got.HubSpot.LastSyncedAt.Equal(synced) {
		t.Errorf("extension after replace: %+v", got.HubSpot)
	}
	const hs = "urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User:"
	for f, want := range map[string]int{
		hs + `role eq "admin"`:                                    1,
		hs + `hubspotUserId eq "hs-1"`:                            0, // caseExact
		hs + `hubspotUserId eq "HS-1"`:                            1,
		hs + `secondaryTeams eq "red"`:                            1,
		hs + `superAdmin eq true`:                                 1,
		hs + `superAdmin eq false`:                                0,
		hs + `lastSyncedAt gt "2026-03-01T10:00:00.123455Z"`:      1,
		hs + `lastSyncedAt gt "2026-03-01T12:00:00+02:00"`:        1, // 10:00:00Z
		hs + `lastSyncedAt ge "2026-03-01T12:00:00+01:00"`:        0,
		hs + `lastSyncedAt eq "2026-03-01T11:00:00.123456+01:00"`: 1,
		hs + `role pr`:            1,
		`not (` + hs + `role pr)`: 1,
	} {
		p, err := s.QueryUsers(ctx, schemas.Query{Filter: mustParse(t, f), Count: 10})
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if p.Total != want {
			t.Errorf("%s: %d users, want %d", f, p.Total, want)
		}
	}
}

// meta.version takes an entity tag; the filter parser cannot carry its
// quotes, so the expression is built by hand as the HTTP layer may.
func TestMetaVersionFilter(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	u := &schemas.User{UserName: "v"}
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(u) }); err != nil {
		t.Fatal(err)
	}
	sub := "version"
	for tag, want := range map[string]int{`W/"1"`: 1, `"1"`: 1, `W/"2"`: 0} {
		e := &filter.AttributeExpression{AttributePath: filter.AttributePath{AttributeName: "meta", SubAttribute: &sub},
			Operator: filter.EQ, CompareValue: tag}
		p, err := s.QueryUsers(ctx, schemas.Query{Filter: e})
		if err != nil || p.Total != want {
			t.Errorf("meta.version eq %s: %+v %v, want %d", tag, p, err, want)
		}
	}
}

func TestPanicInUpdate(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	func() {
		defer func() {
			v := recover()
			if v == nil || !strings.Contains(v.(error).Error(), "boom") {
				t.Errorf("recovered %v, want the fn's panic", v)
			}
		}()
		_ = s.Update(ctx, func(tx store.Tx) error {
			if err := tx.CreateUser(&schemas.User{UserName: "p"}); err != nil {
				return err
			}
			panic("boom")
		})
	}()
	// The writer survived and the panicking job was rolled back.
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(&schemas.User{UserName: "p"}) }); err != nil {
		t.Fatal(err)
	}
}

// The JSON documents must keep every attribute the schemas describe under
// its canonical name: the filter compiler builds JSON paths from those names.
func TestDocumentNamesMatchSchemas(t *testing.T) {
	cat := schemas.MustLoad()
	u := fullyPopulatedUser()
	c, err := encodeUser(u)
	if err != nil {
		t.Fatal(err)
	}
	var doc, hub map[string]any
	mustUnmarshal(t, c.doc, &doc)
	mustUnmarshal(t, c.hubspot, &hub)
	for _, k := range []string{"id", "externalId", "userName", "groups", schemas.HubSpotURI} {
		if _, ok := doc[k]; ok {
			t.Errorf("doc keeps %q", k)
		}
	}
	check := func(obj map[string]any, s *schemas.Schema, skip ...string) {
		for _, a := range s.Attributes {
			if contains(skip, a.Name) {
				continue
			}
			v, ok := obj[a.Name]
			if !ok {
				t.Errorf("%s: attribute %q missing from the document", s.ID, a.Name)
				continue
			}
			if a.Type != schemas.TypeComplex {
				continue
			}
			elems := []any{v}
			if a.MultiValued {
				elems, _ = v.([]any)
			}
			for _, e := range elems {
				m, _ := e.(map[string]any)
				for _, sub := range a.SubAttributes {
					if _, ok := m[sub.Name]; !ok && !contains([]string{"$ref", "display", "primary"}, sub.Name) {
						t.Errorf("%s: sub-attribute %s.%s missing", s.ID, a.Name, sub.Name)
					}
				}
			}
		}
	}
	check(doc, cat.User, "userName", "groups")
	ent, _ := doc[schemas.EnterpriseURI].(map[string]any)
	check(ent, cat.Enterprise)
	check(hub, cat.HubSpot)
}

// The durability and safety settings are in force on each connection.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	pragma := func(q func(string) *sql.Row, name string) string {
		var v string
		if err := q("PRAGMA " + name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	if err := s.Update(ctx, func(store.Tx) error {
		w := func(q string) *sql.Row { return s.wconn.QueryRowContext(wctx(), q) }
		for name, want := range map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "query_only": "0"} {
			if got := pragma(w, name); got != want {
				t.Errorf("writer: %s = %s, want %s", name, got, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.get(ctx, func(r *reader) error {
		q := func(q string) *sql.Row { return r.conn.QueryRowContext(ctx, q) }
		if got := pragma(q, "query_only"); got != "1" {
			t.Errorf("reader: query_only = %s", got)
		}
		_, err := r.conn.ExecContext(ctx, "DELETE FROM users")
		if err == nil {
			t.Error("a reader could write")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Migration 0003 fills users.groups_json for the memberships a database
// already holds. The test writes them with this build, then takes the
// database back to before 0003 (column and record gone) and reopens it.
func TestMigrationFillsUserGroups(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "scim.db")
	cat := schemas.MustLoad()
	s, err := Open(ctx, Config{Path: path}, cat)
	if err != nil {
		t.Fatal(err)
	}
	var a, b, c *schemas.User
	if err := s.Update(ctx, func(tx store.Tx) error {
		a, b, c = &schemas.User{UserName: "a"}, &schemas.User{UserName: "b"}, &schemas.User{UserName: "c"}
		for _, u := range []*schemas.User{a, b, c} {
			if err := tx.CreateUser(u); err != nil {
				return err
			}
		}
		for _, g := range []*schemas.Group{
			{DisplayName: "zulu", Members: []schemas.Member{{Value: a.ID}, {Value: b.ID}}},
			{DisplayName: "Alpha \"quoted\"", Members: []schemas.Member{{Value: a.ID}}},
			{DisplayName: "mike"},
		} {
			if err := tx.CreateGroup(g); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]schemas.GroupRef{}
	for _, u := range []*schemas.User{a, b, c} {
		got, err := s.GetUser(ctx, u.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		want[u.ID] = got.Groups
	}
	if len(want[a.ID]) != 2 || want[a.ID][0].Display != `Alpha "quoted"` || len(want[c.ID]) != 0 {
		t.Fatalf("before: %+v", want)
	}
	if err := s.Update(ctx, func(store.Tx) error {
		for _, q := range []string{
			"ALTER TABLE users DROP COLUMN groups_json",
			"DELETE FROM schema_migrations WHERE version = 3",
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
	for _, u := range []*schemas.User{a, b, c} {
		got, err := s.GetUser(ctx, u.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Groups, want[u.ID]) {
			t.Errorf("%s after migration: %+v, want %+v", u.UserName, got.Groups, want[u.ID])
		}
	}
	p, err := s.QueryUsers(ctx, schemas.Query{Count: 10, Related: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range p.Users {
		if !slices.Equal(u.Groups, want[u.ID]) {
			t.Errorf("%s listed after migration: %+v, want %+v", u.UserName, u.Groups, want[u.ID])
		}
	}
}

// decodeGroups takes the fast path for what json_array writes without
// escapes and falls back to encoding/json for the rest; both agree.
func TestDecodeGroups(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []schemas.GroupRef
		fast bool
	}{
		{`[]`, nil, true},
		{`[["g1","Sales"]]`, []schemas.GroupRef{directGroup("g1", "Sales")}, true},
		{`[["g1","Sales"],["g2","Équipe ],[ x"]]`, []schemas.GroupRef{directGroup("g1", "Sales"), directGroup("g2", "Équipe ],[ x")}, true},
		{`[["g1","say \"hi\""]]`, []schemas.GroupRef{directGroup("g1", `say "hi"`)}, false},
		{`[["g1","back\\slash"],["g2","tab\t"]]`, []schemas.GroupRef{directGroup("g1", `back\slash`), directGroup("g2", "tab\t")}, false},
		{`[ ["g1", "spaced"] ]`, []schemas.GroupRef{directGroup("g1", "spaced")}, false},
	} {
		_, fast := decodeGroupsFast([]byte(tc.in))
		got, err := decodeGroups([]byte(tc.in))
		if err != nil || !slices.Equal(got, tc.want) || fast != tc.fast {
			t.Errorf("%s: %+v %v (fast %v), want %+v (fast %v)", tc.in, got, err, fast, tc.want, tc.fast)
		}
	}
	for _, bad := range []string{``, `[`, `[]]`, `[["g1"]]`, `[["g1","x"]`, `{"a":1}`, `[["g1","x",3]]`, `[["g1","x"]x]`, `[["g1","x"],]`} {
		if gs, ok := decodeGroupsFast([]byte(bad)); ok {
			t.Errorf("fast path accepted %q: %+v", bad, gs)
		}
	}
	for _, bad := range []string{`[`, `[["g1","x"]`, `{"a":1}`, `[["g1","x"]x]`} {
		if _, err := decodeGroups([]byte(bad)); err == nil {
			t.Errorf("decodeGroups accepted %q", bad)
		}
	}
}

// FuzzDecodeGroups checks decodeGroups against encoding/json on any pair
// of strings, written as SQLite's json_array writes them (no whitespace,
// no HTML escapes) and as encoding/json does.
func FuzzDecodeGroups(f *testing.F) {
	for _, seed := range [][2]string{{"g1", "Sales"}, {"g2", `a"b`}, {"", ""}, {"x", "],["}, {"é", "\x01\\"}, {"<", "&"}} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, id, name string) {
		pairs := [][2]string{{id, name}, {name, id}}
		var plain bytes.Buffer
		enc := json.NewEncoder(&plain)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(pairs); err != nil {
			t.Fatal(err)
		}
		html, err := json.Marshal(pairs)
		if err != nil {
			t.Fatal(err)
		}
		var want [][2]string
		if err := json.Unmarshal(html, &want); err != nil {
			t.Fatal(err)
		}
		for _, in := range [][]byte{bytes.TrimSpace(plain.Bytes()), html} {
			got, err := decodeGroups(in)
			if err != nil || len(got) != 2 {
				t.Fatalf("%s: %+v %v", in, got, err)
			}
			for i, g := range got {
				if g != directGroup(want[i][0], want[i][1]) {
					t.Errorf("%s: element %d = %+v, want %q", in, i, g, want[i])
				}
			}
		}
	})
}
