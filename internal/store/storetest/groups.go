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
	t.Run("CreateWithMembers", func(t *testing.T) { testGroupCreateWithMembers(t, open) })
	t.Run("RefusesInvalidWrites", func(t *testing.T) { testGroupRefusesInvalidWrites(t, open) })
	t.Run("ReplaceReportsChangedMembers", func(t *testing.T) { testGroupReplaceReportsChangedMembers(t, open) })
	t.Run("DeleteUserCascade", func(t *testing.T) { testGroupDeleteUserCascade(t, open) })
	t.Run("DeleteGroupCascade", func(t *testing.T) { testGroupDeleteGroupCascade(t, open) })
	t.Run("Rename", func(t *testing.T) { testRename(t, open) })
	t.Run("UserGroupsSorted", func(t *testing.T) { testGroupUserGroupsSorted(t, open) })
}

func testGroupCreateWithMembers(t *testing.T, open func(t *testing.T) store.Store) {
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
}

func testGroupRefusesInvalidWrites(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
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
}

func testGroupReplaceReportsChangedMembers(t *testing.T, open func(t *testing.T) store.Store) {
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

	// Same name: only the membership changes (Rename covers names).
	repl := &schemas.Group{ID: g.ID, DisplayName: "G", ExternalID: "x", Members: []schemas.Member{{Value: b.ID}, {Value: c.ID}, {Value: c.ID}}}
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
	if got.ExternalID != "x" || !eqStrings(memberValues(got.Members), sorted([]string{b.ID, c.ID})) {
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
		changed, err = tx.ReplaceGroup(&schemas.Group{ID: g.ID, DisplayName: "G", Members: []schemas.Member{{Value: c.ID}, {Value: b.ID}}})
		return err
	})
	if len(changed) != 0 {
		t.Errorf("no-op replace changed %v", changed)
	}
}

func testGroupDeleteUserCascade(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
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
}

func testGroupDeleteGroupCascade(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
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
}

func testGroupUserGroupsSorted(t *testing.T, open func(t *testing.T) store.Store) {
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
}

// testRename checks that names shown by other resources follow renames: a
// user's groups attribute shows its groups' displayNames, a group's
// members.display its members' names. Those representations change, and so
// do their versions. Each case starts from a new renameFixture.
func testRename(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("GroupName", func(t *testing.T) { testRenameGroupName(t, newRenameFixture(t, open(t))) })
	t.Run("GroupNameWithMembers", func(t *testing.T) { testRenameGroupNameWithMembers(t, newRenameFixture(t, open(t))) })
	t.Run("UserName", func(t *testing.T) { testRenameUserName(t, newRenameFixture(t, open(t))) })
}

// renameFixture holds users a (displayName Ann), b and out, and groups
// Beta (a, b), alpha (a) and Parent (Beta, b).
type renameFixture struct {
	t                *testing.T
	s                store.Store
	a, b, out        *schemas.User
	g, other, parent *schemas.Group // Beta, alpha, Parent
}

func newRenameFixture(t *testing.T, s store.Store) *renameFixture {
	f := &renameFixture{t: t, s: s}
	f.a = createUser(t, s, &schemas.User{UserName: "a", DisplayName: "Ann"})
	f.b = createUser(t, s, &schemas.User{UserName: "b"})
	f.out = createUser(t, s, &schemas.User{UserName: "out"})
	f.g = createGroup(t, s, &schemas.Group{DisplayName: "Beta", Members: []schemas.Member{{Value: f.a.ID}, {Value: f.b.ID}}})
	f.other = createGroup(t, s, &schemas.Group{DisplayName: "alpha", Members: []schemas.Member{{Value: f.a.ID}}})
	f.parent = createGroup(t, s, &schemas.Group{DisplayName: "Parent", Members: []schemas.Member{{Value: f.g.ID}, {Value: f.b.ID}}})
	return f
}

func (f *renameFixture) userMeta(u *schemas.User) schemas.Meta {
	return getUser(f.t, f.s, u.ID, false).Meta
}

func (f *renameFixture) groupMeta(g *schemas.Group) schemas.Meta {
	return getGroup(f.t, f.s, g.ID, false).Meta
}

// groupsOf lists a user's groups attribute as "display=id" in order,
// checking that GetUser and a list request agree.
func (f *renameFixture) groupsOf(u *schemas.User) []string {
	t := f.t
	t.Helper()
	var got []string
	for _, r := range getUser(t, f.s, u.ID, true).Groups {
		label := r.Value
		for _, x := range []*schemas.Group{f.g, f.other, f.parent} {
			if x.ID == r.Value {
				label = "id(" + x.DisplayName + ")"
			}
		}
		got = append(got, r.Display+"="+label)
	}
	p, err := f.s.QueryUsers(context.Background(), schemas.Query{Filter: parse(t, `id eq "{u}"`, map[string]string{"u": u.ID}), Count: 1, Related: true})
	if err != nil || len(p.Users) != 1 {
		t.Fatalf("query %s: %+v %v", u.UserName, p, err)
	}
	if want := getUser(t, f.s, u.ID, true).Groups; !slices.Equal(p.Users[0].Groups, want) {
		t.Errorf("%s: list shows groups %+v, GetUser %+v", u.UserName, p.Users[0].Groups, want)
	}
	return got
}

func (f *renameFixture) wantGroups(u *schemas.User, want ...string) {
	f.t.Helper()
	if got := f.groupsOf(u); !eqStrings(got, want) {
		f.t.Errorf("%s groups = %v, want %v", u.UserName, got, want)
	}
}

func (f *renameFixture) memberDisplay(of *schemas.Group, id string) string {
	f.t.Helper()
	for _, m := range getGroup(f.t, f.s, of.ID, true).Members {
		if m.Value == id {
			return m.Display
		}
	}
	f.t.Fatalf("%s is not a member of %s", id, of.DisplayName)
	return ""
}

func (f *renameFixture) replace(next *schemas.Group) (changed []string, now time.Time) {
	f.t.Helper()
	update(f.t, f.s, func(tx store.Tx) error {
		now = tx.Now()
		var err error
		changed, err = tx.ReplaceGroup(next)
		return err
	})
	return changed, now
}

func (f *renameFixture) bumped(what string, before, after schemas.Meta, now time.Time) {
	f.t.Helper()
	if after.Version != before.Version+1 || !after.LastModified.Equal(now) {
		f.t.Errorf("%s: meta %+v, want version %d and lastModified %v", what, after, before.Version+1, now)
	}
}

func (f *renameFixture) same(what string, before, after schemas.Meta) {
	f.t.Helper()
	if after != before {
		f.t.Errorf("%s: meta changed from %+v to %+v", what, before, after)
	}
}

// A rename moves the group within the users' (sorted) groups; a change of
// case is a rename too.
func testRenameGroupName(t *testing.T, f *renameFixture) {
	a, b, out, g, other, parent := f.a, f.b, f.out, f.g, f.other, f.parent
	f.wantGroups(a, "alpha=id(alpha)", "Beta=id(Beta)")
	f.wantGroups(b, "Beta=id(Beta)", "Parent=id(Parent)")

	ma, mb, mout, mother, mparent := f.userMeta(a), f.userMeta(b), f.userMeta(out), f.groupMeta(other), f.groupMeta(parent)
	time.Sleep(2 * time.Millisecond)
	g.DisplayName = "Aardvark"
	changed, now := f.replace(&schemas.Group{ID: g.ID, DisplayName: "Aardvark", Members: []schemas.Member{{Value: a.ID}, {Value: b.ID}}})
	if len(changed) != 0 {
		t.Errorf("a rename alone reports changed members %v", changed)
	}
	f.wantGroups(a, "Aardvark=id(Aardvark)", "alpha=id(alpha)")
	f.wantGroups(b, "Aardvark=id(Aardvark)", "Parent=id(Parent)")
	f.bumped("a after the rename of its group", ma, f.userMeta(a), now)
	f.bumped("b after the rename of its group", mb, f.userMeta(b), now)
	f.same("a user outside the group", mout, f.userMeta(out))
	f.same("another group of a member", mother, f.groupMeta(other))
	f.bumped("the group holding the renamed group", mparent, f.groupMeta(parent), now)
	if d := f.memberDisplay(parent, g.ID); d != "Aardvark" {
		t.Errorf("parent shows the renamed group as %q", d)
	}
	for flt, want := range map[string][]string{
		`groups.display eq "AARDVARK"`: {"a", "b"},
		`groups.display eq "beta"`:     nil,
	} {
		p, err := f.s.QueryUsers(context.Background(), schemas.Query{Filter: parse(t, flt, nil), Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if got := sorted(userNames(p.Users)); !eqStrings(got, sorted(want)) {
			t.Errorf("%s: %v, want %v", flt, got, want)
		}
	}

	// A change of case is a rename too: the display shows it.
	ma = f.userMeta(a)
	time.Sleep(2 * time.Millisecond)
	g.DisplayName = "AARDVARK"
	_, now = f.replace(&schemas.Group{ID: g.ID, DisplayName: "AARDVARK", Members: []schemas.Member{{Value: a.ID}, {Value: b.ID}}})
	f.wantGroups(a, "AARDVARK=id(AARDVARK)", "alpha=id(alpha)")
	f.bumped("a after a change of case", ma, f.userMeta(a), now)
}

// A rename with members joining and leaving: each user changes once.
func testRenameGroupNameWithMembers(t *testing.T, f *renameFixture) {
	a, b, out, g := f.a, f.b, f.out, f.g
	ma, mb, mout := f.userMeta(a), f.userMeta(b), f.userMeta(out)
	time.Sleep(2 * time.Millisecond)
	g.DisplayName = "Zed"
	changed, now := f.replace(&schemas.Group{ID: g.ID, DisplayName: "Zed", Members: []schemas.Member{{Value: b.ID}, {Value: out.ID}}})
	if !eqStrings(sorted(changed), sorted([]string{a.ID, out.ID})) {
		t.Errorf("changed = %v, want a (left) and out (joined)", changed)
	}
	f.wantGroups(a, "alpha=id(alpha)")
	f.wantGroups(b, "Parent=id(Parent)", "Zed=id(Zed)")
	f.wantGroups(out, "Zed=id(Zed)")
	f.bumped("a, who left", ma, f.userMeta(a), now)
	f.bumped("b, who stayed", mb, f.userMeta(b), now)
	f.bumped("out, who joined", mout, f.userMeta(out), now)
}

// Renaming a user changes members.display in its groups; a change that
// leaves the shown name alone changes none.
func testRenameUserName(t *testing.T, f *renameFixture) {
	s, a, b, g, other, parent := f.s, f.a, f.b, f.g, f.other, f.parent
	mg, mparent, mother := f.groupMeta(g), f.groupMeta(parent), f.groupMeta(other)
	time.Sleep(2 * time.Millisecond)
	var userNow time.Time
	update(t, s, func(tx store.Tx) error {
		userNow = tx.Now()
		return tx.ReplaceUser(&schemas.User{ID: b.ID, UserName: "b", DisplayName: "Bea"})
	})
	f.bumped("a group of the renamed user", mg, f.groupMeta(g), userNow)
	f.bumped("another group of the renamed user", mparent, f.groupMeta(parent), userNow)
	f.same("a group without the renamed user", mother, f.groupMeta(other))
	if d := f.memberDisplay(parent, b.ID); d != "Bea" {
		t.Errorf("parent shows the renamed user as %q", d)
	}
	// A change that leaves the shown name alone changes no group: a new
	// title, or a new userName behind a displayName.
	mg, mother = f.groupMeta(g), f.groupMeta(other)
	update(t, s, func(tx store.Tx) error {
		if err := tx.ReplaceUser(&schemas.User{ID: b.ID, UserName: "b", DisplayName: "Bea", Title: "t"}); err != nil {
			return err
		}
		return tx.ReplaceUser(&schemas.User{ID: a.ID, UserName: "a2", DisplayName: "Ann"})
	})
	f.same("a group of a user whose shown name stayed", mg, f.groupMeta(g))
	f.same("a group of a user whose userName hides behind displayName", mother, f.groupMeta(other))
	// Without a displayName the userName shows.
	update(t, s, func(tx store.Tx) error {
		userNow = tx.Now()
		return tx.ReplaceUser(&schemas.User{ID: a.ID, UserName: "a3"})
	})
	f.bumped("a group of a user whose shown name became its userName", mother, f.groupMeta(other), userNow)
	if d := f.memberDisplay(other, a.ID); d != "a3" {
		t.Errorf("members.display = %q, want the userName", d)
	}
}
