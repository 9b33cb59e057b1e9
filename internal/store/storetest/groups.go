package storetest

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

func testGroups(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()

	t.Run("CreateWithMembers", func(t *testing.T) {
		s := open(t)
		alice := createUser(t, s, &schemas.User{UserName: "alice", DisplayName: "Alice A"})
		bob := createUser(t, s, &schemas.User{UserName: "bob"})
		inner := createGroup(t, s, &schemas.Group{DisplayName: "Inner"})
		g := &schemas.Group{DisplayName: "Team", ExternalID: "ext-team", Members: []schemas.Member{
			{Value: alice.ID}, {Value: bob.ID, Type: "Group"}, {Value: inner.ID}, {Value: alice.ID},
		}}
		var now time.Time
		update(t, s, func(tx store.Tx) error {
			now = tx.Now()
			if err := tx.CreateGroup(g); err != nil {
				return err
			}
			got, err := tx.GetGroup(g.ID, true)
			if err != nil {
				return err
			}
			if len(got.Members) != 3 {
				t.Errorf("tx.GetGroup sees %d members, want 3", len(got.Members))
			}
			return nil
		})
		if g.ID == "" || g.Meta.Version != 1 || !g.Meta.Created.Equal(now) || !g.Meta.LastModified.Equal(now) {
			t.Errorf("created group: id %q meta %+v", g.ID, g.Meta)
		}
		// The passed group reports the stored members: deduplicated, typed.
		if len(g.Members) != 3 {
			t.Errorf("created group reports %d members, want 3", len(g.Members))
		}
		for _, m := range g.Members {
			if m.Type == "" {
				t.Errorf("member %s has no type", m.Value)
			}
		}
		got := getGroup(t, s, g.ID, true)
		if got.DisplayName != "Team" || got.ExternalID != "ext-team" || !got.MembersLoaded {
			t.Errorf("GetGroup = %+v", got)
		}
		want := map[string]schemas.Member{
			alice.ID: {Value: alice.ID, Type: schemas.MemberUser, Display: "Alice A"},
			bob.ID:   {Value: bob.ID, Type: schemas.MemberUser, Display: "bob"}, // no displayName: userName
			inner.ID: {Value: inner.ID, Type: schemas.MemberGroup, Display: "Inner"},
		}
		if len(got.Members) != len(want) {
			t.Fatalf("members = %+v, want %d (duplicates collapse)", got.Members, len(want))
		}
		for _, m := range got.Members {
			if m != want[m.Value] {
				t.Errorf("member %+v, want %+v", m, want[m.Value])
			}
		}
		// Stable member order across reads.
		again := getGroup(t, s, g.ID, true)
		if !slices.Equal(again.Members, got.Members) {
			t.Errorf("member order changed between reads")
		}
		bare := getGroup(t, s, g.ID, false)
		if bare.MembersLoaded || len(bare.Members) != 0 {
			t.Errorf("GetGroup(withMembers=false) = %+v", bare)
		}
		// The users see the group.
		u := getUser(t, s, alice.ID, true)
		if len(u.Groups) != 1 || u.Groups[0] != (schemas.GroupRef{Value: g.ID, Display: "Team", Type: "direct"}) {
			t.Errorf("alice groups = %+v", u.Groups)
		}
		if u := getUser(t, s, alice.ID, false); len(u.Groups) != 0 {
			t.Errorf("GetUser(withGroups=false) has groups %+v", u.Groups)
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		s := open(t)
		createGroup(t, s, &schemas.Group{DisplayName: "Taken"})
		self := createGroup(t, s, &schemas.Group{DisplayName: "Self"})
		for _, tc := range []struct {
			name    string
			fn      func(tx store.Tx) error
			code    string
			mention string
		}{
			{"unknown member", func(tx store.Tx) error {
				return tx.CreateGroup(&schemas.Group{DisplayName: "X", Members: []schemas.Member{{Value: "no-such-id"}}})
			}, store.EINVALID, "no-such-id"},
			{"name taken", func(tx store.Tx) error {
				return tx.CreateGroup(&schemas.Group{DisplayName: "TAKEN"})
			}, store.ECONFLICT, "TAKEN"},
			{"rename onto", func(tx store.Tx) error {
				_, err := tx.ReplaceGroup(&schemas.Group{ID: self.ID, DisplayName: "taken"})
				return err
			}, store.ECONFLICT, "taken"},
			{"self member", func(tx store.Tx) error {
				_, err := tx.ReplaceGroup(&schemas.Group{ID: self.ID, DisplayName: "Self", Members: []schemas.Member{{Value: self.ID}}})
				return err
			}, store.EINVALID, ""},
			{"replace missing", func(tx store.Tx) error {
				_, err := tx.ReplaceGroup(&schemas.Group{ID: "missing", DisplayName: "M"})
				return err
			}, store.ENOTFOUND, "missing"},
			{"delete missing", func(tx store.Tx) error {
				_, err := tx.DeleteGroup("missing")
				return err
			}, store.ENOTFOUND, "missing"},
			{"no name", func(tx store.Tx) error { return tx.CreateGroup(&schemas.Group{}) }, store.EINVALID, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantCode(t, s.Update(ctx, tc.fn), tc.code, tc.mention)
			})
		}
		p, err := s.QueryGroups(ctx, schemas.Query{Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 2 {
			t.Errorf("Total = %d after refused writes, want 2", p.Total)
		}
		// Renaming a group to another case of its own name is fine.
		update(t, s, func(tx store.Tx) error {
			_, err := tx.ReplaceGroup(&schemas.Group{ID: self.ID, DisplayName: "SELF"})
			return err
		})
	})

	t.Run("ReplaceDiff", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, &schemas.User{UserName: "a"})
		b := createUser(t, s, &schemas.User{UserName: "b"})
		c := createUser(t, s, &schemas.User{UserName: "c"})
		g := createGroup(t, s, &schemas.Group{DisplayName: "G", Members: []schemas.Member{{Value: a.ID}, {Value: b.ID}}})
		before := map[string]schemas.Meta{}
		for _, u := range []*schemas.User{a, b, c} {
			before[u.ID] = getUser(t, s, u.ID, false).Meta
		}
		gMeta := getGroup(t, s, g.ID, false).Meta
		time.Sleep(2 * time.Millisecond)

		repl := &schemas.Group{ID: g.ID, DisplayName: "G2", Members: []schemas.Member{{Value: b.ID}, {Value: c.ID}, {Value: c.ID}}}
		var changed []string
		var now time.Time
		update(t, s, func(tx store.Tx) error {
			now = tx.Now()
			var err error
			changed, err = tx.ReplaceGroup(repl)
			return err
		})
		if got, want := sorted(changed), sorted([]string{a.ID, c.ID}); !eqStrings(got, want) {
			t.Errorf("changed = %v, want %v (added + removed)", got, want)
		}
		if repl.Meta.Version != gMeta.Version+1 || !repl.Meta.Created.Equal(gMeta.Created) || !repl.Meta.LastModified.Equal(now) {
			t.Errorf("group Meta = %+v, before %+v", repl.Meta, gMeta)
		}
		got := getGroup(t, s, g.ID, true)
		if got.DisplayName != "G2" || !eqStrings(memberValues(got.Members), sorted([]string{b.ID, c.ID})) {
			t.Errorf("after replace: %+v", got)
		}
		for _, tc := range []struct {
			u       *schemas.User
			changed bool
		}{{a, true}, {b, false}, {c, true}} {
			m := getUser(t, s, tc.u.ID, false).Meta
			old := before[tc.u.ID]
			if tc.changed && (m.Version != old.Version+1 || !m.LastModified.Equal(now)) {
				t.Errorf("user %s joined/left: meta %+v, before %+v", tc.u.UserName, m, old)
			}
			if !tc.changed && m != old {
				t.Errorf("user %s stayed: meta %+v changed from %+v", tc.u.UserName, m, old)
			}
		}
		// Replacing with the same members changes no user.
		update(t, s, func(tx store.Tx) error {
			var err error
			changed, err = tx.ReplaceGroup(&schemas.Group{ID: g.ID, DisplayName: "G2", Members: []schemas.Member{{Value: c.ID}, {Value: b.ID}}})
			return err
		})
		if len(changed) != 0 {
			t.Errorf("no-op replace changed %v", changed)
		}
	})

	t.Run("DeleteUserCascade", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, &schemas.User{UserName: "u"})
		keep := createUser(t, s, &schemas.User{UserName: "keep"})
		g1 := createGroup(t, s, &schemas.Group{DisplayName: "One", Members: []schemas.Member{{Value: u.ID}, {Value: keep.ID}}})
		g2 := createGroup(t, s, &schemas.Group{DisplayName: "Two", Members: []schemas.Member{{Value: u.ID}}})
		g3 := createGroup(t, s, &schemas.Group{DisplayName: "Three", Members: []schemas.Member{{Value: keep.ID}}})
		v := map[string]int64{}
		for _, g := range []*schemas.Group{g1, g2, g3} {
			v[g.ID] = getGroup(t, s, g.ID, false).Meta.Version
		}
		var groups []string
		update(t, s, func(tx store.Tx) error {
			var err error
			groups, err = tx.DeleteUser(u.ID)
			return err
		})
		if !eqStrings(sorted(groups), sorted([]string{g1.ID, g2.ID})) {
			t.Errorf("DeleteUser groups = %v, want One and Two", groups)
		}
		for _, tc := range []struct {
			g       *schemas.Group
			members []string
			bump    int64
		}{{g1, []string{keep.ID}, 1}, {g2, nil, 1}, {g3, []string{keep.ID}, 0}} {
			got := getGroup(t, s, tc.g.ID, true)
			if !eqStrings(memberValues(got.Members), sorted(tc.members)) {
				t.Errorf("%s members = %v, want %v", got.DisplayName, memberValues(got.Members), tc.members)
			}
			if got.Meta.Version != v[tc.g.ID]+tc.bump {
				t.Errorf("%s version %d, want %d", got.DisplayName, got.Meta.Version, v[tc.g.ID]+tc.bump)
			}
		}
		p, err := s.QueryGroups(ctx, schemas.Query{Filter: parse(t, `members.value eq "{u}"`, map[string]string{"u": u.ID}), Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 0 {
			t.Errorf("deleted user still a member of %v", groupNames(p.Groups))
		}
	})

	t.Run("DeleteGroupCascade", func(t *testing.T) {
		s := open(t)
		a := createUser(t, s, &schemas.User{UserName: "a"})
		b := createUser(t, s, &schemas.User{UserName: "b"})
		g := createGroup(t, s, &schemas.Group{DisplayName: "G", Members: []schemas.Member{{Value: a.ID}, {Value: b.ID}}})
		parent := createGroup(t, s, &schemas.Group{DisplayName: "Parent", Members: []schemas.Member{{Value: g.ID}, {Value: a.ID}}})
		va := getUser(t, s, a.ID, false).Meta.Version
		vb := getUser(t, s, b.ID, false).Meta.Version
		vp := getGroup(t, s, parent.ID, false).Meta.Version
		var former []string
		update(t, s, func(tx store.Tx) error {
			var err error
			former, err = tx.DeleteGroup(g.ID)
			return err
		})
		if !eqStrings(sorted(former), sorted([]string{a.ID, b.ID})) {
			t.Errorf("DeleteGroup = %v, want a and b", former)
		}
		if got := getUser(t, s, a.ID, true); got.Meta.Version != va+1 || len(got.Groups) != 1 || got.Groups[0].Value != parent.ID {
			t.Errorf("a after delete: version %d (was %d), groups %+v", got.Meta.Version, va, got.Groups)
		}
		if got := getUser(t, s, b.ID, true); got.Meta.Version != vb+1 || len(got.Groups) != 0 {
			t.Errorf("b after delete: version %d (was %d), groups %+v", got.Meta.Version, vb, got.Groups)
		}
		got := getGroup(t, s, parent.ID, true)
		if !eqStrings(memberValues(got.Members), []string{a.ID}) || got.Meta.Version != vp+1 {
			t.Errorf("parent after delete: members %v version %d (was %d)", memberValues(got.Members), got.Meta.Version, vp)
		}
		_, err := s.GetGroup(ctx, g.ID, false)
		wantCode(t, err, store.ENOTFOUND)
		createGroup(t, s, &schemas.Group{DisplayName: "g"}) // name free again
	})

	t.Run("UserGroupsSorted", func(t *testing.T) {
		s := open(t)
		u := createUser(t, s, &schemas.User{UserName: "u"})
		for _, n := range []string{"charlie", "Alpha", "bravo"} {
			createGroup(t, s, &schemas.Group{DisplayName: n, Members: []schemas.Member{{Value: u.ID}}})
		}
		got := getUser(t, s, u.ID, true)
		var names []string
		for _, g := range got.Groups {
			names = append(names, g.Display)
			if g.Type != "direct" || g.Ref != "" || g.Value == "" {
				t.Errorf("group ref %+v", g)
			}
		}
		if !eqStrings(names, []string{"Alpha", "bravo", "charlie"}) {
			t.Errorf("groups = %v, want sorted by display", names)
		}
	})
}
