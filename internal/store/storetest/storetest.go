// Package storetest is the conformance suite of store.Store. Every driver
// runs it from its tests:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openEmpty(t) })
//	}
//
// The suite only uses the store.Store interface. Expected results follow the
// contract documented in package store and RFC 7644 §3.4.2 for queries.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Run runs the suite. open must return a new, empty store for each call and
// release it when t ends (t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, open) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, open) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, open) })
	t.Run("Query", func(t *testing.T) { testQuery(t, open) })
	t.Run("Provisioning", func(t *testing.T) { testProvisioning(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("Origin", func(t *testing.T) { testOrigin(t, open) })
	t.Run("Scan", func(t *testing.T) { testScan(t, open) })
	t.Run("Runs", func(t *testing.T) { testRuns(t, open) })
	t.Run("State", func(t *testing.T) { testState(t, open) })
	t.Run("Names", func(t *testing.T) { testNames(t, open) })
}

// RunScans runs the scan tests of the suite alone (ScanUsers, ScanGroups),
// for a driver to run them once more with its scan pages made tiny, so
// that they cross many page boundaries.
func RunScans(t *testing.T, open func(t *testing.T) store.Store) { testScan(t, open) }

// errTest is the error test transactions fail with.
var errTest = errors.New("storetest: planned failure")

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

func createUser(t *testing.T, s store.Store, u *schemas.User) *schemas.User {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.CreateUser(u) })
	return u
}

func createGroup(t *testing.T, s store.Store, g *schemas.Group) *schemas.Group {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.CreateGroup(g) })
	return g
}

func getUser(t *testing.T, s store.Store, id string, withGroups bool) *schemas.User {
	t.Helper()
	u, err := s.GetUser(context.Background(), id, withGroups)
	if err != nil {
		t.Fatalf("GetUser(%s): %v", id, err)
	}
	return u
}

func getGroup(t *testing.T, s store.Store, id string, withMembers bool) *schemas.Group {
	t.Helper()
	g, err := s.GetGroup(context.Background(), id, withMembers)
	if err != nil {
		t.Fatalf("GetGroup(%s): %v", id, err)
	}
	return g
}

// wantCode checks that err carries the store error code want, and that its
// message mentions each of mention.
func wantCode(t *testing.T, err error, want string, mention ...string) {
	t.Helper()
	if got := store.ErrorCode(err); got != want {
		t.Fatalf("error = %v (code %q), want code %q", err, got, want)
	}
	for _, m := range mention {
		if !strings.Contains(err.Error(), m) {
			t.Errorf("error %q does not mention %q", err, m)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// parse parses a filter, replacing {label} with the id of that label.
func parse(t *testing.T, f string, ids map[string]string) filter.Expression {
	t.Helper()
	for label, id := range ids {
		f = strings.ReplaceAll(f, "{"+label+"}", id)
	}
	e, err := filter.ParseFilter([]byte(f))
	if err != nil {
		t.Fatalf("parse %q: %v", f, err)
	}
	return e
}

func userNames(us []*schemas.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.UserName
	}
	return out
}

func groupNames(gs []*schemas.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.DisplayName
	}
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

func memberValues(ms []schemas.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	return sorted(out)
}

func groupValues(gs []schemas.GroupRef) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Value
	}
	return out
}

func eqStrings(a, b []string) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return slices.Equal(a, b)
}

func fmtList(s []string) string { return fmt.Sprintf("%q", s) }
