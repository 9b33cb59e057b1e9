package storetest

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// fullUser sets every attribute the User type has, so a round trip shows
// nothing is lost.
func fullUser(userName string) *schemas.User {
	return &schemas.User{
		ExternalID: "ext-" + userName,
		UserName:   userName,
		Name: &schemas.Name{Formatted: "Ms. Barbara J Jensen III", FamilyName: "Jensen", GivenName: "Barbara",
			MiddleName: "Jane", HonorificPrefix: "Ms.", HonorificSuffix: "III"},
		DisplayName: "Babs Jensen", NickName: "Babs", Title: "Tour Guide", UserType: "Employee",
		PreferredLanguage: "en-US", Locale: "en-US", Timezone: "America/Los_Angeles",
		Active: ptr(true),
		Emails: []schemas.MultiValue{
			{Value: "bjensen@example.com", Type: "work", Primary: true},
			{Value: "babs@jensen.org", Type: "home", Display: "Babs"},
		},
		PhoneNumbers: []schemas.MultiValue{{Value: "555-555-5555", Type: "work"}},
		Addresses: []schemas.Address{{StreetAddress: "100 Universal City Plaza", Locality: "Hollywood",
			Region: "CA", PostalCode: "91608", Country: "USA", Type: "work", Primary: true}},
		Entitlements: []schemas.MultiValue{{Value: "premium"}},
		Roles:        []schemas.MultiValue{{Value: "admin", Type: "app"}},
		Enterprise: &schemas.EnterpriseExt{EmployeeNumber: "701984", CostCenter: "4130", Organization: "Universal Studios",
			Division: "Theme Park", Department: "Tour Operations",
			Manager: &schemas.Manager{Value: "26118915-6090-4610-87e4-49d8ca9f808d", DisplayName: "John Smith"}},
	}
}

// comparable strips what the store owns so documents can be compared.
func comparable(u *schemas.User) schemas.User {
	c := *u
	c.Meta, c.Groups, c.HubSpot = schemas.Meta{}, nil, nil
	return c
}

func testUsers(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("CreateGetRoundTrip", func(t *testing.T) { testUserCreateGetRoundTrip(t, open) })
	t.Run("CreateKeepsCallerID", func(t *testing.T) { testUserCreateKeepsCallerID(t, open) })
	t.Run("UserNameUniqueIgnoringCase", func(t *testing.T) { testUserNameUniqueIgnoringCase(t, open) })
	t.Run("Replace", func(t *testing.T) { testUserReplace(t, open) })
	t.Run("Delete", func(t *testing.T) { testUserDelete(t, open) })
	t.Run("GetMissingIsNotFound", func(t *testing.T) { testUserGetMissingIsNotFound(t, open) })
	t.Run("RefusesMalformedNames", func(t *testing.T) { testUserRefusesMalformedNames(t, open) })
	t.Run("ReportsOf", func(t *testing.T) { testUserReportsOf(t, open) })
}

func testUserCreateGetRoundTrip(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	u := fullUser("bjensen")
	var now time.Time
	update(t, s, func(tx store.Tx) error {
		now = tx.Now()
		if err := tx.CreateUser(u); err != nil {
			return err
		}
		// A transaction reads its own writes.
		got, err := tx.GetUser(u.ID, true)
		if err != nil {
			return err
		}
		if got.UserName != "bjensen" {
			t.Errorf("tx.GetUser userName = %q", got.UserName)
		}
		return nil
	})
	if u.ID == "" {
		t.Fatal("CreateUser left ID empty")
	}
	if !u.Meta.Created.Equal(now) || !u.Meta.LastModified.Equal(now) || u.Meta.Version != 1 {
		t.Errorf("Meta = %+v, want created = lastModified = %v, version 1", u.Meta, now)
	}
	got := getUser(t, s, u.ID, false)
	if !reflect.DeepEqual(comparable(got), comparable(u)) {
		t.Errorf("round trip:\n got %+v\nwant %+v", comparable(got), comparable(u))
	}
	if !got.Meta.Created.Equal(now) || !got.Meta.LastModified.Equal(now) || got.Meta.Version != 1 {
		t.Errorf("stored Meta = %+v, want %v / version 1", got.Meta, now)
	}
	if got.Meta.Created.Location() != time.UTC {
		t.Errorf("Meta.Created in %v, want UTC", got.Meta.Created.Location())
	}
}

func testUserCreateKeepsCallerID(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	u := createUser(t, s, &schemas.User{ID: "fixed-id", UserName: "fixed"})
	if u.ID != "fixed-id" {
		t.Fatalf("ID = %q, want the caller's", u.ID)
	}
	getUser(t, s, "fixed-id", false)
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.CreateUser(&schemas.User{ID: "fixed-id", UserName: "other"})
	})
	wantCode(t, err, store.ECONFLICT)
}

func testUserNameUniqueIgnoringCase(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	bob := createUser(t, s, &schemas.User{UserName: "Bob"})
	other := createUser(t, s, &schemas.User{UserName: "other"})
	for _, tc := range []struct {
		name string
		fn   func(tx store.Tx) error
		want string
	}{
		{"create same", func(tx store.Tx) error { return tx.CreateUser(&schemas.User{UserName: "Bob"}) }, store.ECONFLICT},
		{"create other case", func(tx store.Tx) error { return tx.CreateUser(&schemas.User{UserName: "bOB"}) }, store.ECONFLICT},
		{"rename onto", func(tx store.Tx) error {
			return tx.ReplaceUser(&schemas.User{ID: other.ID, UserName: "BOB"})
		}, store.ECONFLICT},
		{"rename self case", func(tx store.Tx) error {
			return tx.ReplaceUser(&schemas.User{ID: bob.ID, UserName: "BOB"})
		}, ""},
		{"empty", func(tx store.Tx) error { return tx.CreateUser(&schemas.User{}) }, store.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(ctx, tc.fn)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.want)
			if tc.want == store.ECONFLICT && !containsFold(err.Error(), "bob") {
				t.Errorf("conflict %q does not name the userName", err)
			}
		})
	}
	page, err := s.QueryUsers(ctx, schemas.Query{Count: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 2 {
		t.Errorf("Total = %d after refused writes, want 2", page.Total)
	}
}

func testUserReplace(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	u := createUser(t, s, fullUser("bjensen"))
	created := u.Meta.Created
	time.Sleep(2 * time.Millisecond)
	repl := &schemas.User{ID: u.ID, UserName: "BJensen2", Title: "Boss",
		Emails: []schemas.MultiValue{{Value: "new@example.com"}},
		// Clients cannot write the HubSpot extension or groups.
		HubSpot: &schemas.HubSpotExt{Role: "from-client"},
		Groups:  []schemas.GroupRef{{Value: "nope"}},
	}
	var now time.Time
	update(t, s, func(tx store.Tx) error {
		now = tx.Now()
		return tx.ReplaceUser(repl)
	})
	if repl.Meta.Version != 2 || !repl.Meta.Created.Equal(created) || !repl.Meta.LastModified.Equal(now) {
		t.Errorf("Meta after replace = %+v, want version 2, created %v, lastModified %v", repl.Meta, created, now)
	}
	got := getUser(t, s, u.ID, true)
	if got.UserName != "BJensen2" || got.Title != "Boss" || got.Name != nil || got.Enterprise != nil ||
		len(got.Emails) != 1 || got.Emails[0].Value != "new@example.com" || got.ExternalID != "" {
		t.Errorf("replace did not overwrite: %+v", got)
	}
	if got.HubSpot != nil || len(got.Groups) != 0 {
		t.Errorf("replace took HubSpot/groups from the client: %+v %+v", got.HubSpot, got.Groups)
	}
	if got.Meta != repl.Meta {
		t.Errorf("stored Meta %+v != returned %+v", got.Meta, repl.Meta)
	}
	// Old email no longer matches, new one does.
	for f, want := range map[string]int{`emails.value eq "bjensen@example.com"`: 0, `emails.value eq "NEW@example.com"`: 1} {
		p, err := s.QueryUsers(ctx, schemas.Query{Filter: parse(t, f, nil), Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != want {
			t.Errorf("%s: total %d, want %d", f, p.Total, want)
		}
	}
	update(t, s, func(tx store.Tx) error { return tx.ReplaceUser(repl) })
	if repl.Meta.Version != 3 {
		t.Errorf("second replace: version %d, want 3", repl.Meta.Version)
	}
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.ReplaceUser(&schemas.User{ID: "missing", UserName: "x"})
	})
	wantCode(t, err, store.ENOTFOUND)
}

func testUserDelete(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	u := createUser(t, s, &schemas.User{UserName: "gone", Emails: []schemas.MultiValue{{Value: "g@x"}}})
	var groups []string
	update(t, s, func(tx store.Tx) error {
		var err error
		groups, err = tx.DeleteUser(u.ID)
		return err
	})
	if len(groups) != 0 {
		t.Errorf("DeleteUser groups = %v, want none", groups)
	}
	_, err := s.GetUser(ctx, u.ID, false)
	wantCode(t, err, store.ENOTFOUND, u.ID)
	err = s.Update(ctx, func(tx store.Tx) error { _, err := tx.DeleteUser(u.ID); return err })
	wantCode(t, err, store.ENOTFOUND)
	// The userName is free again.
	createUser(t, s, &schemas.User{UserName: "GONE"})
}

func testUserGetMissingIsNotFound(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	_, err := s.GetUser(ctx, "nope", true)
	wantCode(t, err, store.ENOTFOUND)
	_, err = s.GetGroup(ctx, "nope", true)
	wantCode(t, err, store.ENOTFOUND)
}

func testUserRefusesMalformedNames(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	for _, name := range []string{"", "  ", " lead@x", "trail@x ", "a\x00b", "a\x1b[31mb", "a\ufffdb"} {
		err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(&schemas.User{UserName: name}) })
		wantCode(t, err, store.EINVALID, "userName")
		err = s.Update(ctx, func(tx store.Tx) error { return tx.CreateGroup(&schemas.Group{DisplayName: name}) })
		wantCode(t, err, store.EINVALID, "displayName")
	}
	u := createUser(t, s, &schemas.User{UserName: "ok@x"})
	u.UserName = "ok@x\n"
	err := s.Update(ctx, func(tx store.Tx) error { return tx.ReplaceUser(u) })
	wantCode(t, err, store.EINVALID, "userName")
}

func testUserReportsOf(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	boss := createUser(t, s, &schemas.User{UserName: "boss"})
	report := func(name, manager string) *schemas.User {
		u := &schemas.User{UserName: name}
		if manager != "" {
			u.Enterprise = &schemas.EnterpriseExt{Department: "Sales", Manager: &schemas.Manager{Value: manager}}
		}
		return createUser(t, s, u)
	}
	a, b := report("a", boss.ID), report("b", boss.ID)
	report("c", "")
	other := report("d", "someone-else")
	reports := func(id string) []string {
		t.Helper()
		var ids []string
		update(t, s, func(tx store.Tx) error {
			var err error
			ids, err = tx.ReportsOf(id)
			return err
		})
		return ids
	}
	if got, want := reports(boss.ID), sorted([]string{a.ID, b.ID}); !eqStrings(got, want) {
		t.Errorf("ReportsOf(boss) = %s, want %s", fmtList(got), fmtList(want))
	}
	// Exact match: not another case, not empty.
	if upper := strings.ToUpper(boss.ID); upper != boss.ID {
		if got := reports(upper); len(got) != 0 {
			t.Errorf("ReportsOf(upper-case id) = %s, want none", fmtList(got))
		}
	}
	if got := reports(""); len(got) != 0 {
		t.Errorf("ReportsOf(\"\") = %s, want none", fmtList(got))
	}
	// A replaced manager, and a deleted report, leave the list.
	a.Enterprise.Manager.Value = other.ID
	update(t, s, func(tx store.Tx) error { return tx.ReplaceUser(a) })
	update(t, s, func(tx store.Tx) error { _, err := tx.DeleteUser(b.ID); return err })
	if got := reports(boss.ID); len(got) != 0 {
		t.Errorf("ReportsOf(boss) after the moves = %s, want none", fmtList(got))
	}
	if got := reports(other.ID); !eqStrings(got, []string{a.ID}) {
		t.Errorf("ReportsOf(d) = %s, want [%s]", fmtList(got), a.ID)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(schemas.Fold(s), schemas.Fold(sub))
}
