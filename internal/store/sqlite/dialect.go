package sqlite

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/store/sqlfilter"
	"github.com/scimbridge/scimbridge/schemas"
)

// The SCIM filter compiler is sqlfilter's; this is how its SQL is written
// for SQLite. Booleans are the integers 0 and 1, dateTime values unix
// microseconds (fnTime for those in the JSON documents), and the JSON
// documents are read with json_extract and json_each.

// table is a resource table the compiler targets.
type table = sqlfilter.Table

type dialect struct{}

func newCompiler(t *table) *sqlfilter.Compiler { return sqlfilter.New(t, dialect{}) }

func (dialect) Placeholder(n int) string { return "?" + strconv.Itoa(n) }
func (dialect) True() string             { return "1" }
func (dialect) False() string            { return "0" }
func (dialect) Cast(string) string       { return "" }
func (dialect) Time(us int64) any        { return us }

func (dialect) Bool(b bool) any {
	if b {
		return 1
	}
	return 0
}

func (dialect) Fold(expr string) string { return fnFold + "(" + expr + ")" }

func (dialect) Contains(lhs, s string, bind func(any) string) string {
	return "(instr(" + lhs + ", " + bind(s) + ") > 0)"
}

func (dialect) StartsWith(lhs, s string, bind func(any) string) string {
	n := bind(utf8.RuneCountInString(s))
	return "(substr(" + lhs + ", 1, " + n + ") = " + bind(s) + ")"
}

func (dialect) EndsWith(lhs, s string, bind func(any) string) string {
	n := bind(-utf8.RuneCountInString(s))
	return "(substr(" + lhs + ", " + n + ") = " + bind(s) + ")"
}

// JSONPath is a JSON path, $."a"."b", written inside '…' by the others.
func (dialect) JSONPath(segs []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range segs {
		b.WriteString(`."`)
		b.WriteString(s)
		b.WriteString(`"`)
	}
	return b.String()
}

func (dialect) JSONValue(col, path, typ string) (expr, present string) {
	expr = "json_extract(" + col + ", '" + path + "')"
	switch typ {
	case schemas.TypeDateTime:
		expr = fnTime + "(" + expr + ")"
	case schemas.TypeComplex:
		present = "coalesce(json_type(" + col + ", '" + path + "') = 'object' AND " + expr + " <> '{}', 0)"
	}
	return expr, present
}

func (dialect) Elements(col, path string) string {
	return "json_each(" + col + ", '" + path + "')"
}

func (dialect) Element(path, typ string) string {
	if path == "" {
		return "je.value"
	}
	expr := "json_extract(je.value, '" + path + "')"
	if typ == schemas.TypeDateTime {
		expr = fnTime + "(" + expr + ")"
	}
	return expr
}

func (dialect) FirstValue(col, path, _ string) string {
	return "json_extract(" + col + ", '" + path + "[0]')"
}

func (dialect) FirstElement(col, path, key string, primaryFirst bool) string {
	order := "je.key"
	if primaryFirst {
		order = "json_extract(je.value, '$.\"primary\"') IS 1 DESC, " + order
	}
	return "(SELECT " + key + " FROM json_each(" + col + ", '" + path + "') je ORDER BY " + order + " LIMIT 1)"
}

func (dialect) OneRow() string { return "(SELECT 1)" }
