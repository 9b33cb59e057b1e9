package postgres

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
)

// The hot paths are index reads on a table large enough (and analyzed)
// for the planner to prefer them: the lookups identity providers make
// before every create (userName, emails.value, externalId), paging in
// creation order, the scans' keyset pages, the provisioning queue and the
// engine's link and manager lookups.
func TestHotPathsUseIndexes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t, Config{})
	const n = 20000
	for _, q := range []string{
		`INSERT INTO users (id, user_name, user_name_key, user_name_cmp, external_id, doc, created, modified, version)
		SELECT 'id-' || i, 'user' || i, 'user' || i, 'user' || i, 'ext-' || i,
			jsonb_build_object('emails', jsonb_build_array(jsonb_build_object('value', 'user' || i || '@example.com')),
				'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
				jsonb_build_object('manager', jsonb_build_object('value', 'id-' || (i / 10)))),
			now(), now(), 1
		FROM generate_series(1, ` + strconv.Itoa(n) + `) i`,
		`INSERT INTO user_emails (user_seq, pos, value_key) SELECT seq, 0, user_name || '@example.com' FROM users`,
		`INSERT INTO provisioning (user_id, desired, desired_version, applied_version, state, updated, hubspot_id, next_attempt)
		SELECT id, '\x7b7d', 2, CASE WHEN seq % 100 = 0 THEN 1 ELSE 2 END, 'synced', now(), 'hs-' || seq, now()
		FROM users`,
		`ANALYZE`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	list := func(f string, start int) (string, []any) {
		q := schemas.Query{StartIndex: start, Count: 100}
		if f != "" {
			e, err := filter.ParseFilter([]byte(f))
			if err != nil {
				t.Fatal(err)
			}
			q.Filter = e
		}
		p, err := s.plan(s.users, q)
		if err != nil {
			t.Fatal(err)
		}
		return p.pageSQL(userCols)
	}
	for _, tc := range []struct {
		name  string
		query string
		args  []any
		index string
	}{
		{name: "userName", index: "users_user_name_cmp"},
		{name: "emails.value", index: "user_emails_value_key"},
		{name: "externalId", index: "users_external_id"},
		{name: "page by seq", index: "users_pkey"},
		{name: "scan page", query: qScanUsers, args: []any{int64(n / 2), 1000}, index: "users_pkey"},
		{name: "due provisioning", query: qProvDue, args: []any{time.Now(), 100}, index: "provisioning_due"},
		{name: "next due", query: qProvNextDue, index: "provisioning_due"},
		{name: "linked user", query: qProvLinked, args: []any{"hs-42"}, index: "provisioning_hubspot_id"},
		{name: "reports of", query: qReportsOf, args: []any{"id-42"}, index: "users_manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args := tc.query, tc.args
			switch tc.name {
			case "userName":
				query, args = list(`userName eq "USER42"`, 1)
			case "emails.value":
				query, args = list(`emails.value eq "User42@Example.com"`, 1)
			case "externalId":
				query, args = list(`externalId eq "ext-42"`, 1)
			case "page by seq":
				query, args = list("", 5001)
			}
			rows, err := s.pool.Query(ctx, "EXPLAIN "+query, args...)
			if err != nil {
				t.Fatalf("EXPLAIN %s: %v", query, err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			text := strings.Join(plan, "\n")
			if !strings.Contains(text, tc.index) || strings.Contains(text, "Seq Scan") {
				t.Errorf("%s\nplan does not read index %s alone:\n%s", query, tc.index, text)
			}
			// The rows before a page are skipped without reading them.
			if tc.name == "page by seq" && !strings.Contains(text, "Index Only Scan using users_pkey") {
				t.Errorf("%s\nplan skips the rows before the page by reading them:\n%s", query, text)
			}
		})
	}
}
