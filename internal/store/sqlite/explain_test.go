package sqlite

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// The filters identity providers send on every provisioning cycle must be
// answered by index: Entra ID, Okta and others look a user up by userName,
// externalId or email before each create, and a group by displayName or
// member. This test reads SQLite's plan for each and rejects a table scan.
func TestHotFiltersUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	// Some data, so the planner is not looking at empty tables.
	if err := s.Update(ctx, func(tx store.Tx) error {
		var ids []schemas.Member
		for i := range 300 {
			u := &schemas.User{UserName: fmt.Sprintf("u%d", i), ExternalID: fmt.Sprint(i), DisplayName: fmt.Sprint("U ", i),
				Emails: []schemas.MultiValue{{Value: fmt.Sprintf("u%d@x", i), Type: "work"}}}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids = append(ids, schemas.Member{Value: u.ID})
		}
		for i := range 30 {
			if err := tx.CreateGroup(&schemas.Group{DisplayName: fmt.Sprint("g", i), Members: ids[i*10 : i*10+10]}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	users := []string{
		`userName eq "u1"`,
		`externalId eq "1"`,
		`id eq "x"`,
		`displayName eq "u 1"`,
		`emails.value eq "u1@x"`,
		`emails eq "u1@x"`,
		`emails[type eq "work" and value eq "u1@x"]`,
		`emails[value eq "u1@x"]`,
		`meta.lastModified gt "2026-01-02T03:04:05Z"`,
		`meta.lastModified ge "2026-01-02T03:04:05Z" and meta.lastModified lt "2026-01-03T03:04:05Z"`,
		`userName eq "u1" and externalId eq "1"`,
		`userName eq "u1" and active eq true`,
		`externalId eq "1" and emails[type eq "work" and value eq "u1@x"]`,
		`userName eq "u1" or externalId eq "1"`,
		`groups.value eq "x"`,
	}
	groups := []string{
		`displayName eq "g1"`,
		`externalId eq "g"`,
		`id eq "x"`,
		`members.value eq "x"`,
		`members[value eq "x"]`,
		`displayName eq "g1" and members.value eq "x"`,
	}
	check := func(t *testing.T, tbl *table, f string) {
		p, err := s.plan(tbl, schemas.Query{Filter: mustParse(t, f), Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{
			pair(p.pageSQL(userColsFor(tbl), startAt{})),
			pair(p.pageSQL(userColsFor(tbl), startAt{seek: true, seq: 42, skip: 7})),
			{p.countSQL(), p.args},
		} {
			plan := explain(t, s, q.sql, q.args)
			for _, line := range plan {
				// SCAN of a resource table or of a side table's index
				// means reading every row.
				if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "json_each") {
					t.Errorf("%s\n%s\nplan:\n  %s", f, q.sql, strings.Join(plan, "\n  "))
					break
				}
			}
			if testing.Verbose() {
				t.Logf("%s\n  %s", f, strings.Join(plan, "\n  "))
			}
		}
	}
	// A whole table in creation order, at any depth: a range of the
	// primary key from a block's first seq, in key order, and the
	// block counts it is found by.
	for _, tbl := range []*table{s.users, s.groups} {
		p, err := s.plan(tbl, schemas.Query{StartIndex: 5000, Count: 100})
		if err != nil {
			t.Fatal(err)
		}
		q, args := p.pageSQL(userColsFor(tbl), startAt{seek: true, from: true, seq: 4096, skip: 17})
		plan := strings.Join(explain(t, s, q, args), "\n")
		if !strings.Contains(plan, "USING INTEGER PRIMARY KEY (rowid>?)") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s\nplan:\n  %s", q, plan)
		}
		plan = strings.Join(explain(t, s, qRanks, []any{tbl.Name}), "\n")
		if !strings.Contains(plan, "SEARCH seq_buckets USING PRIMARY KEY (tbl=?)") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s\nplan:\n  %s", qRanks, plan)
		}
	}
	for _, f := range users {
		t.Run("Users/"+f, func(t *testing.T) { check(t, s.users, f) })
	}
	for _, f := range groups {
		t.Run("Groups/"+f, func(t *testing.T) { check(t, s.groups, f) })
	}
	// The related-data queries of a page, and the writes that maintain
	// users.groups_json.
	for _, q := range []string{qMembersOfGroups, qUserByIDGroups, qGroupByIDMembers, qRefreshUsers, qRefreshMemberUsers} {
		noScan(t, s, q, `["a","b"]`, 1)
	}
	// A manager's reports, looked up on each change of the manager's email.
	if plan := explain(t, s, qReportsOf, []any{"x"}); !strings.Contains(strings.Join(plan, "\n"), "USING INDEX users_manager") {
		t.Errorf("%s\nplan:\n  %s", qReportsOf, strings.Join(plan, "\n  "))
	}
	// The userName uniqueness check rides on every user write (RFC 8265
	// key): an index probe.
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{qInsertUser, []any{"id", "n", "n", nil, nil, nil, nil, "{}", nil, int64(1), "scim", "n"}},
		{qUpdateUser, []any{int64(1), "n", "n", nil, nil, nil, nil, "{}", int64(1), "scim", "n"}},
		{qNameTaken, []any{"n", int64(0)}},
	} {
		lines := explain(t, s, q.sql, q.args)
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "INDEX users_user_name_cmp (user_name_cmp=?)") || strings.Contains(plan, "TEMP B-TREE") ||
			slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "SCAN ") && l != "SCAN CONSTANT ROW" }) {
			t.Errorf("%s\nplan:\n  %s", q.sql, plan)
		}
	}
	noScan(t, s, qUserEmails, int64(1))
}

// noScan fails when q's plan reads a whole table or index.
func noScan(t *testing.T, s *Store, q string, args ...any) {
	t.Helper()
	plan := explain(t, s, q, args)
	for _, line := range plan {
		if strings.HasPrefix(line, "SCAN ") && !strings.Contains(line, "json_each") {
			t.Errorf("%s\nplan:\n  %s", q, strings.Join(plan, "\n  "))
			break
		}
	}
	if testing.Verbose() {
		t.Logf("%s\n  %s", q, strings.Join(plan, "\n  "))
	}
}

// The provisioning engine's queue reads use the partial index of due rows,
// and never sort.
func TestProvisioningUsesIndexes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	if err := s.Update(ctx, func(tx store.Tx) error {
		for i := range 300 {
			if _, _, err := tx.SetDesired(fmt.Sprint("u", i), []byte(`{}`)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q     string
		args  []any
		index string
	}{
		{qProvDue, []any{int64(1), 10}, "provisioning_due"},
		{qProvNextDue, nil, "provisioning_due"},
		{qProvLinked, []any{"h"}, "provisioning_hubspot_id"},
		{qProvByID, []any{"u1"}, ""},
		{qProvList, []any{"u1", 10}, ""},
	} {
		plan := explain(t, s, tc.q, tc.args)
		text := strings.Join(plan, "\n  ")
		if tc.index != "" && !strings.Contains(text, tc.index) {
			t.Errorf("%s\ndoes not use %s:\n  %s", tc.q, tc.index, text)
		}
		if strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s\nsorts:\n  %s", tc.q, text)
		}
		for _, line := range plan {
			// A scan of the partial index for the earliest due row stops
			// at the first entry (LIMIT 1).
			if strings.HasPrefix(line, "SCAN ") && !(tc.q == qProvNextDue && strings.Contains(line, "provisioning_due")) {
				t.Errorf("%s\nscans:\n  %s", tc.q, text)
			}
		}
		if testing.Verbose() {
			t.Logf("%s\n  %s", tc.q, text)
		}
	}
}

func pair(q string, args []any) struct {
	sql  string
	args []any
} {
	return struct {
		sql  string
		args []any
	}{q, args}
}

func userColsFor(t *table) string {
	if t.Name == "users" {
		return userCols
	}
	return groupCols
}

// explain returns the detail column of EXPLAIN QUERY PLAN, one line per
// step, indented by depth.
func explain(t *testing.T, s *Store, q string, args []any) []string {
	t.Helper()
	var out []string
	err := s.get(context.Background(), func(r *reader) error {
		rows, err := r.conn.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				return err
			}
			out = append(out, detail)
		}
		return rows.Err()
	})
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	return out
}
