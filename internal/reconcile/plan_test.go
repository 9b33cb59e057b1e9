package reconcile

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/schemas"
)

func dirUser(ext, userName string, mut ...func(*directory.User)) directory.User {
	t := true
	u := directory.User{
		Ref: "cn=" + userName + ",ou=people", ExternalID: ext,
		Resource: schemas.User{UserName: userName, ExternalID: ext, Active: &t,
			Emails: []schemas.MultiValue{{Value: userName + "@example.com", Type: "work", Primary: true}}},
	}
	for _, m := range mut {
		m(&u)
	}
	return u
}

func dirGroup(ext, name string, members ...string) directory.Group {
	g := directory.Group{Ref: "cn=" + name + ",ou=groups", ExternalID: ext, Name: name}
	for _, m := range members {
		g.Members = append(g.Members, "cn="+m+",ou=people")
	}
	return g
}

func stored(id, ext, userName, origin string, mut ...func(*schemas.User)) *schemas.User {
	t := true
	u := &schemas.User{ID: id, ExternalID: ext, UserName: userName, Origin: origin, Active: &t,
		Emails: []schemas.MultiValue{{Value: userName + "@example.com", Type: "work", Primary: true}}}
	for _, m := range mut {
		m(u)
	}
	return u
}

func ops(p *Plan) []string {
	var out []string
	for _, u := range p.Users {
		s := u.Op + " " + u.UserName
		if u.Reason != "" {
			s += " (" + u.Reason + ")"
		}
		if u.Op == OpUpdate || u.Op == OpAdopt {
			var attrs []string
			for _, c := range u.Changes {
				attrs = append(attrs, c.Attribute)
			}
			s += " [" + strings.Join(attrs, ",") + "]"
		}
		out = append(out, s)
	}
	for _, g := range p.Groups {
		out = append(out, fmt.Sprintf("%s group %s +%d-%d", g.Op, g.Name, g.Added, g.Removed))
	}
	return out
}

func TestBuildPlan(t *testing.T) {
	inactive := func(u *directory.User) { f := false; u.Resource.Active = &f }
	tests := []struct {
		name    string
		snap    testSnap
		cur     testCurrent
		cfg     Config
		full    bool
		changed []string
		want    []string
		managed int
		deprov  int
		conf    int
	}{
		{
			name: "joiners are created, disabled ones are not",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e2", "bob", inactive)}},
			full: true,
			want: []string{"create ann"},
		},
		{
			name: "mover: changed title and department are updates",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann", func(u *directory.User) {
				u.Resource.Title = "Lead"
				u.Resource.Enterprise = &schemas.EnterpriseExt{Department: "Support"}
			})}},
			cur:  testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory)}},
			full: true, managed: 1,
			want: []string{"update ann [title," + schemas.EnterpriseURI + ":department]"},
		},
		{
			name:    "no change, no op; attributes the directory does not control are kept",
			snap:    testSnap{Users: []directory.User{dirUser("e1", "ann")}},
			cur:     testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory, func(u *schemas.User) { u.Locale = "en-GB" })}},
			full:    true,
			managed: 1,
		},
		{
			name: "leaver: disabled in the directory",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann", inactive)}},
			cur:  testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory)}},
			full: true, managed: 1, deprov: 1,
			want: []string{"deactivate ann (disabled in the directory)"},
		},
		{
			name: "leaver: removed from the scope group",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e2", "bob")},
				Groups: []directory.Group{dirGroup("g1", "HubSpot Users", "ann")}},
			cur: testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory), stored("u2", "e2", "bob", schemas.OriginDirectory)},
				Groups: []*schemas.Group{{ID: "G1", ExternalID: "g1", DisplayName: "HubSpot Users", Origin: schemas.OriginDirectory, Members: []schemas.Member{{Value: "u1"}}}}},
			cfg:  Config{ScopeGroups: []string{"hubspot users"}},
			full: true, managed: 2, deprov: 1,
			want: []string{"deactivate bob (left the provisioning scope)"},
		},
		{
			name: "leaver: deleted from the directory (full runs only)",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann")}},
			cur:  testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory), stored("u2", "e2", "bob", schemas.OriginDirectory)}},
			full: true, managed: 2, deprov: 1,
			want: []string{"delete bob (removed from the directory)"},
		},
		{
			name:    "incremental runs never delete",
			snap:    testSnap{Users: []directory.User{dirUser("e1", "ann")}},
			cur:     testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory), stored("u2", "e2", "bob", schemas.OriginDirectory)}},
			changed: []string{"e1"}, managed: 2,
		},
		{
			name: "SCIM-pushed users are left alone and reported",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e3", "cid")}},
			cur: testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginSCIM), stored("u3", "", "CID", schemas.OriginSCIM),
				stored("u9", "", "zed", schemas.OriginSCIM)}},
			full: true, conf: 2,
		},
		{
			name: "adopt: by external id, then by userName",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e3", "cid")}},
			cur:  testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginSCIM), stored("u3", "", "CID", schemas.OriginSCIM)}},
			cfg:  Config{Adopt: true}, full: true,
			want: []string{"adopt ann []", "adopt cid [userName,externalId,emails]"},
		},
		{
			name: "groups mirror in-scope members, nested when asked, cycles cut",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e2", "bob")},
				Groups: []directory.Group{dirGroup("g1", "Sales", "ann"), {Ref: "cn=EMEA,ou=groups", ExternalID: "g2", Name: "EMEA",
					Members: []string{"cn=bob,ou=people", "cn=Sales,ou=groups"}}, {Ref: "cn=Loop,ou=groups", ExternalID: "g3", Name: "Loop",
					Members: []string{"cn=EMEA,ou=groups"}}}},
			cfg:  Config{NestedGroups: true},
			full: true,
			want: []string{"create ann", "create bob", "create group Sales +1-0", "create group EMEA +2-0", "create group Loop +2-0"},
		},
		{
			name: "without nesting, sub-group members are not members",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e2", "bob")},
				Groups: []directory.Group{dirGroup("g1", "Sales", "ann"), {Ref: "cn=EMEA,ou=groups", ExternalID: "g2", Name: "EMEA",
					Members: []string{"cn=bob,ou=people", "cn=Sales,ou=groups"}}}},
			full: true,
			want: []string{"create ann", "create bob", "create group Sales +1-0", "create group EMEA +1-0"},
		},
		{
			name: "group membership change and rename",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e2", "bob")},
				Groups: []directory.Group{dirGroup("g1", "Sales EMEA", "bob")}},
			cur: testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory), stored("u2", "e2", "bob", schemas.OriginDirectory)},
				Groups: []*schemas.Group{{ID: "G1", ExternalID: "g1", DisplayName: "Sales", Origin: schemas.OriginDirectory, Members: []schemas.Member{{Value: "u1"}}}}},
			full: true, managed: 2,
			want: []string{"update group Sales EMEA +1-1"},
		},
		{
			name: "managers: a new manager is set once created; an unknown one is left out, without a perpetual update",
			snap: testSnap{Users: []directory.User{
				dirUser("e1", "ann", func(u *directory.User) { u.ManagerRef = "cn=bob,ou=people" }),
				dirUser("e2", "bob"),
				dirUser("e3", "cid", func(u *directory.User) { u.ManagerRef = "cn=nobody,ou=people" }),
			}},
			cur:  testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory), stored("u3", "e3", "cid", schemas.OriginDirectory)}},
			full: true, managed: 2,
			want: []string{"update ann [" + schemas.EnterpriseURI + ":manager]", "create bob"},
		},
		{
			name: "two directory users with one userName: the second is a conflict",
			snap: testSnap{Users: []directory.User{dirUser("e1", "ann"), dirUser("e2", "ANN")}},
			cur:  testCurrent{Users: []*schemas.User{stored("u1", "e1", "ann", schemas.OriginDirectory)}},
			full: true, managed: 1, conf: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			snap, err := NewSnapshot(tt.snap.Users, tt.snap.Groups)
			if err != nil {
				t.Fatal(err)
			}
			m := NewModel(snap)
			cfg := tt.cfg
			cfg.SetDefaults()
			p := BuildPlan(PlanInput{Model: m, Full: tt.full, ChangedUsers: tt.changed, Current: CurrentOf(tt.cur.Users, tt.cur.Groups), Config: cfg})
			got := ops(p)
			// Groups come in external-id order; compare as sets for them.
			if !slices.Equal(sorted(got), sorted(tt.want)) {
				t.Errorf("plan =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if p.Managed != tt.managed || p.Deprovisions() != tt.deprov || len(p.Conflicts) != tt.conf {
				t.Errorf("managed %d deprovisions %d conflicts %v; want %d %d %d", p.Managed, p.Deprovisions(), p.Conflicts, tt.managed, tt.deprov, tt.conf)
			}
			again := BuildPlan(PlanInput{Model: NewModel(snap), Full: tt.full, ChangedUsers: tt.changed, Current: CurrentOf(tt.cur.Users, tt.cur.Groups), Config: cfg})
			if !slices.Equal(ops(again), got) {
				t.Error("the plan is not deterministic")
			}
		})
	}
}

type testSnap struct {
	Users  []directory.User
	Groups []directory.Group
}

type testCurrent struct {
	Users  []*schemas.User
	Groups []*schemas.Group
}

func sorted(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

func TestGuard(t *testing.T) {
	r := &Runner{cfg: Config{}}
	r.cfg.SetDefaults()
	p := &Plan{Managed: 1000}
	for i := range 100 {
		p.Users = append(p.Users, UserOp{Op: OpDeactivate, UserName: fmt.Sprint(i)})
	}
	if reason := r.guard(p, 1000, false); reason != "" {
		t.Fatalf("100 of 1000 (10%%) held back: %s", reason)
	}
	p.Users = append(p.Users, UserOp{Op: OpDelete, WasActive: true})
	if reason := r.guard(p, 1000, false); reason == "" {
		t.Fatal("101 of 1000 passed the guard")
	}
	if reason := r.guard(p, 1000, true); reason != "" {
		t.Fatal("forced run held back")
	}
	small := &Plan{Managed: 40}
	for range 25 {
		small.Users = append(small.Users, UserOp{Op: OpDeactivate})
	}
	if reason := r.guard(small, 40, false); reason != "" {
		t.Fatalf("25 of 40 held back, but 25 is the floor: %s", reason)
	}
	if reason := r.guard(&Plan{Managed: 3}, 0, false); reason == "" {
		t.Fatal("an empty directory passed the guard")
	}
	// Deleting users who were already inactive takes nobody's access.
	inactive := &Plan{Managed: 0, Users: []UserOp{{Op: OpDelete}, {Op: OpDelete}}}
	if inactive.Deprovisions() != 0 {
		t.Fatal("deleting inactive users counted as deprovisioning")
	}
}
