package schemas

import (
	"strings"
	"testing"

	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// The rules user names and email addresses are compared and checked by
// (RFC 8265 UsernameCaseMapped, per space-separated userpart), one row per
// decision.
func TestUsernameKey(t *testing.T) {
	tests := []struct {
		name, in string
		want     string // the key, when accepted
		wantErr  string // a part of the refusal, when refused
	}{
		// Mapped: these collide with their plain forms.
		{name: "ascii", in: "ada@example.com", want: "ada@example.com"},
		{name: "case", in: "ADA@Example.COM", want: "ada@example.com"},
		{name: "fullwidth", in: "ａｄａ@example.com", want: "ada@example.com"},
		{name: "fullwidth upper", in: "ＡＤＡ＠ｅｘａｍｐｌｅ．ｃｏｍ", want: "ada@example.com"},
		{name: "halfwidth katakana", in: "ｱｲｳ", want: "アイウ"},
		{name: "NFC", in: "caf\u00e9", want: "caf\u00e9"},
		{name: "NFD", in: "cafe\u0301", want: "caf\u00e9"},
		{name: "NFD upper", in: "CAFE\u0301", want: "caf\u00e9"},
		{name: "kelvin sign", in: "\u212a", want: "k"},
		{name: "ohm sign", in: "\u2126", want: "\u03c9"},
		{name: "sigma not final-mapped", in: "ΣΑΣ", want: "σασ"},
		{name: "dotted capital I", in: "İstanbul", want: "i\u0307stanbul"},
		{name: "sharp s stays", in: "straße", want: "straße"},
		{name: "ascii punctuation", in: "d'Arcy+hub_spot~1", want: "d'arcy+hub_spot~1"},
		// Spaces: each userpart on its own (RFC 8265 §3.3).
		{name: "userparts", in: "Ada Lovelace", want: "ada lovelace"},
		{name: "userparts fullwidth", in: "Ａｄａ Ｌｏｖｅｌａｃｅ", want: "ada lovelace"},
		{name: "two spaces", in: "Ada  Lovelace", wantErr: "two spaces in a row"},
		{name: "leading space", in: " Ada", wantErr: "begin or end with a space"},
		{name: "trailing space", in: "Ada ", wantErr: "begin or end with a space"},
		{name: "ideographic space", in: "Ａｄａ\u3000Ｌｏｖｅｌａｃｅ", wantErr: "U+3000 (a space other than U+0020)"},
		{name: "no-break space", in: "Ada\u00a0Lovelace", wantErr: "U+00A0 (a space other than U+0020)"},
		// Empty: nothing in the profile maps a character away, so a key is
		// only empty for an empty value or userpart.
		{name: "empty", in: "", wantErr: "must not be empty"},
		{name: "only a zero width space", in: "\u200b", wantErr: "U+200B (an invisible character)"},
		// Invisible and bidirectional controls.
		{name: "zero width space", in: "z\u200bw@example.com", wantErr: "U+200B (an invisible character)"},
		{name: "word joiner", in: "ada\u2060", wantErr: "U+2060 (an invisible character)"},
		{name: "byte order mark", in: "\ufeffada", wantErr: "U+FEFF (an invisible character)"},
		{name: "soft hyphen", in: "ad\u00ada", wantErr: "U+00AD (an invisible character)"},
		{name: "zero width joiner between letters", in: "a\u200db", wantErr: "U+200D (a zero-width joiner"},
		{name: "zero width non-joiner between letters", in: "a\u200cb", wantErr: "U+200C (a zero-width joiner"},
		{name: "zero width joiner after a virama", in: "\u0915\u094d\u200d\u0937", want: "\u0915\u094d\u200d\u0937"},
		{name: "right-to-left override", in: "ada\u202emoc.elpmaxe@", wantErr: "U+202E (a bidirectional control character)"},
		{name: "left-to-right embedding", in: "\u202aada", wantErr: "U+202A (a bidirectional control character)"},
		{name: "left-to-right mark", in: "ada\u200e@example.com", wantErr: "U+200E (a bidirectional control character)"},
		{name: "right-to-left mark", in: "ada\u200f", wantErr: "U+200F (a bidirectional control character)"},
		{name: "first strong isolate", in: "ada\u2068x\u2069", wantErr: "U+2068 (a bidirectional control character)"},
		{name: "arabic letter mark", in: "\u061cada", wantErr: "U+061C (a bidirectional control character)"},
		{name: "variation selector", in: "a\ufe0fb", wantErr: "U+FE0F (an invisible formatting character)"},
		// The Bidi Rule.
		{name: "hebrew", in: "\u05d0\u05d1\u05d2", want: "\u05d0\u05d1\u05d2"},
		{name: "hebrew with digits", in: "\u05d0\u05d1\u05d2123", want: "\u05d0\u05d1\u05d2123"},
		{name: "latin then hebrew", in: "abc\u05d0", wantErr: "Bidi Rule"},
		{name: "hebrew then latin", in: "\u05d0abc", wantErr: "Bidi Rule"},
		{name: "one direction per userpart", in: "ada \u05d0\u05d1", want: "ada \u05d0\u05d1"},
		// Contextual rules.
		{name: "catalan middle dot", in: "col·lega", want: "col·lega"},
		{name: "stray middle dot", in: "x·y", wantErr: "U+00B7 (a middle dot"},
		{name: "mixed arabic-indic digits", in: "\u0628\u0660\u06f0", wantErr: "must not mix Arabic-Indic digits"},
		// Symbols, emoji and other characters the IdentifierClass refuses.
		{name: "emoji", in: "bob😀@example.com", wantErr: "U+1F600 (a symbol; emoji"},
		{name: "heart", in: "a♥b", wantErr: "U+2665 (a symbol"},
		{name: "euro sign", in: "a€b", wantErr: "U+20AC (a symbol"},
		{name: "typographic apostrophe", in: "O’Brien", wantErr: "U+2019 (punctuation outside ASCII)"},
		{name: "ligature", in: "ﬁle", wantErr: `U+FB01 (a compatibility character; write "fi" instead)`},
		{name: "private use", in: "a\ue000", wantErr: "U+E000 (a private-use character)"},
		{name: "unassigned", in: "a\U000e0fff", wantErr: "U+E0FFF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := UsernameKey(tt.in)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("UsernameKey(%q) = %q, want a refusal with %q", tt.in, got, tt.wantErr)
				}
				if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("UsernameKey(%q) error = %v (%s), want EINVALID with %q", tt.in, err, ErrorCode(err), tt.wantErr)
				}
				if !strings.Contains(err.Error(), "RFC 8265") {
					t.Errorf("the refusal does not name the profile: %v", err)
				}
			} else {
				if err != nil {
					t.Fatalf("UsernameKey(%q): %v", tt.in, err)
				}
				if got != tt.want {
					t.Fatalf("UsernameKey(%q) = %q, want %q", tt.in, got, tt.want)
				}
				// Each userpart is what the profile itself makes of it.
				for _, p := range strings.Split(tt.in, " ") {
					if k, err := precis.UsernameCaseMapped.CompareKey(p); err != nil || !strings.Contains(got, k) {
						t.Errorf("userpart %q: profile gives %q, %v; key %q", p, k, err, got)
					}
				}
			}
			// UsernameFold never refuses and agrees with UsernameKey on
			// what it accepts; it is idempotent.
			fold := UsernameFold(tt.in)
			if err == nil && fold != got {
				t.Errorf("UsernameFold(%q) = %q, UsernameKey gives %q", tt.in, fold, got)
			}
			if again := UsernameFold(fold); again != fold {
				t.Errorf("UsernameFold is not idempotent on %q: %q then %q", tt.in, fold, again)
			}
		})
	}
}

// Values differing only in width, case or normalization collide; values
// that look alike but hold different letters do not.
func TestUsernameKeyCollisions(t *testing.T) {
	same := [][]string{
		{"ada@example.com", "ADA@EXAMPLE.COM", "ａｄａ@example.com", "Ａｄａ@Ｅｘａｍｐｌｅ.com"},
		{"caf\u00e9", "cafe\u0301", "CAF\u00c9", "CAFE\u0301", "ｃａｆé"},
		{"Ada Lovelace", "ada lovelace", "ＡＤＡ ＬＯＶＥＬＡＣＥ"},
	}
	for _, group := range same {
		want, err := UsernameKey(group[0])
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range group[1:] {
			if got, err := UsernameKey(v); err != nil || got != want {
				t.Errorf("UsernameKey(%q) = %q, %v; want %q like %q", v, got, err, want, group[0])
			}
		}
	}
	// Homoglyphs are different letters: the profile does not map them.
	for _, pair := range [][2]string{{"ada", "аda"}, {"paypal", "раураl"}, {"straße", "strasse"}} {
		a, _ := UsernameKey(pair[0])
		b, err := UsernameKey(pair[1])
		if err != nil || a == b {
			t.Errorf("%q and %q: keys %q and %q (%v)", pair[0], pair[1], a, b, err)
		}
	}
}

// Refused values still get a key from UsernameFold (the profile's mapping
// without its checks), so rows stored before the rules are compared too.
func TestUsernameFoldRefused(t *testing.T) {
	for in, want := range map[string]string{
		"Z\u200bW@Example.com": "z\u200bw@example.com",
		"ＡＤＡ\u202e":            "ada\u202e",
		"Ada  Lovelace":        "ada  lovelace",
		"ｃａｆｅ\u0301\U0001F600": "caf\u00e9\U0001F600",
		"":                     "",
	} {
		if got := UsernameFold(in); got != want {
			t.Errorf("UsernameFold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckUserName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ada@example.com", ""},
		{"Ada Lovelace", ""},
		{"ａｄａ", ""},
		{"", "userName is required"},
		{" ada", "must not begin or end with white space"},
		{"a\tb", "control characters"},
		{"a\ufffdb", "U+FFFD"},
		{"z\u200bw", `userName "z\u200bw" must not hold U+200B`},
		{"ada\u202e", `userName "ada\u202e" must not hold U+202E (a bidirectional control character)`},
		{"Ada  Lovelace", `userName "Ada  Lovelace" must not begin or end with a space or hold two spaces in a row`},
	}
	for _, tt := range tests {
		got := CheckUserName(tt.in)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("CheckUserName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	for in, want := range map[string]string{
		"":                     "",
		"ada@example.com":      "",
		"ａｄａ@example.com":      "",
		"a\u200bb@example.com": `emails.value "a\u200bb@example.com" must not hold U+200B`,
		"a\nb@example.com":     "control characters",
		" ada@example.com":     "begin or end with a space",
	} {
		got := CheckEmail(in)
		if (want == "") != (got == "") || !strings.Contains(got, want) {
			t.Errorf("CheckEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

// PrepareNames stores NFC, keeps refused values already stored byte for
// byte, and never writes through to a shared emails array.
func TestPrepareNames(t *testing.T) {
	shared := []MultiValue{{Value: "cafe\u0301@example.com", Primary: true}, {Value: "b@example.com"}}
	u := &User{UserName: "CAFE\u0301", Emails: shared}
	if err := PrepareNames(u, nil); err != nil {
		t.Fatal(err)
	}
	if u.UserName != "CAF\u00c9" || u.Emails[0].Value != "caf\u00e9@example.com" || !norm.NFC.IsNormalString(u.UserName) {
		t.Fatalf("after PrepareNames: %q %+v", u.UserName, u.Emails)
	}
	if shared[0].Value != "cafe\u0301@example.com" {
		t.Fatalf("the caller's emails array was changed: %+v", shared)
	}

	legacy := &User{UserName: "ada\u200b", Emails: []MultiValue{{Value: "a\u200e@example.com"}, {Value: "new\u200b@example.com"}}}
	stored := func(attr, v string) bool {
		return (attr == "userName" && v == "ada\u200b") || (attr == "emails" && v == "a\u200e@example.com")
	}
	err := PrepareNames(legacy, stored)
	if ErrorCode(err) != EINVALID || !strings.Contains(err.Error(), `"new\u200b@example.com" must not hold U+200B`) {
		t.Fatalf("a new refused email: %v", err)
	}
	legacy.Emails = legacy.Emails[:1]
	if err := PrepareNames(legacy, stored); err != nil {
		t.Fatalf("refused values already stored: %v", err)
	}
	if legacy.UserName != "ada\u200b" || legacy.Emails[0].Value != "a\u200e@example.com" {
		t.Fatalf("kept values changed: %+v", legacy)
	}
	// CheckName's rules hold whatever is stored.
	if err := PrepareNames(&User{UserName: " ada"}, func(string, string) bool { return true }); ErrorCode(err) != EINVALID {
		t.Fatalf("padded userName: %v", err)
	}
}

// Any input, valid UTF-8 or not: no panic, and UsernameFold agrees with
// UsernameKey wherever the latter accepts.
func FuzzUsernameKey(f *testing.F) {
	for _, s := range []string{"ada@example.com", "ａｄａ", "cafe\u0301", "z\u200bw", "Ada Lovelace", "\u05d0a", "\xff\xfe", " a  b "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := UsernameKey(s)
		fold := UsernameFold(s)
		if err == nil && key != fold {
			t.Fatalf("UsernameKey(%q) = %q, UsernameFold = %q", s, key, fold)
		}
		if err != nil && ErrorCode(err) != EINVALID {
			t.Fatalf("UsernameKey(%q): %v", s, err)
		}
		_ = CheckUserName(s)
		_ = CheckEmail(s)
	})
}
