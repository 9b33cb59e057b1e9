package storetest

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// dataset is the fixed population the query tests run against. Users and
// groups are labelled by userName / displayName; ids maps labels to ids for
// filters that name them ({alice}).
type dataset struct {
	s     store.Store
	ids   map[string]string
	users []*schemas.User // in creation order, as stored
}

const enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

func newDataset(t *testing.T, s store.Store) *dataset {
	d := &dataset{s: s, ids: map[string]string{}}
	users := []*schemas.User{
		{UserName: "alice", ExternalID: "ext-alice", DisplayName: "Alice Smith", Title: "Engineer", Active: ptr(true),
			Name: &schemas.Name{GivenName: "Alice", FamilyName: "Smith"},
			Emails: []schemas.MultiValue{
				{Value: "alice@example.com", Type: "work", Primary: true},
				{Value: "alice@home.org", Type: "home"},
			},
			PhoneNumbers: []schemas.MultiValue{{Value: "+1-555-0100", Type: "work"}},
			Roles:        []schemas.MultiValue{{Value: "admin"}},
			Enterprise: &schemas.EnterpriseExt{Department: "R&D", EmployeeNumber: "1001",
				Manager: &schemas.Manager{Value: "m-1"}}},
		{UserName: "Bob", ExternalID: "EXT-BOB", DisplayName: "Bob Jones", Title: "Manager", Active: ptr(false),
			Name:       &schemas.Name{GivenName: "Bob", FamilyName: "Jones"},
			Emails:     []schemas.MultiValue{{Value: "bob@example.com", Type: "work"}},
			Addresses:  []schemas.Address{{Locality: "Paris", Country: "FR", Type: "work"}},
			Enterprise: &schemas.EnterpriseExt{Department: "Sales", EmployeeNumber: "0999"}},
		{UserName: "carol",
			Name:         &schemas.Name{FamilyName: "smith"},
			Emails:       []schemas.MultiValue{{Value: "CAROL@Example.COM", Type: "home", Primary: true}},
			Entitlements: []schemas.MultiValue{{Value: "Premium"}}},
		{UserName: "dave@corp", ExternalID: "ext-dave", DisplayName: "dave", Title: "engineer", Active: ptr(true),
			Enterprise: &schemas.EnterpriseExt{Department: "r&d"}},
		{UserName: "erin", DisplayName: "Erin", NickName: "E", Active: ptr(true),
			Emails: []schemas.MultiValue{
				{Value: "erin@example.com", Type: "work"},
				{Value: "e@example.com", Type: "other"},
			}},
	}
	for _, u := range users {
		createUser(t, s, u)
		d.ids[u.UserName] = u.ID
		// Distinct timestamps make the dateTime cases meaningful (they stay
		// correct without: expectations come from the stored values).
		time.Sleep(time.Millisecond)
	}
	members := func(labels ...string) []schemas.Member {
		var out []schemas.Member
		for _, l := range labels {
			out = append(out, schemas.Member{Value: d.ids[l]})
		}
		return out
	}
	for _, g := range []struct {
		name, externalID string
		members          []string
	}{
		{"Engineering", "g-eng", []string{"alice", "dave@corp"}},
		{"Sales", "", []string{"Bob"}},
		{"Empty", "", nil},
		{"All", "", []string{"alice", "Bob", "carol", "dave@corp", "Engineering"}},
	} {
		d.ids[g.name] = createGroup(t, s, &schemas.Group{DisplayName: g.name, ExternalID: g.externalID, Members: members(g.members...)}).ID
	}
	// Read back last: group writes may change the users' meta.
	for _, u := range users {
		d.users = append(d.users, getUser(t, s, u.ID, false))
	}
	return d
}

func (d *dataset) queryUsers(t *testing.T, q schemas.Query) *store.UserPage {
	t.Helper()
	p, err := d.s.QueryUsers(context.Background(), q)
	if err != nil {
		t.Fatalf("QueryUsers: %v", err)
	}
	return p
}

func (d *dataset) queryGroups(t *testing.T, q schemas.Query) *store.GroupPage {
	t.Helper()
	p, err := d.s.QueryGroups(context.Background(), q)
	if err != nil {
		t.Fatalf("QueryGroups: %v", err)
	}
	return p
}

func testQuery(t *testing.T, open func(t *testing.T) store.Store) {
	d := newDataset(t, open(t))
	t.Run("UserFilters", func(t *testing.T) { testUserFilters(t, d) })
	t.Run("GroupFilters", func(t *testing.T) { testGroupFilters(t, d) })
	t.Run("InvalidFilters", func(t *testing.T) { testInvalidFilters(t, d) })
	t.Run("DateTime", func(t *testing.T) { testDateTime(t, d) })
	t.Run("Sort", func(t *testing.T) { testSort(t, d) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, d) })
	t.Run("Related", func(t *testing.T) { testRelated(t, d) })
	t.Run("PagingAcrossWrites", func(t *testing.T) { testPagingAcrossWrites(t, open(t)) })
}

var everyone = []string{"alice", "Bob", "carol", "dave@corp", "erin"}

// filterCase is a filter and the userNames it matches.
type filterCase struct {
	filter string
	want   []string
}

// userFilterCases are the user filter cases by topic, each topic a subtest.
var userFilterCases = []struct {
	name  string
	cases []filterCase
}{
	{"EqAndCase", []filterCase{
		// eq and case rules: userName is caseExact=false, externalId and id
		// are caseExact.
		{`userName eq "alice"`, []string{"alice"}},
		{`userName eq "ALICE"`, []string{"alice"}},
		{`UserName EQ "bob"`, []string{"Bob"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "erin"`, []string{"erin"}},
		{`userName eq "nobody"`, nil},
		{`externalId eq "ext-alice"`, []string{"alice"}},
		{`externalId eq "EXT-ALICE"`, nil},
		{`externalId eq "EXT-BOB"`, []string{"Bob"}},
		{`id eq "{carol}"`, []string{"carol"}},
		{`displayName eq "alice smith"`, []string{"alice"}},
		{`nickName eq "e"`, []string{"erin"}},
	}},
	{"Operators", []filterCase{
		// Every operator.
		{`userName ne "alice"`, []string{"Bob", "carol", "dave@corp", "erin"}},
		{`userName co "A"`, []string{"alice", "carol", "dave@corp"}},
		{`userName sw "A"`, []string{"alice"}},
		{`userName ew "CORP"`, []string{"dave@corp"}},
		{`userName gt "carol"`, []string{"dave@corp", "erin"}},
		{`userName ge "CAROL"`, []string{"carol", "dave@corp", "erin"}},
		{`userName lt "bob"`, []string{"alice"}},
		{`userName le "bob"`, []string{"alice", "Bob"}},
		{`userName pr`, everyone},
		{`title co "gine"`, []string{"alice", "dave@corp"}},
		{`title sw ""`, []string{"alice", "Bob", "dave@corp"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber gt "1000"`, []string{"alice"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber le "1000"`, []string{"Bob"}},
	}},
	{"MissingAttributes", []filterCase{
		// Missing attributes: comparisons are false, their negation true.
		{`title eq "engineer"`, []string{"alice", "dave@corp"}},
		{`title ne "engineer"`, []string{"Bob", "carol", "erin"}},
		{`not (title eq "engineer")`, []string{"Bob", "carol", "erin"}},
		{`title pr`, []string{"alice", "Bob", "dave@corp"}},
		{`not (title pr)`, []string{"carol", "erin"}},
		{`title eq null`, []string{"carol", "erin"}},
		{`title ne null`, []string{"alice", "Bob", "dave@corp"}},
		{`displayName pr`, []string{"alice", "Bob", "dave@corp", "erin"}},
		{`externalId pr`, []string{"alice", "Bob", "dave@corp"}},
		{`title gt "a"`, []string{"alice", "Bob", "dave@corp"}},
		{`not (title gt "a")`, []string{"carol", "erin"}},
	}},
	{"Booleans", []filterCase{
		// Booleans.
		{`active eq true`, []string{"alice", "dave@corp", "erin"}},
		{`active eq false`, []string{"Bob"}},
		{`active eq "True"`, []string{"alice", "dave@corp", "erin"}},
		{`active ne true`, []string{"Bob", "carol"}},
		{`active pr`, []string{"alice", "Bob", "dave@corp", "erin"}},
	}},
	{"SubAttributes", []filterCase{
		// Sub-attributes and complex attributes.
		{`name.familyName eq "SMITH"`, []string{"alice", "carol"}},
		{`name.givenName sw "b"`, []string{"Bob"}},
		{`name pr`, []string{"alice", "Bob", "carol"}},
		{`name[givenName eq "alice"]`, []string{"alice"}},
		{`urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "jones"`, []string{"Bob"}},
	}},
	{"Extensions", []filterCase{
		// Extension attributes.
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"`, []string{"alice", "dave@corp"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department ne "r&d"`, []string{"Bob", "carol", "erin"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m-1"`, []string{"alice"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr`, []string{"alice"}},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr`, []string{"alice", "Bob", "dave@corp"}},
	}},
	{"MultiValued", []filterCase{
		// Multi-valued attributes: any value matches.
		{`emails eq "alice@example.com"`, []string{"alice"}},
		{`emails co "EXAMPLE.com"`, []string{"alice", "Bob", "carol", "erin"}},
		{`emails.value eq "carol@example.com"`, []string{"carol"}},
		{`emails.value ew "@home.org"`, []string{"alice"}},
		{`emails.value sw "e"`, []string{"erin"}},
		{`emails.value ne "alice@example.com"`, []string{"Bob", "carol", "dave@corp", "erin"}},
		{`emails.type eq "HOME"`, []string{"alice", "carol"}},
		{`emails.primary eq true`, []string{"alice", "carol"}},
		{`emails pr`, []string{"alice", "Bob", "carol", "erin"}},
		{`not (emails pr)`, []string{"dave@corp"}},
		{`emails.value pr`, []string{"alice", "Bob", "carol", "erin"}},
		{`emails.display pr`, nil},
		{`emails[type eq "work" and value co "example"]`, []string{"alice", "Bob", "erin"}},
		{`emails[type eq "home" and value co "example"]`, []string{"carol"}},
		{`emails[type eq "work" and value eq "alice@example.com"]`, []string{"alice"}},
		{`emails[type eq "home" and value eq "alice@example.com"]`, nil},
		{`emails[type eq "work" or primary eq true]`, []string{"alice", "Bob", "carol", "erin"}},
		{`emails[not (type eq "work")]`, []string{"alice", "carol", "erin"}},
		{`emails[primary eq true]`, []string{"alice", "carol"}},
		{`emails[display eq "x" or value eq "BOB@example.com"]`, []string{"Bob"}},
		{`emails[type eq "work"] and emails[type eq "other"]`, []string{"erin"}},
		{`phoneNumbers.value eq "+1-555-0100"`, []string{"alice"}},
		{`phoneNumbers[type eq "WORK"]`, []string{"alice"}},
		{`addresses[locality eq "paris" and country eq "FR"]`, []string{"Bob"}},
		{`addresses.locality eq "london"`, nil},
		{`roles eq "ADMIN"`, []string{"alice"}},
		{`entitlements.value eq "premium"`, []string{"carol"}},
		{`groups.value eq "{Engineering}"`, []string{"alice", "dave@corp"}},
		{`groups.display eq "sales"`, []string{"Bob"}},
		{`groups[display eq "all" and value eq "{All}"]`, []string{"alice", "Bob", "carol", "dave@corp"}},
		{`groups pr`, []string{"alice", "Bob", "carol", "dave@corp"}},
		{`not (groups pr)`, []string{"erin"}},
	}},
	{"Meta", []filterCase{
		// meta.
		{`meta.resourceType eq "User"`, everyone},
		{`meta.resourceType eq "Group"`, nil},
		{`meta.created pr`, everyone},
	}},
	{"Logic", []filterCase{
		// and / or / not and their precedence (and binds tighter).
		{`title eq "engineer" or userName eq "bob" and active eq false`, []string{"alice", "Bob", "dave@corp"}},
		{`(title eq "engineer" or userName eq "bob") and active eq false`, []string{"Bob"}},
		{`userName eq "bob" and active eq false or title eq "engineer"`, []string{"alice", "Bob", "dave@corp"}},
		{`not (userName eq "alice" or userName eq "bob")`, []string{"carol", "dave@corp", "erin"}},
		{`not (active eq true) and emails pr`, []string{"Bob", "carol"}},
		{`userName eq "alice" and not (title pr)`, nil},
		{`not (not (title pr))`, []string{"alice", "Bob", "dave@corp"}},
		{`userName eq "alice" or externalId eq "ext-dave" or emails.value eq "bob@example.com"`, []string{"alice", "Bob", "dave@corp"}},
		{`userName eq "alice" and emails[type eq "work" and value eq "alice@example.com"]`, []string{"alice"}},
	}},
}

func testUserFilters(t *testing.T, d *dataset) {
	for _, topic := range userFilterCases {
		t.Run(topic.name, func(t *testing.T) {
			for _, tc := range topic.cases {
				t.Run(tc.filter, func(t *testing.T) { testUserFilter(t, d, tc) })
			}
		})
	}
}

// testUserFilter checks one filter's matches, and that it and its negation
// split the users.
func testUserFilter(t *testing.T, d *dataset, tc filterCase) {
	p := d.queryUsers(t, schemas.Query{Filter: parse(t, tc.filter, d.ids), Count: 100})
	if got := sorted(userNames(p.Users)); !eqStrings(got, sorted(tc.want)) {
		t.Errorf("got %v, want %v", fmtList(got), fmtList(sorted(tc.want)))
	}
	if p.Total != len(tc.want) {
		t.Errorf("total %d, want %d", p.Total, len(tc.want))
	}
	// Two-valued logic: a filter and its negation split the users.
	neg := d.queryUsers(t, schemas.Query{Filter: parse(t, "not ("+tc.filter+")", d.ids), Count: 0})
	if neg.Total+p.Total != len(everyone) {
		t.Errorf("not (filter) matches %d, filter %d: not a partition of %d", neg.Total, p.Total, len(everyone))
	}
}

func testGroupFilters(t *testing.T, d *dataset) {
	all := []string{"Engineering", "Sales", "Empty", "All"}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`displayName eq "engineering"`, []string{"Engineering"}},
		{`displayName sw "E"`, []string{"Engineering", "Empty"}},
		{`displayName ne "all"`, []string{"Engineering", "Sales", "Empty"}},
		{`externalId eq "g-eng"`, []string{"Engineering"}},
		{`externalId pr`, []string{"Engineering"}},
		{`id eq "{Sales}"`, []string{"Sales"}},
		{`members.value eq "{alice}"`, []string{"Engineering", "All"}},
		{`members eq "{Bob}"`, []string{"Sales", "All"}},
		{`members[value eq "{Bob}"]`, []string{"Sales", "All"}},
		{`members[value eq "{Engineering}" and type eq "Group"]`, []string{"All"}},
		{`members.type eq "group"`, []string{"All"}},
		{`members pr`, []string{"Engineering", "Sales", "All"}},
		{`not (members pr)`, []string{"Empty"}},
		{`members.display eq "ALICE SMITH"`, []string{"Engineering", "All"}},
		{`members.display eq "carol"`, []string{"All"}},
		{`members.display eq "engineering"`, []string{"All"}},
		{`members.value ne "{alice}"`, []string{"Sales", "Empty"}},
		{`displayName eq "sales" or members.value eq "{dave@corp}"`, []string{"Engineering", "Sales", "All"}},
		{`meta.resourceType eq "Group"`, all},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			p := d.queryGroups(t, schemas.Query{Filter: parse(t, tc.filter, d.ids), Count: 100})
			if got := sorted(groupNames(p.Groups)); !eqStrings(got, sorted(tc.want)) {
				t.Errorf("got %v, want %v", fmtList(got), fmtList(sorted(tc.want)))
			}
			if p.Total != len(tc.want) {
				t.Errorf("total %d, want %d", p.Total, len(tc.want))
			}
		})
	}
}

func testInvalidFilters(t *testing.T, d *dataset) {
	for _, f := range []string{
		`foo eq "x"`,
		`name eq "x"`,
		`name.foo eq "x"`,
		`urn:example:unknown:2.0:User:department eq "x"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nope eq "x"`,
		`active eq "maybe"`,
		`active eq 1`,
		`active gt true`,
		`active co "t"`,
		`userName eq 5`,
		`userName eq true`,
		`meta.lastModified gt "yesterday"`,
		`meta.lastModified gt 5`,
		`meta.created co "2026"`,
		`emails[foo eq "x"]`,
		`title[value eq "x"]`,
		`meta.version eq "7x"`,
	} {
		t.Run(f, func(t *testing.T) {
			_, err := d.s.QueryUsers(context.Background(), schemas.Query{Filter: parse(t, f, d.ids), Count: 10})
			wantCode(t, err, store.EINVALID)
		})
	}
	_, err := d.s.QueryGroups(context.Background(), schemas.Query{Filter: parse(t, `userName eq "x"`, nil), Count: 10})
	wantCode(t, err, store.EINVALID)
}

// testDateTime compares meta timestamps as instants, written in UTC, with an
// offset, and with a fraction finer than the store keeps.
func testDateTime(t *testing.T, d *dataset) {
	paris := time.FixedZone("+02:00", 2*3600)
	for _, attr := range []struct {
		name string
		get  func(m schemas.Meta) time.Time
	}{
		{"meta.created", func(m schemas.Meta) time.Time { return m.Created }},
		{"meta.lastModified", func(m schemas.Meta) time.Time { return m.LastModified }},
	} {
		at := attr.get(d.users[2].Meta)
		for _, pivot := range []time.Time{at, at.Add(500 * time.Nanosecond)} {
			for _, op := range []struct {
				name string
				fn   func(v time.Time) bool
			}{
				{"gt", func(v time.Time) bool { return v.After(pivot) }},
				{"ge", func(v time.Time) bool { return !v.Before(pivot) }},
				{"lt", func(v time.Time) bool { return v.Before(pivot) }},
				{"le", func(v time.Time) bool { return !v.After(pivot) }},
				{"eq", func(v time.Time) bool { return v.Equal(pivot) }},
				{"ne", func(v time.Time) bool { return !v.Equal(pivot) }},
			} {
				var want []string
				for _, u := range d.users {
					if op.fn(attr.get(u.Meta)) {
						want = append(want, u.UserName)
					}
				}
				for _, v := range []string{pivot.UTC().Format(time.RFC3339Nano), pivot.In(paris).Format(time.RFC3339Nano)} {
					f := fmt.Sprintf(`%s %s "%s"`, attr.name, op.name, v)
					t.Run(f, func(t *testing.T) {
						p := d.queryUsers(t, schemas.Query{Filter: parse(t, f, nil), Count: 100})
						if got := sorted(userNames(p.Users)); !eqStrings(got, sorted(want)) {
							t.Errorf("got %v, want %v", got, sorted(want))
						}
					})
				}
			}
		}
	}
	// Whole seconds and offsets: everything was created in this millennium.
	p := d.queryUsers(t, schemas.Query{Filter: parse(t, `meta.created gt "2000-01-01T00:00:00Z" and meta.lastModified lt "2999-01-01T00:00:00+01:00"`, nil)})
	if p.Total != len(everyone) {
		t.Errorf("meta range: total %d", p.Total)
	}
}

func testSort(t *testing.T, d *dataset) {
	ref := func(path string) *schemas.Ref {
		cat := schemas.MustLoad()
		r, err := cat.Users.ResolvePath(path)
		if err != nil {
			t.Fatal(err)
		}
		return &r
	}
	byCreated := func(desc bool) []string {
		us := slices.Clone(d.users)
		sort.SliceStable(us, func(i, j int) bool {
			if desc {
				return us[i].Meta.Created.After(us[j].Meta.Created)
			}
			return us[i].Meta.Created.Before(us[j].Meta.Created)
		})
		return userNames(us)
	}
	for _, tc := range []struct {
		name string
		q    schemas.Query
		want []string
	}{
		{"default", schemas.Query{}, everyone},
		{"userName", schemas.Query{SortBy: ref("userName")}, []string{"alice", "Bob", "carol", "dave@corp", "erin"}},
		{"userName desc", schemas.Query{SortBy: ref("userName"), Descending: true}, []string{"erin", "dave@corp", "carol", "Bob", "alice"}},
		// Absent values last ascending, first descending; ties in creation order.
		{"title", schemas.Query{SortBy: ref("title")}, []string{"alice", "dave@corp", "Bob", "carol", "erin"}},
		{"title desc", schemas.Query{SortBy: ref("title"), Descending: true}, []string{"carol", "erin", "Bob", "alice", "dave@corp"}},
		{"name.familyName", schemas.Query{SortBy: ref("name.familyName")}, []string{"Bob", "alice", "carol", "dave@corp", "erin"}},
		// Multi-valued: the primary value, else the first.
		{"emails", schemas.Query{SortBy: ref("emails")}, []string{"alice", "Bob", "carol", "erin", "dave@corp"}},
		{"emails.type desc", schemas.Query{SortBy: ref("emails.type"), Descending: true}, []string{"dave@corp", "alice", "Bob", "erin", "carol"}},
		{"externalId", schemas.Query{SortBy: ref("externalId")}, []string{"Bob", "alice", "dave@corp", "carol", "erin"}},
		{"active", schemas.Query{SortBy: ref("active")}, []string{"Bob", "alice", "dave@corp", "erin", "carol"}},
		{"meta.created", schemas.Query{SortBy: ref("meta.created")}, byCreated(false)},
		{"meta.created desc", schemas.Query{SortBy: ref("meta.created"), Descending: true}, byCreated(true)},
		{"department", schemas.Query{SortBy: ref(enterprise + ":department")}, []string{"alice", "dave@corp", "Bob", "carol", "erin"}},
		{"filtered", schemas.Query{Filter: parse(t, `emails pr`, nil), SortBy: ref("userName"), Descending: true}, []string{"erin", "carol", "Bob", "alice"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Count = 100
			p := d.queryUsers(t, tc.q)
			if got := userNames(p.Users); !eqStrings(got, tc.want) {
				t.Errorf("got %v, want %v", fmtList(got), fmtList(tc.want))
			}
		})
	}
	cat := schemas.MustLoad()
	dn, err := cat.Groups.ResolvePath("displayName")
	if err != nil {
		t.Fatal(err)
	}
	p := d.queryGroups(t, schemas.Query{SortBy: &dn, Count: 10})
	if got := groupNames(p.Groups); !eqStrings(got, []string{"All", "Empty", "Engineering", "Sales"}) {
		t.Errorf("groups by displayName: %v", got)
	}
	p = d.queryGroups(t, schemas.Query{SortBy: &dn, Descending: true, Count: 10})
	if got := groupNames(p.Groups); !eqStrings(got, []string{"Sales", "Engineering", "Empty", "All"}) {
		t.Errorf("groups by displayName desc: %v", got)
	}
}

func testPaging(t *testing.T, d *dataset) {
	userName, err := schemas.MustLoad().Users.ResolvePath("userName")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		q         schemas.Query
		want      []string
		wantTotal int
	}{
		{"first page", schemas.Query{StartIndex: 1, Count: 2}, []string{"alice", "Bob"}, 5},
		{"second page", schemas.Query{StartIndex: 3, Count: 2}, []string{"carol", "dave@corp"}, 5},
		{"last page", schemas.Query{StartIndex: 5, Count: 2}, []string{"erin"}, 5},
		{"past the end", schemas.Query{StartIndex: 6, Count: 2}, nil, 5},
		{"far past the end", schemas.Query{StartIndex: 600, Count: 2}, nil, 5},
		{"count 0", schemas.Query{StartIndex: 1, Count: 0}, nil, 5},
		{"count 0 filtered", schemas.Query{Filter: parse(t, `title pr`, nil), Count: 0}, nil, 3},
		{"startIndex 0 is 1", schemas.Query{StartIndex: 0, Count: 1}, []string{"alice"}, 5},
		{"negative count is 0", schemas.Query{StartIndex: 1, Count: -3}, nil, 5},
		{"big count", schemas.Query{StartIndex: 2, Count: 1000}, []string{"Bob", "carol", "dave@corp", "erin"}, 5},
		{"filtered page", schemas.Query{Filter: parse(t, `emails pr`, nil), StartIndex: 2, Count: 2}, []string{"Bob", "carol"}, 4},
		{"filtered past the end", schemas.Query{Filter: parse(t, `emails pr`, nil), StartIndex: 9, Count: 2}, nil, 4},
		{"filtered none", schemas.Query{Filter: parse(t, `userName eq "zed"`, nil), StartIndex: 1, Count: 2}, nil, 0},
		{"sorted page", schemas.Query{SortBy: &userName, Descending: true, StartIndex: 2, Count: 2}, []string{"dave@corp", "carol"}, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := d.queryUsers(t, tc.q)
			if got := userNames(p.Users); !eqStrings(got, tc.want) {
				t.Errorf("got %v, want %v", fmtList(got), fmtList(tc.want))
			}
			if p.Total != tc.wantTotal {
				t.Errorf("total %d, want %d", p.Total, tc.wantTotal)
			}
		})
	}
	// Walking page by page, in any page size, yields the full order once.
	for size := 1; size <= 6; size++ {
		var got []string
		for start := 1; ; start += size {
			p := d.queryUsers(t, schemas.Query{StartIndex: start, Count: size})
			if p.Total != 5 {
				t.Fatalf("size %d start %d: total %d", size, start, p.Total)
			}
			if len(p.Users) == 0 {
				break
			}
			got = append(got, userNames(p.Users)...)
		}
		if !eqStrings(got, everyone) {
			t.Errorf("paging by %d: %v", size, got)
		}
	}
	gp := d.queryGroups(t, schemas.Query{StartIndex: 2, Count: 2})
	if gp.Total != 4 || !eqStrings(groupNames(gp.Groups), []string{"Sales", "Empty"}) {
		t.Errorf("groups page: %v total %d", groupNames(gp.Groups), gp.Total)
	}
}

func testRelated(t *testing.T, d *dataset) {
	p := d.queryUsers(t, schemas.Query{Count: 10, Related: true})
	want := map[string][]string{
		"alice":     {"All", "Engineering"},
		"Bob":       {"All", "Sales"},
		"carol":     {"All"},
		"dave@corp": {"All", "Engineering"},
		"erin":      nil,
	}
	for _, u := range p.Users {
		var names []string
		for _, g := range u.Groups {
			names = append(names, g.Display)
			if g.Value != d.ids[g.Display] || g.Type != "direct" {
				t.Errorf("%s: group ref %+v", u.UserName, g)
			}
		}
		if !eqStrings(names, want[u.UserName]) {
			t.Errorf("%s groups = %v, want %v", u.UserName, names, want[u.UserName])
		}
	}
	p = d.queryUsers(t, schemas.Query{Count: 10, Related: false})
	for _, u := range p.Users {
		if u.Groups != nil {
			t.Errorf("Related=false: %s has groups %+v", u.UserName, u.Groups)
		}
	}
	gp := d.queryGroups(t, schemas.Query{Count: 10, Related: true})
	for _, g := range gp.Groups {
		if !g.MembersLoaded {
			t.Errorf("Related=true: %s MembersLoaded false", g.DisplayName)
		}
		switch g.DisplayName {
		case "All":
			if len(g.Members) != 5 {
				t.Errorf("All has %d members", len(g.Members))
			}
			for _, m := range g.Members {
				if m.Value == d.ids["Engineering"] && (m.Type != schemas.MemberGroup || m.Display != "Engineering") {
					t.Errorf("nested member %+v", m)
				}
				if m.Value == d.ids["carol"] && (m.Type != schemas.MemberUser || m.Display != "carol") {
					t.Errorf("user member %+v", m)
				}
			}
		case "Empty":
			if len(g.Members) != 0 {
				t.Errorf("Empty has members %+v", g.Members)
			}
		}
	}
	gp = d.queryGroups(t, schemas.Query{Count: 10})
	for _, g := range gp.Groups {
		if g.MembersLoaded || g.Members != nil {
			t.Errorf("Related=false: %s members %+v loaded %v", g.DisplayName, g.Members, g.MembersLoaded)
		}
	}
}

// testPagingAcrossWrites checks that pages stay exact when the data changes
// between requests (drivers may cache positions).
func testPagingAcrossWrites(t *testing.T, s store.Store) {
	ctx := context.Background()
	var ids []string
	update(t, s, func(tx store.Tx) error {
		for i := range 40 {
			u := &schemas.User{UserName: fmt.Sprintf("user%02d", i), Title: []string{"a", "b"}[i%2]}
			if err := tx.CreateUser(u); err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return nil
	})
	list := func(q schemas.Query) []string {
		t.Helper()
		p, err := s.QueryUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		return userNames(p.Users)
	}
	for _, f := range []string{"", `title eq "a"`} {
		var flt schemas.Query
		if f != "" {
			flt.Filter = parse(t, f, nil)
		}
		page := func(start int) []string {
			q := flt
			q.StartIndex, q.Count = start, 5
			return list(q)
		}
		full := func() []string {
			q := flt
			q.Count = 1000
			return list(q)
		}
		for start := 1; start <= 16; start += 5 {
			page(start)
		}
		// A deletion before the cached positions shifts every later page.
		update(t, s, func(tx store.Tx) error {
			_, err := tx.DeleteUser(ids[0])
			ids = ids[1:]
			return err
		})
		for start := 1; start <= 21; start += 5 {
			want := full()
			want = want[min(start-1, len(want)):min(start-1+5, len(want))]
			if got := page(start); !eqStrings(got, want) {
				t.Fatalf("filter %q start %d after delete: %v, want %v", f, start, got, want)
			}
		}
	}
}
