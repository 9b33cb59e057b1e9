package storetest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// testNames: userName and identity emails are unique under their RFC 8265
// comparison keys, refused characters never reach the store, and what is
// stored is the NFC form of what was written.
func testNames(t *testing.T, open func(t *testing.T) store.Store) {
	t.Run("UserNameCollisions", func(t *testing.T) { testNamesUserNameCollisions(t, open) })
	t.Run("RefusesUnsafeNames", func(t *testing.T) { testNamesRefusesUnsafeNames(t, open) })
	t.Run("StoredNFC", func(t *testing.T) { testNamesStoredNFC(t, open) })
	t.Run("EmailsMayRepeat", func(t *testing.T) { testNamesEmailsMayRepeat(t, open) })
	t.Run("NameChecker", func(t *testing.T) { testNamesNameChecker(t, open) })
}

func testNamesUserNameCollisions(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	ada := createUser(t, s, &schemas.User{UserName: "ada@example.com"})
	createUser(t, s, &schemas.User{UserName: "caf\u00e9"}) // NFC
	lovelace := createUser(t, s, &schemas.User{UserName: "Ada Lovelace"})
	other := createUser(t, s, &schemas.User{UserName: "other"})
	for _, tc := range []struct {
		name, userName, want string
		shown                string // the name in the message: the NFC form
	}{
		{"fullwidth", "ａｄａ@example.com", store.ECONFLICT, "ａｄａ@example.com"},
		{"fullwidth upper", "ＡＤＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ", store.ECONFLICT, "ＡＤＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ"},
		{"case", "ADA@example.com", store.ECONFLICT, "ADA@example.com"},
		{"NFD", "cafe\u0301", store.ECONFLICT, "caf\u00e9"},
		{"NFD upper", "CAFE\u0301", store.ECONFLICT, "CAF\u00c9"},
		{"userparts", "ＡＤＡ ＬＯＶＥＬＡＣＥ", store.ECONFLICT, "ＡＤＡ ＬＯＶＥＬＡＣＥ"},
		{"homoglyph is another name", "аda@example.com", "", ""}, // Cyrillic а
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(ctx, func(tx store.Tx) error { return tx.CreateUser(&schemas.User{UserName: tc.userName}) })
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tc.want)
			if !strings.Contains(err.Error(), tc.shown) {
				t.Errorf("conflict %q does not name the userName", err)
			}
		})
	}
	// Renaming onto a variant of another user's name is refused;
	// onto a variant of one's own is a rename.
	err := s.Update(ctx, func(tx store.Tx) error {
		return tx.ReplaceUser(&schemas.User{ID: other.ID, UserName: "ａｄａ lovelace"})
	})
	wantCode(t, err, store.ECONFLICT)
	update(t, s, func(tx store.Tx) error {
		return tx.ReplaceUser(&schemas.User{ID: lovelace.ID, UserName: "ＡＤＡ Lovelace"})
	})
	if got := getUser(t, s, lovelace.ID, false); got.UserName != "ＡＤＡ Lovelace" {
		t.Errorf("renamed to a variant of its own name: %q", got.UserName)
	}
	// userName eq finds the user by any variant.
	for _, v := range []string{"ada@example.com", "ＡＤＡ@example.com", "Ada@Example.Com"} {
		p, err := s.QueryUsers(ctx, schemas.Query{Filter: parse(t, `userName eq "`+v+`"`, nil), Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Users) != 1 || p.Users[0].ID != ada.ID || p.Total != 1 {
			t.Errorf("userName eq %q: %d users, total %d", v, len(p.Users), p.Total)
		}
	}
	for _, f := range []string{"userName eq \"CAFE\u0301\"", `userName sw "ＣＡＦ"`, `userName co "ＬＯＶＥ"`} {
		p, err := s.QueryUsers(ctx, schemas.Query{Filter: parse(t, f, nil), Count: 10})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 1 {
			t.Errorf("%s: total %d, want 1", f, p.Total)
		}
	}
}

func testNamesRefusesUnsafeNames(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	u := createUser(t, s, &schemas.User{UserName: "ada", Emails: []schemas.MultiValue{{Value: "ada@example.com"}}})
	for _, tc := range []struct {
		name string
		user schemas.User
		want []string // in the message
	}{
		{"zero width space", schemas.User{UserName: "z\u200bw@example.com"}, []string{"userName", "U+200B"}},
		{"right-to-left override", schemas.User{UserName: "ada\u202emoc.elpmaxe"}, []string{"userName", "U+202E"}},
		{"left-to-right mark", schemas.User{UserName: "\u200eada"}, []string{"userName", "U+200E"}},
		{"zero width joiner", schemas.User{UserName: "a\u200db"}, []string{"userName", "U+200D"}},
		{"emoji", schemas.User{UserName: "bob😀"}, []string{"userName", "U+1F600"}},
		{"two spaces", schemas.User{UserName: "Ada  Lovelace"}, []string{"userName", "two spaces"}},
		{"email", schemas.User{UserName: "zed", Emails: []schemas.MultiValue{{Value: "z\u200b@example.com"}}}, []string{"emails.value", "U+200B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := s.Update(ctx, func(tx store.Tx) error {
				c := tc.user
				return tx.CreateUser(&c)
			})
			wantCode(t, err, store.EINVALID)
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q does not say %q", err, w)
				}
			}
			err = s.Update(ctx, func(tx store.Tx) error {
				c := tc.user
				c.ID = u.ID
				if c.UserName == "zed" {
					c.UserName = "ada"
				}
				return tx.ReplaceUser(&c)
			})
			wantCode(t, err, store.EINVALID)
		})
	}
	if p, err := s.QueryUsers(ctx, schemas.Query{Count: 10}); err != nil || p.Total != 1 {
		t.Fatalf("after refused writes: %v, %v", p, err)
	}
	if got := getUser(t, s, u.ID, false); got.UserName != "ada" || got.Meta.Version != 1 {
		t.Errorf("refused replaces changed the user: %+v", got)
	}
}

func testNamesStoredNFC(t *testing.T, open func(t *testing.T) store.Store) {
	s := open(t)
	u := createUser(t, s, &schemas.User{UserName: "CAFE\u0301 ｃｒｅｍｅ",
		Emails: []schemas.MultiValue{{Value: "cafe\u0301@example.com", Type: "work"}}})
	// NFC, neither lower-cased nor width-mapped.
	const wantName, wantEmail = "CAF\u00c9 ｃｒｅｍｅ", "caf\u00e9@example.com"
	if u.UserName != wantName || u.Emails[0].Value != wantEmail {
		t.Errorf("written user: %q %q", u.UserName, u.Emails[0].Value)
	}
	got := getUser(t, s, u.ID, false)
	if got.UserName != wantName || got.Emails[0].Value != wantEmail {
		t.Errorf("stored user: %q %q", got.UserName, got.Emails[0].Value)
	}
}

func testNamesEmailsMayRepeat(t *testing.T, open func(t *testing.T) store.Store) {
	// RFC 7643 §4.1.2: emails have no uniqueness; identity providers
	// give several accounts one address. HubSpot's one account per
	// address is the provisioning engine's concern.
	s := open(t)
	for i, e := range []string{"ada@example.com", "ＡＤＡ@example.com", "ada@example.com"} {
		createUser(t, s, &schemas.User{UserName: fmt.Sprint("user", i), Emails: []schemas.MultiValue{{Value: e, Type: "work", Primary: true}}})
	}
	createUser(t, s, &schemas.User{UserName: "Ada@Example.com"})
}

func testNamesNameChecker(t *testing.T, open func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := open(t)
	nc, ok := s.(store.NameChecker)
	if !ok {
		t.Skip("the driver has no NameChecker")
	}
	createUser(t, s, &schemas.User{UserName: "ada", Emails: []schemas.MultiValue{{Value: "ada@example.com"}}})
	createUser(t, s, &schemas.User{UserName: "ｂｏｂ", Emails: []schemas.MultiValue{{Value: "ADA@example.com"}}})
	// The write rules leave nothing to report.
	if ps, err := nc.CheckNames(ctx); err != nil || len(ps) != 0 {
		t.Fatalf("CheckNames = %+v, %v", ps, err)
	}
}
