package sqlite

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// uniqueViolation returns the "table.column" of the UNIQUE or PRIMARY KEY
// constraint err violates, or "" when err is something else.
func uniqueViolation(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	if e.Code() != sqlite3.SQLITE_CONSTRAINT_UNIQUE && e.Code() != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
		return ""
	}
	// The message reads "… constraint failed: users.user_name_key (2067)".
	msg := e.Error()
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	col, _, _ := strings.Cut(msg[i+len(marker):], " ")
	return strings.TrimRight(col, ",")
}
