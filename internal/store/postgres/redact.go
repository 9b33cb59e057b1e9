package postgres

import (
	"net/url"
	"regexp"
	"strings"
)

// passwordPair is a password in a key=value connection string: a quoted
// value (with backslash escapes) or one without spaces.
var passwordPair = regexp.MustCompile(`(?i)\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

// Redact is dsn with its password replaced by "xxxxx", for a
// configuration shown or logged; both libpq forms (a postgres:// URL and
// key=value pairs) are understood, and a URL's password query parameter
// too.
func Redact(dsn string) string {
	if dsn == "" {
		return ""
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(a connection string that does not parse)"
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return passwordPair.ReplaceAllString(dsn, "password=xxxxx")
}
