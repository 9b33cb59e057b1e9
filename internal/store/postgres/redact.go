package postgres

import (
	"net/url"
	"regexp"
	"strings"
)

// passwordPair is a secret in a key=value connection string (password, or
// sslpassword, the client key's passphrase): a quoted value, or one without
// unescaped spaces; backslash escapes either way.
var passwordPair = regexp.MustCompile(`(?i)\b(ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|(?:\\.|\S)+)`)

// Redact is dsn with its password replaced by "xxxxx", for a
// configuration shown or logged (sslpassword too); both libpq forms (a
// postgres:// URL and key=value pairs) are understood, and the URL's query
// parameters too.
func Redact(dsn string) string {
	if dsn == "" {
		return ""
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "(a connection string that does not parse)"
		}
		q, changed := u.Query(), false
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return passwordPair.ReplaceAllString(dsn, "${1}password=xxxxx")
}
