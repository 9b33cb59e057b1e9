package scim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/schemas"
)

// userName compares under RFC 8265 (width, case and normalization do not
// count): a variant of another user's is 409 uniqueness. Invisible and
// bidirectional characters in a userName or an email are 400 invalidValue
// naming the attribute and the code point. What is stored is the NFC form
// of what was sent.
func TestUserNamesPRECIS(t *testing.T) {
	b := newBridge(t)
	status, ada := b.json("POST", "/Users", map[string]any{"userName": "ada@example.com",
		"emails": []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}}})
	mustStatus(t, status, http.StatusCreated, ada)
	status, bob := b.json("POST", "/Users", map[string]any{"userName": "bob@example.com"})
	mustStatus(t, status, http.StatusCreated, bob)
	bobPath := "/Users/" + bob["id"].(string)

	wantError := func(t *testing.T, what string, status int, m map[string]any, wantStatus int, scimType string, detail ...string) {
		t.Helper()
		if status != wantStatus || m["scimType"] != scimType || m["status"] != fmt.Sprint(wantStatus) {
			t.Fatalf("%s: %d %v, want %d %s", what, status, m, wantStatus, scimType)
		}
		if s, _ := m["schemas"].([]any); len(s) != 1 || s[0] != schemas.ErrorURI {
			t.Errorf("%s: not a SCIM error body: %v", what, m)
		}
		for _, d := range detail {
			if !strings.Contains(fmt.Sprint(m["detail"]), d) {
				t.Errorf("%s: detail %q does not say %q", what, m["detail"], d)
			}
		}
	}

	for _, c := range []struct {
		name string
		body map[string]any
	}{
		{"fullwidth userName", map[string]any{"userName": "ａｄａ@example.com"}},
		{"upper-case userName", map[string]any{"userName": "ADA@EXAMPLE.COM"}},
		{"fullwidth upper userName", map[string]any{"userName": "ＡＤＡ＠ＥＸＡＭＰＬＥ．ＣＯＭ"}},
	} {
		t.Run("409 "+c.name, func(t *testing.T) {
			status, m := b.json("POST", "/Users", c.body)
			wantError(t, c.name, status, m, http.StatusConflict, "uniqueness", ada["id"].(string))
		})
	}
	for _, c := range []struct {
		name   string
		body   map[string]any
		detail []string
	}{
		{"zero width space", map[string]any{"userName": "z\u200bw@example.com"}, []string{"userName", "U+200B"}},
		{"right-to-left override", map[string]any{"userName": "ada\u202emoc.elpmaxe@"}, []string{"userName", "U+202E"}},
		{"zero width joiner", map[string]any{"userName": "a\u200db@example.com"}, []string{"userName", "U+200D"}},
		{"left-to-right mark in an email", map[string]any{"userName": "carol",
			"emails": []any{map[string]any{"value": "c\u200e@example.com"}}}, []string{"emails.value", "U+200E"}},
		{"emoji", map[string]any{"userName": "🙂@example.com"}, []string{"userName", "U+1F642"}},
	} {
		t.Run("400 "+c.name, func(t *testing.T) {
			status, m := b.json("POST", "/Users", c.body)
			wantError(t, c.name, status, m, http.StatusBadRequest, "invalidValue", c.detail...)
		})
	}

	// PATCH and PUT go through the same rules.
	patch := func(value string) (int, map[string]any) {
		return b.json("PATCH", bobPath, map[string]any{"schemas": []string{schemas.PatchOpURI},
			"Operations": []any{map[string]any{"op": "replace", "path": "userName", "value": value}}})
	}
	status, m := patch("Ａｄａ@Example.com")
	wantError(t, "PATCH onto a variant", status, m, http.StatusConflict, "uniqueness")
	status, m = patch("bob\u200f@example.com")
	wantError(t, "PATCH with a right-to-left mark", status, m, http.StatusBadRequest, "invalidValue", "userName", "U+200F")
	status, m = b.json("PUT", bobPath, map[string]any{"userName": "bob\u2066@example.com"})
	wantError(t, "PUT with an isolate", status, m, http.StatusBadRequest, "invalidValue", "userName", "U+2066")
	status, m = patch("ＢＯＢ@example.com") // a variant of its own name: a rename
	mustStatus(t, status, http.StatusOK, m)
	if m["userName"] != "ＢＯＢ@example.com" {
		t.Errorf("renamed to a variant of its own name: %v", m["userName"])
	}

	// Stored and shown in NFC, found by any variant.
	status, cafe := b.json("POST", "/Users", map[string]any{"userName": "Cafe\u0301 Cre\u0300me"})
	mustStatus(t, status, http.StatusCreated, cafe)
	if cafe["userName"] != "Caf\u00e9 Cr\u00e8me" {
		t.Errorf("stored userName %q, want its NFC form", cafe["userName"])
	}
	for filter, want := range map[string]any{
		`userName eq "ａｄａ@example.com"`:         ada["id"],
		"userName eq \"CAFE\u0301 CR\u00c8ME\"": cafe["id"],
		`userName eq "bob@example.com"`:         bob["id"],
	} {
		status, m := b.json("GET", "/Users?"+url.Values{"filter": {filter}}.Encode(), nil)
		if got := ids(m); status != 200 || len(got) != 1 || got[0] != want {
			t.Errorf("%s: %d %v, want %v", filter, status, got, want)
		}
	}
}
