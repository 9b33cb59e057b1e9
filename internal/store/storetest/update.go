package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

func testUpdate(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("RollbackOnError", func(t *testing.T) { testUpdateRollbackOnError(t, open) })
	t.Run("AfterCommit", func(t *testing.T) { testUpdateAfterCommit(t, open) })
	t.Run("CanceledContext", func(t *testing.T) { testUpdateCanceledContext(t, open) })
	t.Run("NowStableWithinTx", func(t *testing.T) { testUpdateNowStableWithinTx(t, open) })
}

func testUpdateRollbackOnError(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	keep := createUser(t, s, &schemas.User{UserName: "keep"})
	ran := false
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(&schemas.User{UserName: "temp"}); err != nil {
			return err
		}
		if err := tx.CreateGroup(&schemas.Group{DisplayName: "temp", Members: []schemas.Member{{Value: keep.ID}}}); err != nil {
			return err
		}
		if _, err := tx.DeleteUser(keep.ID); err != nil {
			return err
		}
		if err := tx.AddAudit(&store.AuditRecord{Actor: "t", Action: "create", ResourceType: "User", ResourceID: "temp"}); err != nil {
			return err
		}
		tx.AfterCommit(func() { ran = true })
		return errTest
	})
	if !errors.Is(err, errTest) {
		t.Fatalf("Update = %v, want fn's error", err)
	}
	if ran {
		t.Error("AfterCommit ran for a failed transaction")
	}
	getUser(t, s, keep.ID, false)
	users, err := s.QueryUsers(ctx, schemas.Query{Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if !eqStrings(userNames(users.Users), []string{"keep"}) || users.Total != 1 {
		t.Errorf("users after rollback = %v (total %d)", userNames(users.Users), users.Total)
	}
	groups, err := s.QueryGroups(ctx, schemas.Query{Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if groups.Total != 0 || len(groups.Groups) != 0 {
		t.Errorf("groups after rollback = %v", groupNames(groups.Groups))
	}
	recs, err := s.Audit(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 0 {
		t.Errorf("audit after rollback = %+v", recs)
	}
	// A store error from a failed write inside fn, returned as is, also
	// rolls back the writes before it.
	err = s.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(&schemas.User{UserName: "first"}); err != nil {
			return err
		}
		return tx.CreateUser(&schemas.User{UserName: "KEEP"})
	})
	wantCode(t, err, store.ECONFLICT)
	p, err := s.QueryUsers(ctx, schemas.Query{Filter: parse(t, `userName eq "first"`, nil), Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if p.Total != 0 {
		t.Error("write before the failing one was kept")
	}
}

func testUpdateAfterCommit(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	var order []string
	err := s.Update(ctx, func(tx store.Tx) error {
		tx.AfterCommit(func() { order = append(order, "a") })
		tx.AfterCommit(func() { order = append(order, "b") })
		return tx.CreateUser(&schemas.User{UserName: "u"})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Registered functions have run, in order, when Update returns.
	if !eqStrings(order, []string{"a", "b"}) {
		t.Errorf("AfterCommit ran %v", order)
	}
	// After commit, the write is visible to readers.
	var seen bool
	err = s.Update(ctx, func(tx store.Tx) error {
		u := &schemas.User{UserName: "v"}
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		tx.AfterCommit(func() {
			_, err := s.GetUser(ctx, u.ID, false)
			seen = err == nil
		})
		return nil
	})
	if err != nil || !seen {
		t.Errorf("AfterCommit did not see the committed user (err %v)", err)
	}
}

func testUpdateCanceledContext(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	ran := false
	err := s.Update(cctx, func(tx store.Tx) error { ran = true; return nil })
	if !errors.Is(err, context.Canceled) || ran {
		t.Errorf("Update with a canceled context = %v, ran %v", err, ran)
	}
}

func testUpdateNowStableWithinTx(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	update(t, s, func(tx store.Tx) error {
		a := &schemas.User{UserName: "a"}
		b := &schemas.User{UserName: "b"}
		if err := tx.CreateUser(a); err != nil {
			return err
		}
		if err := tx.CreateUser(b); err != nil {
			return err
		}
		if !a.Meta.LastModified.Equal(tx.Now()) || !b.Meta.LastModified.Equal(tx.Now()) {
			t.Errorf("resources of one transaction differ from tx.Now(): %v %v %v", a.Meta.LastModified, b.Meta.LastModified, tx.Now())
		}
		return nil
	})
}

func testAudit(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	first := seedAudit(t, s)
	all, err := s.Audit(ctx, store.AuditQuery{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 {
		t.Fatalf("Limit 5: %d records", len(all))
	}
	got := all[0]
	if got.Seq != first.Seq || got.Actor != "okta" || got.Action != "create" || got.ResourceType != "User" ||
		got.ResourceID != "r0" || got.RequestID != "req-1" || got.Detail != "created" ||
		!eqStrings(got.Changed, []string{"userName", "emails"}) || !got.At.Equal(first.At) {
		t.Errorf("record = %+v, want %+v", got, first)
	}
	for _, tc := range []auditCase{
		{"default limit", store.AuditQuery{}, 100},
		{"capped", store.AuditQuery{Limit: 5000}, 1000},
		{"after", store.AuditQuery{After: all[4].Seq, Limit: 2000}, 1101 - 5},
		{"resource", store.AuditQuery{ResourceID: "r1", Limit: 1000}, 367},
		{"resource after", store.AuditQuery{ResourceID: "r0", After: first.Seq}, 0},
		{"none", store.AuditQuery{ResourceID: "nobody"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { testAuditQuery(t, s, tc) })
	}
	// Paging by After visits every record once.
	n, after := 0, int64(0)
	for {
		recs, err := s.Audit(ctx, store.AuditQuery{After: after, Limit: 333})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		n += len(recs)
		after = recs[len(recs)-1].Seq
	}
	if n != 1101 {
		t.Errorf("paging saw %d records, want 1101", n)
	}
}

// seedAudit adds a full first record, returned, and 1,100 more over a few
// transactions, every third for r1 and the rest for r2.
func seedAudit(t *testing.T, s store.Store) store.AuditRecord {
	t.Helper()
	var first store.AuditRecord
	update(t, s, func(tx store.Tx) error {
		first = store.AuditRecord{Actor: "okta", Action: "create", ResourceType: "User", ResourceID: "r0",
			RequestID: "req-1", Changed: []string{"userName", "emails"}, Detail: "created"}
		if err := tx.AddAudit(&first); err != nil {
			return err
		}
		if first.Seq == 0 || !first.At.Equal(tx.Now()) {
			t.Errorf("AddAudit filled Seq %d At %v, want > 0 and %v", first.Seq, first.At, tx.Now())
		}
		return nil
	})
	for b := 0; b < 11; b++ {
		update(t, s, func(tx store.Tx) error {
			for i := 0; i < 100; i++ {
				id := "r2"
				if (b*100+i)%3 == 0 {
					id = "r1"
				}
				if err := tx.AddAudit(&store.AuditRecord{Actor: "a", Action: "update", ResourceType: "User", ResourceID: id}); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return first
}

// auditCase is an audit query and how many records it returns.
type auditCase struct {
	name string
	q    store.AuditQuery
	want int
}

// testAuditQuery checks one query's record count and order.
func testAuditQuery(t *testing.T, s store.Store, tc auditCase) {
	recs, err := s.Audit(context.Background(), tc.q)
	if err != nil {
		t.Fatal(err)
	}
	want := min(tc.want, 1000)
	if len(recs) != want {
		t.Fatalf("%d records, want %d", len(recs), want)
	}
	for i, r := range recs {
		if r.Seq <= tc.q.After || (i > 0 && r.Seq <= recs[i-1].Seq) {
			t.Fatalf("record %d seq %d not ascending after %d", i, r.Seq, tc.q.After)
		}
		if tc.q.ResourceID != "" && r.ResourceID != tc.q.ResourceID {
			t.Fatalf("record for %s, want %s", r.ResourceID, tc.q.ResourceID)
		}
	}
}
