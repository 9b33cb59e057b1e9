package schemas

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Fold maps a string to the key used for comparisons without regard to case
// (caseExact=false attributes, userName and displayName uniqueness). Every
// component that compares such values must use it so they agree.
func Fold(s string) string { return strings.ToLower(s) }

// CheckName reports what is wrong with v as a resource's identifying name
// (a User's userName, a Group's displayName), or "" when nothing is: it
// must not be blank, begin or end with white space, hold control
// characters, or hold U+FFFD (bytes that were not UTF-8). Two names that
// differ only there would look the same to people and to HubSpot.
func CheckName(attr, v string) string {
	switch {
	case strings.TrimSpace(v) == "":
		return attr + " is required"
	case strings.TrimSpace(v) != v:
		return attr + " must not begin or end with white space"
	case strings.ContainsFunc(v, unicode.IsControl):
		return attr + " must not hold control characters"
	case strings.ContainsRune(v, utf8.RuneError):
		return attr + " must not hold U+FFFD (text that was not UTF-8)"
	}
	return ""
}
