package schemas

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/secure/bidirule"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"
)

// User names and email addresses are identities: two values a person (or
// HubSpot) would take for the same must not be two users, and a value that
// shows something other than what it holds must not be stored at all.
// Both are compared and checked with the PRECIS UsernameCaseMapped profile
// (RFC 8265 §3.2): width mapping (fullwidth ａ is a), lower case, NFC, the
// Bidi Rule (RFC 5893), and the IdentifierClass of RFC 8264 §4.2, which
// refuses invisible and formatting characters (U+200B, U+200E, U+202E …),
// spaces other than U+0020, symbols (emoji among them) and compatibility
// characters. RFC 8265 §3.3 lets a user name hold spaces by applying the
// profile to each space-separated userpart; OTDS and SCIM names such as
// "Ada Lovelace" need that, so both functions work userpart by userpart.
//
// What is stored is what the client sent in NFC (PrepareNames); only the
// comparison key is mapped.

// profileNote ends every refusal, so that the reader knows which rules apply.
const profileNote = "; user names and email addresses follow the PRECIS UsernameCaseMapped profile (RFC 8265)"

// UsernameKey returns the comparison key of a user name or an email
// address: the PRECIS UsernameCaseMapped output of each space-separated
// userpart, joined by single spaces. Values that differ only in width,
// case or Unicode normalization have the same key. A value the profile
// refuses is an EINVALID error naming the code point at fault.
func UsernameKey(s string) (string, error) {
	key, problem := usernameKey(s)
	if problem != "" {
		return "", Errorf(EINVALID, "user name %q %s%s", s, problem, profileNote)
	}
	return key, nil
}

// UsernameFold maps any string the way UsernameKey maps the values it
// accepts, without refusing any: for those values the two agree. It keys
// what was stored before the profile was enforced and the compare values
// of filters, which may hold anything.
func UsernameFold(s string) string {
	if isPlainASCII(s) {
		return asciiLower(s)
	}
	parts := strings.Split(s, " ")
	for i, p := range parts {
		if k, err := precis.UsernameCaseMapped.CompareKey(p); err == nil {
			parts[i] = k
		} else {
			parts[i] = foldPart(p)
		}
	}
	return strings.Join(parts, " ")
}

// CheckUserName reports what is wrong with v as a userName, or "": the
// rules of CheckName, then those of the profile.
func CheckUserName(v string) string {
	if msg := CheckName("userName", v); msg != "" {
		return msg
	}
	if problem := usernameProblem(v); problem != "" {
		return fmt.Sprintf("userName %q %s%s", v, problem, profileNote)
	}
	return ""
}

// CheckEmail reports what is wrong with v as an email address, or "". An
// empty value is not checked: emails without a value are ignored.
func CheckEmail(v string) string {
	switch {
	case v == "":
		return ""
	case strings.ContainsFunc(v, unicode.IsControl):
		return fmt.Sprintf("emails.value %q must not hold control characters", v)
	case strings.ContainsRune(v, utf8.RuneError):
		return fmt.Sprintf("emails.value %q must not hold U+FFFD (text that was not UTF-8)", v)
	}
	if problem := usernameProblem(v); problem != "" {
		return fmt.Sprintf("emails.value %q %s%s", v, problem, profileNote)
	}
	return ""
}

// PrepareNames checks u's userName and email values and puts those it
// accepts in NFC (Unicode Normalization Form C), the form they are stored
// in; it returns an EINVALID error for the first one refused. stored, when
// not nil, reports whether a value is already stored for this user
// (attr is "userName" or "emails"): such a value stays as it is, byte for
// byte, even if the profile now refuses it, so that a user stored before
// the profile was enforced can still be changed, deactivated and deleted.
// stored is only asked about values that are refused or not in NFC.
// CheckName's rules apply to every userName whatever stored says. The
// emails slice is copied before it is changed: it may be shared with
// another User.
func PrepareNames(u *User, stored func(attr, v string) bool) error {
	if msg := CheckName("userName", u.UserName); msg != "" {
		return Errorf(EINVALID, "%s", msg)
	}
	name, err := prepareName("userName", u.UserName, CheckUserName, stored)
	if err != nil {
		return err
	}
	u.UserName = name
	copied := false
	for i, e := range u.Emails {
		v, err := prepareName("emails", e.Value, CheckEmail, stored)
		if err != nil {
			return err
		}
		if v != e.Value {
			if !copied {
				u.Emails, copied = append([]MultiValue(nil), u.Emails...), true
			}
			u.Emails[i].Value = v
		}
	}
	return nil
}

// prepareName is the value to store for v, or the refusal.
func prepareName(attr, v string, check func(string) string, stored func(attr, v string) bool) (string, error) {
	msg := check(v)
	if msg == "" && (isPlainASCII(v) || norm.NFC.IsNormalString(v)) {
		return v, nil
	}
	if stored != nil && stored(attr, v) {
		return v, nil
	}
	if msg != "" {
		return "", Errorf(EINVALID, "%s", msg)
	}
	return norm.NFC.String(v), nil
}

// usernameProblem is usernameKey's problem alone, without computing a key
// for the common plain ASCII value.
func usernameProblem(s string) string {
	if isPlainASCII(s) && s != "" && s[0] != ' ' && s[len(s)-1] != ' ' && !strings.Contains(s, "  ") {
		return ""
	}
	_, problem := usernameKey(s)
	return problem
}

// usernameKey is UsernameKey with the problem, a phrase such as "must not
// hold U+200B (…)", instead of an error.
func usernameKey(s string) (key, problem string) {
	if s == "" {
		return "", "must not be empty"
	}
	if isPlainASCII(s) && s[0] != ' ' && s[len(s)-1] != ' ' && !strings.Contains(s, "  ") {
		return asciiLower(s), ""
	}
	parts := strings.Split(s, " ")
	for i, p := range parts {
		if p == "" {
			return "", "must not begin or end with a space or hold two spaces in a row (each space-separated part is checked on its own, RFC 8265 §3.3)"
		}
		k, err := precis.UsernameCaseMapped.CompareKey(p)
		if err != nil {
			return "", refusal(p)
		}
		parts[i] = k
	}
	return strings.Join(parts, " "), ""
}

// refusal explains why the profile refuses the userpart p: the first code
// point it refuses on its own, else the digits rule, else the Bidi Rule.
func refusal(p string) string {
	// Code points allowed only in some contexts (joiners after a virama,
	// the Catalan middle dot between two l's …) fail on their own; look
	// at them only when nothing else is at fault. Arabic-Indic digits are
	// refused only by the Bidi Rule or when the two sets are mixed.
	for _, contextual := range []bool{false, true} {
		for _, r := range p {
			if isContextual(r) != contextual || isArabicIndicDigit(r) {
				continue
			}
			if _, err := precis.UsernameCaseMapped.CompareKey(string(r)); err != nil {
				return fmt.Sprintf("must not hold %U (%s)", r, describeRune(r))
			}
		}
	}
	if strings.ContainsFunc(p, func(r rune) bool { return r >= 0x0660 && r <= 0x0669 }) &&
		strings.ContainsFunc(p, func(r rune) bool { return r >= 0x06F0 && r <= 0x06F9 }) {
		return "must not mix Arabic-Indic digits (U+0660–U+0669) with extended Arabic-Indic digits (U+06F0–U+06F9)"
	}
	if !bidirule.ValidString(foldPart(p)) {
		return "breaks the Bidi Rule (RFC 5893): a part holding right-to-left characters must begin with a right-to-left letter and hold no left-to-right letters"
	}
	return "holds characters in an order the profile refuses"
}

// isContextual reports whether r is one of RFC 8264's CONTEXTJ or CONTEXTO
// code points (RFC 5892 Appendix A).
func isContextual(r rune) bool {
	switch r {
	case 0x200C, 0x200D, 0x00B7, 0x0375, 0x05F3, 0x05F4, 0x30FB:
		return true
	}
	return isArabicIndicDigit(r)
}

func isArabicIndicDigit(r rune) bool {
	return (r >= 0x0660 && r <= 0x0669) || (r >= 0x06F0 && r <= 0x06F9)
}

// describeRune says in a few words what kind of character r is, for the
// refusal of a code point the profile does not allow.
func describeRune(r rune) string {
	switch {
	case r == 0x200C || r == 0x200D:
		return "a zero-width joiner, allowed only where a script needs it"
	case r == 0x00B7:
		return "a middle dot, allowed only between two l's"
	case r == 0x0375:
		return "the Greek lower numeral sign, allowed only before a Greek letter"
	case r == 0x05F3 || r == 0x05F4:
		return "a Hebrew punctuation mark, allowed only after a Hebrew letter"
	case r == 0x30FB:
		return "the katakana middle dot, allowed only beside Japanese characters"
	case r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069):
		return "a bidirectional control character"
	case r == 0x200B || r == 0x2060 || r == 0xFEFF || r == 0x180E || r == 0x00AD || r == 0x034F:
		return "an invisible character"
	case unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r):
		return "an invisible formatting character"
	case unicode.Is(unicode.Zs, r):
		return "a space other than U+0020"
	case unicode.In(r, unicode.So, unicode.Sm, unicode.Sc, unicode.Sk):
		return "a symbol; emoji and other symbols are not allowed"
	case unicode.Is(unicode.Co, r):
		return "a private-use character"
	case !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C):
		return "a code point Unicode does not assign"
	case norm.NFKC.String(string(r)) != string(r):
		return fmt.Sprintf("a compatibility character; write %q instead", norm.NFKC.String(string(r)))
	case unicode.IsPunct(r):
		return "punctuation outside ASCII"
	}
	return "a character the profile does not allow"
}

// foldPart is the profile's mapping of a userpart without its checks:
// width mapping, lower case, NFC (RFC 8265 §3.2.2 steps 1–3).
func foldPart(p string) string {
	s := width.Fold.String(p)
	s = cases.Lower(language.Und, cases.HandleFinalSigma(false)).String(s)
	return norm.NFC.String(s)
}

// isPlainASCII reports whether s holds only printable ASCII and spaces:
// the profile maps such a string to its ASCII lower case and refuses it
// only for its spaces.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
