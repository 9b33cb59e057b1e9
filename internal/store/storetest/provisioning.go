package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// Provisioning rows: the provisioning engine's queue of HubSpot work.

func setDesired(t *testing.T, s store.Store, userID, desired string) (p *store.Provisioning, changed bool) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		var err error
		p, changed, err = tx.SetDesired(userID, []byte(desired))
		return err
	})
	return p, changed
}

func recordOutcome(t *testing.T, s store.Store, userID string, o store.Outcome) (now time.Time) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		now = tx.Now()
		return tx.RecordOutcome(userID, o)
	})
	return now
}

func getProvisioning(t *testing.T, s store.Store, userID string) *store.Provisioning {
	t.Helper()
	p, err := s.GetProvisioning(context.Background(), userID)
	if err != nil {
		t.Fatalf("GetProvisioning(%s): %v", userID, err)
	}
	return p
}

func provIDs(ps []*store.Provisioning) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.UserID
	}
	return out
}

// sameProv compares rows, times as instants.
func sameProv(a, b *store.Provisioning) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, y := *a, *b
	for _, p := range []struct{ a, b *time.Time }{{&x.NextAttempt, &y.NextAttempt}, {&x.LastSynced, &y.LastSynced}, {&x.Updated, &y.Updated}} {
		if !p.a.Equal(*p.b) {
			return false
		}
		*p.a, *p.b = time.Time{}, time.Time{}
	}
	return reflect.DeepEqual(x, y)
}

// sameJSON compares values by their JSON encoding (times as written).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// provNow is a time to schedule retries around, at the precision stores
// keep.
func provNow() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func testProvisioning(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("SetDesired", func(t *testing.T) {
		s := open(t)
		_, err := s.GetProvisioning(ctx, "u1")
		wantCode(t, err, store.ENOTFOUND, "u1")
		err = s.Update(ctx, func(tx store.Tx) error { _, err := tx.GetProvisioning("u1"); return err })
		wantCode(t, err, store.ENOTFOUND)

		var now time.Time
		var p *store.Provisioning
		var changed bool
		update(t, s, func(tx store.Tx) error {
			now = tx.Now()
			var err error
			if p, changed, err = tx.SetDesired("u1", []byte(`{"email":"a@x"}`)); err != nil {
				return err
			}
			// A transaction reads its own writes.
			got, err := tx.GetProvisioning("u1")
			if err != nil {
				return err
			}
			if !sameProv(got, p) {
				t.Errorf("tx.GetProvisioning = %+v, SetDesired returned %+v", got, p)
			}
			return nil
		})
		want := &store.Provisioning{UserID: "u1", Kind: store.KindUser, Desired: []byte(`{"email":"a@x"}`), DesiredVersion: 1,
			State: "pending", Updated: now}
		if !changed || !sameProv(p, want) {
			t.Fatalf("new row: changed %v, %+v; want %+v", changed, p, want)
		}
		if got := getProvisioning(t, s, "u1"); !sameProv(got, want) {
			t.Errorf("stored %+v, want %+v", got, want)
		}
		if !p.Due(now) || p.Updated.Location() != time.UTC {
			t.Errorf("a new row is due now, in UTC: %+v", p)
		}

		// The same bytes change nothing, however the row stands.
		retry := provNow().Add(time.Hour)
		recordOutcome(t, s, "u1", store.Outcome{Version: 1, HubSpotID: "h1", State: "failed", LastError: "no", NextAttempt: retry})
		failed := getProvisioning(t, s, "u1")
		time.Sleep(2 * time.Millisecond)
		p, changed = setDesired(t, s, "u1", `{"email":"a@x"}`)
		if changed || !sameProv(p, failed) {
			t.Errorf("same document: changed %v, row %+v, want %+v", changed, p, failed)
		}
		if got := getProvisioning(t, s, "u1"); !sameProv(got, failed) {
			t.Errorf("same document rewrote the row: %+v, want %+v", got, failed)
		}

		// Different bytes are a new version, due now, even when the JSON
		// means the same: the document is opaque.
		update(t, s, func(tx store.Tx) error {
			now = tx.Now()
			var err error
			p, changed, err = tx.SetDesired("u1", []byte(`{"email": "a@x"}`))
			return err
		})
		want = &store.Provisioning{UserID: "u1", Kind: store.KindUser, Desired: []byte(`{"email": "a@x"}`), DesiredVersion: 2,
			AttemptedVersion: 1, HubSpotID: "h1", State: "pending", LastError: "no", Updated: now}
		if !changed || !sameProv(p, want) {
			t.Errorf("changed document: changed %v, %+v; want %+v", changed, p, want)
		}

		// An empty document is a document.
		p, changed = setDesired(t, s, "u2", "")
		if !changed || p.Desired == nil || len(p.Desired) != 0 || p.DesiredVersion != 1 {
			t.Errorf("empty document: changed %v, %+v", changed, p)
		}
		update(t, s, func(tx store.Tx) error {
			p, changed, err = tx.SetDesired("u2", nil)
			return err
		})
		if changed || p.DesiredVersion != 1 {
			t.Errorf("nil after empty: changed %v, version %d", changed, p.DesiredVersion)
		}

		// A failed transaction leaves no row.
		err = s.Update(ctx, func(tx store.Tx) error {
			if _, _, err := tx.SetDesired("u3", []byte(`{}`)); err != nil {
				return err
			}
			if _, _, err := tx.SetDesired("u1", []byte(`{"x":1}`)); err != nil {
				return err
			}
			return errTest
		})
		if !errors.Is(err, errTest) {
			t.Fatalf("Update = %v", err)
		}
		_, err = s.GetProvisioning(ctx, "u3")
		wantCode(t, err, store.ENOTFOUND)
		if got := getProvisioning(t, s, "u1"); got.DesiredVersion != 2 {
			t.Errorf("rolled back SetDesired left version %d", got.DesiredVersion)
		}
	})

	t.Run("Due", func(t *testing.T) {
		s := open(t)
		base := provNow()
		for _, id := range []string{"e", "b", "d", "c", "a"} {
			setDesired(t, s, id, `{}`)
		}
		recordOutcome(t, s, "a", store.Outcome{Version: 1, Done: true, State: "synced"})
		recordOutcome(t, s, "b", store.Outcome{Version: 1, State: "failed", NextAttempt: base.Add(time.Hour)})
		recordOutcome(t, s, "c", store.Outcome{Version: 1, State: "pending", NextAttempt: base.Add(10 * time.Minute)})
		recordOutcome(t, s, "e", store.Outcome{Version: 1, State: "pending", NextAttempt: base.Add(10 * time.Minute)})
		for _, tc := range []struct {
			now   time.Time
			limit int
			want  []string
		}{
			{base, 10, []string{"d"}},
			{base.Add(10*time.Minute - time.Microsecond), 10, []string{"d"}},
			{base.Add(10 * time.Minute), 10, []string{"d", "c", "e"}}, // due at NextAttempt itself
			{base.Add(2 * time.Hour), 10, []string{"d", "c", "e", "b"}},
			{base.Add(2 * time.Hour), 2, []string{"d", "c"}},
			{base.Add(2 * time.Hour), 0, []string{"d", "c", "e", "b"}},
		} {
			due, err := s.DueProvisioning(ctx, tc.now, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := provIDs(due); !eqStrings(got, tc.want) {
				t.Errorf("due at +%v limit %d: %v, want %v", tc.now.Sub(base), tc.limit, got, tc.want)
			}
			for _, p := range due {
				if !p.Due(tc.now) {
					t.Errorf("listed %s is not Due: %+v", p.UserID, p)
				}
			}
		}
		next, ok, err := s.NextProvisioningDue(ctx)
		if err != nil || !ok || !next.IsZero() {
			t.Errorf("NextProvisioningDue = %v %v %v, want zero (due now)", next, ok, err)
		}
		recordOutcome(t, s, "d", store.Outcome{Version: 1, Done: true, State: "synced"})
		next, ok, err = s.NextProvisioningDue(ctx)
		if err != nil || !ok || !next.Equal(base.Add(10*time.Minute)) {
			t.Errorf("NextProvisioningDue = %v %v %v, want %v", next, ok, err, base.Add(10*time.Minute))
		}
		for _, id := range []string{"b", "c", "e"} {
			recordOutcome(t, s, id, store.Outcome{Version: 1, Done: true, State: "synced"})
		}
		if next, ok, err := s.NextProvisioningDue(ctx); err != nil || ok {
			t.Errorf("nothing to do: NextProvisioningDue = %v %v %v", next, ok, err)
		}
		if due, err := s.DueProvisioning(ctx, base.Add(100*time.Hour), 10); err != nil || len(due) != 0 {
			t.Errorf("nothing to do: due %v %v", provIDs(due), err)
		}
	})

	t.Run("Outcome", func(t *testing.T) {
		s := open(t)
		setDesired(t, s, "u", `{"v":1}`)
		retry := provNow().Add(time.Minute)

		// Failures count up and schedule the retry.
		recordOutcome(t, s, "u", store.Outcome{Version: 1, State: "pending", LastError: "503", NextAttempt: retry})
		now := recordOutcome(t, s, "u", store.Outcome{Version: 1, HubSpotID: "h1", State: "pending", LastError: "503 again", NextAttempt: retry.Add(time.Minute)})
		want := &store.Provisioning{UserID: "u", Kind: store.KindUser, Desired: []byte(`{"v":1}`), DesiredVersion: 1, AttemptedVersion: 1,
			HubSpotID: "h1", State: "pending", LastError: "503 again", Attempts: 2, NextAttempt: retry.Add(time.Minute), Updated: now}
		if got := getProvisioning(t, s, "u"); !sameProv(got, want) {
			t.Errorf("after two failures: %+v\nwant %+v", got, want)
		}

		// Success applies the version and resets the count.
		now = recordOutcome(t, s, "u", store.Outcome{Version: 1, Done: true, HubSpotID: "h1", State: "synced", Synced: true})
		want = &store.Provisioning{UserID: "u", Kind: store.KindUser, Desired: []byte(`{"v":1}`), DesiredVersion: 1, AppliedVersion: 1, AttemptedVersion: 1,
			HubSpotID: "h1", State: "synced", LastSynced: now, Updated: now}
		got := getProvisioning(t, s, "u")
		if !sameProv(got, want) {
			t.Errorf("after success: %+v\nwant %+v", got, want)
		}
		if got.Due(now.Add(time.Hour)) {
			t.Error("an applied row is due")
		}
		synced := now

		// The row moves on while a worker works on version 2: its success
		// applies version 2 only, and version 3 stays due now.
		setDesired(t, s, "u", `{"v":2}`)
		setDesired(t, s, "u", `{"v":3}`)
		now = recordOutcome(t, s, "u", store.Outcome{Version: 2, Done: true, HubSpotID: "h2", State: "synced"})
		want = &store.Provisioning{UserID: "u", Kind: store.KindUser, Desired: []byte(`{"v":3}`), DesiredVersion: 3, AppliedVersion: 2, AttemptedVersion: 2,
			HubSpotID: "h2", State: "synced", LastSynced: synced, Updated: now}
		if got := getProvisioning(t, s, "u"); !sameProv(got, want) {
			t.Errorf("success on a moved-on row: %+v\nwant %+v", got, want)
		}
		// A failure of an old version is recorded, but does not postpone
		// the newer one.
		setDesired(t, s, "u", `{"v":4}`)
		now = recordOutcome(t, s, "u", store.Outcome{Version: 3, HubSpotID: "h2", State: "failed", LastError: "refused", NextAttempt: retry.Add(time.Hour)})
		want = &store.Provisioning{UserID: "u", Kind: store.KindUser, Desired: []byte(`{"v":4}`), DesiredVersion: 4, AppliedVersion: 2, AttemptedVersion: 3,
			HubSpotID: "h2", State: "failed", LastError: "refused", Attempts: 1, LastSynced: synced, Updated: now}
		if got := getProvisioning(t, s, "u"); !sameProv(got, want) {
			t.Errorf("failure on a moved-on row: %+v\nwant %+v", got, want)
		}
		if due, err := s.DueProvisioning(ctx, provNow(), 10); err != nil || !eqStrings(provIDs(due), []string{"u"}) {
			t.Errorf("the newer version is not due now: %v %v", provIDs(due), err)
		}

		// Versions never go back, and a version the row never had leaves
		// them alone.
		recordOutcome(t, s, "u", store.Outcome{Version: 4, Done: true, HubSpotID: "h2", State: "synced"})
		recordOutcome(t, s, "u", store.Outcome{Version: 1, Done: true, HubSpotID: "h2", State: "synced"})
		recordOutcome(t, s, "u", store.Outcome{Version: 99, Done: true, HubSpotID: "h2", State: "synced"})
		if got := getProvisioning(t, s, "u"); got.AppliedVersion != 4 || got.AttemptedVersion != 4 || got.DesiredVersion != 4 {
			t.Errorf("versions after stale and foreign outcomes: %+v", got)
		}
		// An empty HubSpotID clears the link.
		recordOutcome(t, s, "u", store.Outcome{Version: 4, Done: true, State: "removed"})
		if got := getProvisioning(t, s, "u"); got.HubSpotID != "" || got.State != "removed" || got.LastError != "" {
			t.Errorf("after removal: %+v", got)
		}

		err := s.Update(ctx, func(tx store.Tx) error { return tx.RecordOutcome("nobody", store.Outcome{Version: 1, Done: true}) })
		wantCode(t, err, store.ENOTFOUND, "nobody")
		err = s.Update(ctx, func(tx store.Tx) error {
			return tx.RecordOutcome("u", store.Outcome{Version: 4, Ext: &schemas.HubSpotExt{}, ClearExt: true})
		})
		wantCode(t, err, store.EINVALID)
	})

	t.Run("Ext", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, &schemas.User{UserName: "u"})
		meta := getUser(t, s, u.ID, false).Meta
		setDesired(t, s, u.ID, `{}`)
		synced := provNow().Add(-time.Minute)
		ext := &schemas.HubSpotExt{HubSpotUserID: "h1", Role: "Sales", PrimaryTeam: "EMEA", SecondaryTeams: []string{"A", "B"},
			ProvisioningState: "synced", LastSyncedAt: &synced}
		time.Sleep(2 * time.Millisecond)
		recordOutcome(t, s, u.ID, store.Outcome{Version: 1, Done: true, HubSpotID: "h1", State: "synced", Ext: ext})
		got := getUser(t, s, u.ID, true)
		if !sameJSON(got.HubSpot, ext) {
			t.Errorf("extension %+v, want %+v", got.HubSpot, ext)
		}
		if got.Meta != meta {
			t.Errorf("the extension changed the user's meta: %+v, was %+v", got.Meta, meta)
		}
		// It is the user's like any attribute: lists show it, filters see it.
		p, err := s.QueryUsers(ctx, schemas.Query{Filter: parse(t, schemas.HubSpotURI+`:role eq "sales"`, nil), Count: 10})
		if err != nil || p.Total != 1 || !sameJSON(p.Users[0].HubSpot, ext) {
			t.Errorf("filter on the extension: %+v %v", p, err)
		}

		// nil leaves it, ClearExt removes it; neither touches meta.
		recordOutcome(t, s, u.ID, store.Outcome{Version: 1, Done: true, HubSpotID: "h1", State: "synced"})
		if got := getUser(t, s, u.ID, false); !sameJSON(got.HubSpot, ext) {
			t.Errorf("nil Ext changed the extension: %+v", got.HubSpot)
		}
		recordOutcome(t, s, u.ID, store.Outcome{Version: 1, Done: true, State: "removed", ClearExt: true})
		if got := getUser(t, s, u.ID, false); got.HubSpot != nil || got.Meta != meta {
			t.Errorf("after ClearExt: %+v %+v", got.HubSpot, got.Meta)
		}

		// SetHubSpotExt sets and removes it the same way, inside a write.
		pending := &schemas.HubSpotExt{HubSpotUserID: "h1", ProvisioningState: "pending"}
		update(t, s, func(tx store.Tx) error { return tx.SetHubSpotExt(u.ID, pending) })
		if got := getUser(t, s, u.ID, false); !sameJSON(got.HubSpot, pending) || got.Meta != meta {
			t.Errorf("after SetHubSpotExt: %+v %+v", got.HubSpot, got.Meta)
		}
		update(t, s, func(tx store.Tx) error { return tx.SetHubSpotExt(u.ID, nil) })
		if got := getUser(t, s, u.ID, false); got.HubSpot != nil {
			t.Errorf("SetHubSpotExt(nil) left %+v", got.HubSpot)
		}
		update(t, s, func(tx store.Tx) error { return tx.SetHubSpotExt("no-such-user", pending) })

		// The row outlives the user; an outcome for it still records.
		update(t, s, func(tx store.Tx) error { _, err := tx.DeleteUser(u.ID); return err })
		before := getProvisioning(t, s, u.ID)
		if before.DesiredVersion != 1 {
			t.Errorf("row after DeleteUser: %+v", before)
		}
		setDesired(t, s, u.ID, `{"present":false}`)
		recordOutcome(t, s, u.ID, store.Outcome{Version: 2, Done: true, State: "removed", Ext: ext})
		if got := getProvisioning(t, s, u.ID); got.AppliedVersion != 2 || got.State != "removed" {
			t.Errorf("outcome for a deleted user: %+v", got)
		}
		update(t, s, func(tx store.Tx) error { return tx.DeleteProvisioning(u.ID) })
		_, err = s.GetProvisioning(ctx, u.ID)
		wantCode(t, err, store.ENOTFOUND)
		err = s.Update(ctx, func(tx store.Tx) error { return tx.DeleteProvisioning(u.ID) })
		wantCode(t, err, store.ENOTFOUND)
		err = s.Update(ctx, func(tx store.Tx) error { return tx.RecordOutcome(u.ID, store.Outcome{Version: 2, Done: true}) })
		wantCode(t, err, store.ENOTFOUND)
	})

	t.Run("Touch", func(t *testing.T) {
		s := open(t)
		var n int
		update(t, s, func(tx store.Tx) error {
			var err error
			n, err = tx.TouchProvisioning()
			return err
		})
		if n != 0 {
			t.Errorf("Touch on no rows = %d", n)
		}
		retry := provNow().Add(time.Hour)
		for _, id := range []string{"synced", "failed", "pending"} {
			setDesired(t, s, id, `{"id":"`+id+`"}`)
		}
		recordOutcome(t, s, "synced", store.Outcome{Version: 1, Done: true, State: "synced"})
		recordOutcome(t, s, "failed", store.Outcome{Version: 1, State: "failed", NextAttempt: retry})
		before := map[string]*store.Provisioning{}
		for _, id := range []string{"synced", "failed", "pending"} {
			before[id] = getProvisioning(t, s, id)
		}
		var now time.Time
		update(t, s, func(tx store.Tx) error {
			now = tx.Now()
			var err error
			n, err = tx.TouchProvisioning()
			return err
		})
		if n != 3 {
			t.Errorf("Touch = %d, want 3", n)
		}
		for id, b := range before {
			want := *b
			want.DesiredVersion++
			want.NextAttempt = time.Time{}
			want.Updated = now
			if got := getProvisioning(t, s, id); !sameProv(got, &want) {
				t.Errorf("%s after Touch: %+v\nwant %+v", id, got, &want)
			}
		}
		due, err := s.DueProvisioning(ctx, provNow(), 10)
		if err != nil || !eqStrings(provIDs(due), []string{"failed", "pending", "synced"}) {
			t.Errorf("due after Touch: %v %v", provIDs(due), err)
		}
	})

	t.Run("CountsAndList", func(t *testing.T) {
		s := open(t)
		counts, err := s.ProvisioningCounts(ctx)
		if err != nil || !reflect.DeepEqual(counts, map[string]int{"_pending": 0}) {
			t.Errorf("counts of nothing = %v %v", counts, err)
		}
		if ps, err := s.ListProvisioning(ctx, "", 10); err != nil || len(ps) != 0 {
			t.Errorf("list of nothing = %v %v", provIDs(ps), err)
		}
		const n = 1100
		var all []string
		update(t, s, func(tx store.Tx) error {
			for i := range n {
				id := fmt.Sprintf("user%04d", (i*7)%n) // not in id order
				all = append(all, id)
				if _, _, err := tx.SetDesired(id, []byte(`{}`)); err != nil {
					return err
				}
				var o store.Outcome
				switch i % 4 {
				case 0:
					continue // pending
				case 1:
					o = store.Outcome{Version: 1, Done: true, State: "synced"}
				case 2:
					o = store.Outcome{Version: 1, State: "failed", NextAttempt: provNow().Add(time.Hour)}
				case 3:
					o = store.Outcome{Version: 1, Done: true, State: "skipped"}
				}
				if err := tx.RecordOutcome(id, o); err != nil {
					return err
				}
			}
			return nil
		})
		counts, err = s.ProvisioningCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"pending": n / 4, "synced": n / 4, "failed": n / 4, "skipped": n / 4, "_pending": n / 2}
		if !reflect.DeepEqual(counts, want) {
			t.Errorf("counts = %v, want %v", counts, want)
		}

		// Paging by user id visits every row once, in order.
		var seen []string
		for after := ""; ; {
			ps, err := s.ListProvisioning(ctx, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) == 0 {
				break
			}
			if len(ps) > 7 {
				t.Fatalf("page of %d, limit 7", len(ps))
			}
			seen = append(seen, provIDs(ps)...)
			after = ps[len(ps)-1].UserID
		}
		if !eqStrings(seen, sorted(all)) {
			t.Errorf("paging saw %d rows, want %d in id order", len(seen), n)
		}
		for _, tc := range []struct {
			after       string
			limit, want int
		}{{"", 0, 100}, {"", 5000, 1000}, {"user1090", 100, 9}, {"zzz", 10, 0}} {
			ps, err := s.ListProvisioning(ctx, tc.after, tc.limit)
			if err != nil || len(ps) != tc.want {
				t.Errorf("ListProvisioning(%q, %d): %d rows, %v; want %d", tc.after, tc.limit, len(ps), err, tc.want)
			}
		}
		due, err := s.DueProvisioning(ctx, provNow(), 5000)
		if err != nil || len(due) != n/4 {
			t.Errorf("due: %d rows, %v; want %d", len(due), err, n/4)
		}
		if due, err := s.DueProvisioning(ctx, provNow().Add(2*time.Hour), 5000); err != nil || len(due) != n/2 {
			t.Errorf("due later: %d rows, %v; want %d", len(due), err, n/2)
		}
	})

	t.Run("Aliasing", func(t *testing.T) { testProvisioningAliasing(t, open) })
	t.Run("TouchOne", func(t *testing.T) { testTouchProvisioningOf(t, open(t)) })
	t.Run("OldestPending", func(t *testing.T) { testOldestPending(t, open(t)) })

	t.Run("LinkedUser", func(t *testing.T) {
		s := open(t)
		linked := func(h string) string {
			t.Helper()
			var id string
			update(t, s, func(tx store.Tx) error {
				var err error
				id, err = tx.LinkedUser(h)
				return err
			})
			return id
		}
		setDesired(t, s, "u1", `{}`)
		setDesired(t, s, "u2", `{}`)
		if got := linked("h1"); got != "" {
			t.Errorf("unlinked h1 → %q", got)
		}
		recordOutcome(t, s, "u1", store.Outcome{Version: 1, Done: true, HubSpotID: "h1", State: "synced"})
		recordOutcome(t, s, "u2", store.Outcome{Version: 1, Done: true, State: "skipped"})
		for h, want := range map[string]string{"h1": "u1", "H1": "", "": "", "h2": ""} {
			if got := linked(h); got != want {
				t.Errorf("LinkedUser(%q) = %q, want %q", h, got, want)
			}
		}
		// A new link replaces the old one; removing the row removes it.
		recordOutcome(t, s, "u1", store.Outcome{Version: 1, Done: true, HubSpotID: "h2", State: "synced"})
		if got, got2 := linked("h1"), linked("h2"); got != "" || got2 != "u1" {
			t.Errorf("after relinking: h1 → %q, h2 → %q", got, got2)
		}
		// Kept by SetDesired.
		setDesired(t, s, "u1", `{"new":true}`)
		if got := linked("h2"); got != "u1" {
			t.Errorf("SetDesired dropped the link: h2 → %q", got)
		}
		update(t, s, func(tx store.Tx) error { return tx.DeleteProvisioning("u1") })
		if got := linked("h2"); got != "" {
			t.Errorf("after delete: h2 → %q", got)
		}
		// A team row links a HubSpot team, whose ids are another number
		// space: a team holding a user's id makes no owner of it.
		update(t, s, func(tx store.Tx) error {
			_, _, err := tx.SetDesiredOf(store.KindTeam, "team-of-g1", []byte(`{}`))
			return err
		})
		recordOutcome(t, s, "team-of-g1", store.Outcome{Version: 1, Done: true, HubSpotID: "h3", State: "synced"})
		if got := linked("h3"); got != "" {
			t.Errorf("a team row's link owns HubSpot user h3: %q", got)
		}
	})

	t.Run("Kinds", func(t *testing.T) { testProvisioningKinds(t, open(t)) })
}

// testProvisioningKinds: a row is of the kind it was created with, which
// every read returns; another kind cannot take its key over.
func testProvisioningKinds(t *testing.T, s store.Store) {
	ctx := context.Background()
	setKind := func(kind store.ProvisioningKind, key, doc string) (p *store.Provisioning, changed bool, err error) {
		err = s.Update(ctx, func(tx store.Tx) error {
			var err error
			p, changed, err = tx.SetDesiredOf(kind, key, []byte(doc))
			return err
		})
		return p, changed, err
	}
	if p, changed, err := setKind(store.KindTeam, "t1", `{"name":"Sales"}`); err != nil || !changed || p.Kind != store.KindTeam || p.UserID != "t1" {
		t.Fatalf("new team row: %+v %v %v", p, changed, err)
	}
	if p, changed, err := setKind(store.KindUser, "u1", `{}`); err != nil || !changed || p.Kind != store.KindUser {
		t.Fatalf("new user row: %+v %v %v", p, changed, err)
	}
	if p, _ := setDesired(t, s, "u2", `{}`); p.Kind != store.KindUser {
		t.Errorf("SetDesired made a row of kind %q", p.Kind)
	}
	// Same document, and a new one: the team row stays a team row.
	for i, doc := range []string{`{"name":"Sales"}`, `{"name":"Sales EMEA"}`} {
		if p, changed, err := setKind(store.KindTeam, "t1", doc); err != nil || changed != (i == 1) || p.Kind != store.KindTeam {
			t.Errorf("team row again (%s): %+v %v %v", doc, p, changed, err)
		}
	}
	before := getProvisioning(t, s, "t1")
	for _, c := range []struct {
		kind store.ProvisioningKind
		key  string
		code string
	}{
		{store.KindUser, "t1", store.ECONFLICT},
		{store.KindTeam, "u1", store.ECONFLICT},
		{"group", "t2", store.EINVALID},
		{"", "t2", store.EINVALID},
	} {
		_, _, err := setKind(c.kind, c.key, `{"other":true}`)
		wantCode(t, err, c.code, c.key)
	}
	if got := getProvisioning(t, s, "t1"); !sameProv(got, before) {
		t.Errorf("a refused write changed the team row: %+v, want %+v", got, before)
	}
	if _, err := s.GetProvisioning(ctx, "t2"); store.ErrorCode(err) != store.ENOTFOUND {
		t.Errorf("a refused kind made a row: %v", err)
	}
	// Every read returns the kind.
	kinds := func(ps []*store.Provisioning) map[string]store.ProvisioningKind {
		m := map[string]store.ProvisioningKind{}
		for _, p := range ps {
			m[p.UserID] = p.Kind
		}
		return m
	}
	want := map[string]store.ProvisioningKind{"t1": store.KindTeam, "u1": store.KindUser, "u2": store.KindUser}
	list, err := s.ListProvisioning(ctx, "", 0)
	if err != nil || !reflect.DeepEqual(kinds(list), want) {
		t.Errorf("ListProvisioning kinds %v (%v), want %v", kinds(list), err, want)
	}
	due, err := s.DueProvisioning(ctx, provNow(), 0)
	if err != nil || !reflect.DeepEqual(kinds(due), want) {
		t.Errorf("DueProvisioning kinds %v (%v), want %v", kinds(due), err, want)
	}
	update(t, s, func(tx store.Tx) error {
		p, err := tx.GetProvisioning("t1")
		if err != nil || p.Kind != store.KindTeam {
			t.Errorf("tx.GetProvisioning(t1) = %+v, %v", p, err)
		}
		return nil
	})
}

// testProvisioningAliasing: the Desired bytes are the caller's; changing
// them after SetDesired, or changing a returned row, must not reach the
// store.
func testProvisioningAliasing(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	doc := []byte(`{"a":1}`)
	p, _ := setDesired(t, s, "u", string(doc))
	update(t, s, func(tx store.Tx) error {
		var err error
		p, _, err = tx.SetDesired("u", doc)
		return err
	})
	doc[2] = 'X'
	p.Desired[2] = 'Y'
	if got := getProvisioning(t, s, "u"); !bytes.Equal(got.Desired, []byte(`{"a":1}`)) {
		t.Errorf("stored document changed through an alias: %s", got.Desired)
	}
}

func testTouchProvisioningOf(t *testing.T, st store.Store) {
	ctx := context.Background()
	var before *store.Provisioning
	update(t, st, func(tx store.Tx) error {
		var err error
		before, _, err = tx.SetDesired("touch-one", []byte(`{"a":1}`))
		if err != nil {
			return err
		}
		_, _, err = tx.SetDesired("touch-other", []byte(`{"a":1}`))
		return err
	})
	update(t, st, func(tx store.Tx) error {
		ok, err := tx.TouchProvisioningOf("touch-one")
		if err != nil || !ok {
			t.Errorf("TouchProvisioningOf = %v, %v", ok, err)
		}
		ok, err = tx.TouchProvisioningOf("no-such-row")
		if err != nil || ok {
			t.Errorf("TouchProvisioningOf(missing) = %v, %v", ok, err)
		}
		return nil
	})
	after, err := st.GetProvisioning(ctx, "touch-one")
	if err != nil || after.DesiredVersion != before.DesiredVersion+1 {
		t.Fatalf("touched row: %+v %v", after, err)
	}
	other, _ := st.GetProvisioning(ctx, "touch-other")
	if other.DesiredVersion != 1 {
		t.Fatalf("untouched row bumped: %+v", other)
	}
}

// testOldestPending: the age of the oldest pending row counts from when
// its desired state first ran ahead, through retries, and ends when it is
// applied; failed and deferred rows are parked, not pending.
func testOldestPending(t *testing.T, st store.Store) {
	ctx := context.Background()
	oldest := func() (time.Time, bool) {
		t.Helper()
		at, ok, err := st.OldestPending(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return at, ok
	}
	if _, ok := oldest(); ok {
		t.Fatal("an empty store has a pending row")
	}
	var first time.Time
	update(t, st, func(tx store.Tx) error {
		first = tx.Now()
		_, _, err := tx.SetDesired("a", []byte(`{"v":1}`))
		return err
	})
	at, ok := oldest()
	if !ok || !at.Equal(first.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("oldest pending = %v %v, want %v", at, ok, first)
	}
	time.Sleep(2 * time.Millisecond)
	// A retry and a newer desired version keep the first time.
	recordOutcome(t, st, "a", store.Outcome{Version: 1, State: "pending", NextAttempt: time.Now()})
	setDesired(t, st, "a", `{"v":2}`)
	if at2, _ := oldest(); !at2.Equal(at) {
		t.Fatalf("oldest pending moved from %v to %v through a retry", at, at2)
	}
	setDesired(t, st, "b", `{"v":1}`)
	if at2, _ := oldest(); !at2.Equal(at) {
		t.Fatalf("a newer row changed the oldest from %v to %v", at, at2)
	}
	// Parked rows are not pending; an applied row is not either.
	recordOutcome(t, st, "a", store.Outcome{Version: 2, State: "failed", NextAttempt: time.Now().Add(time.Hour)})
	if at2, ok := oldest(); !ok || !at2.After(at) {
		t.Fatalf("a failed row still counts as the oldest pending (%v %v)", at2, ok)
	}
	recordOutcome(t, st, "b", store.Outcome{Version: 1, Done: true, State: "synced", Synced: true})
	if at2, ok := oldest(); ok {
		t.Fatalf("nothing is pending, yet the oldest is %v", at2)
	}
	// Touched again, a settled row is pending from then on.
	var touched time.Time
	update(t, st, func(tx store.Tx) error {
		touched = tx.Now()
		_, err := tx.TouchProvisioningOf("b")
		return err
	})
	if at2, ok := oldest(); !ok || !at2.Equal(touched.UTC().Truncate(time.Microsecond)) {
		t.Fatalf("touched row: oldest pending %v %v, want %v", at2, ok, touched)
	}
}
