package schemas

import "strings"

// Fold maps a string to the key used for comparisons without regard to case
// (caseExact=false attributes, userName and displayName uniqueness). Every
// component that compares such values must use it so they agree.
func Fold(s string) string { return strings.ToLower(s) }
