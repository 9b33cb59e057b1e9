package postgres

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/store/sqlfilter"
	"github.com/scimbridge/scimbridge/schemas"
)

// The SCIM filter compiler is sqlfilter's; this is how its SQL is written
// for PostgreSQL. Bound parameters carry casts, so their types never depend
// on inference; dateTime values are timestamptz; the jsonb documents are
// read with #> and jsonb_array_elements.

// table is a resource table the compiler targets.
type table = sqlfilter.Table

type dialect struct{}

func newCompiler(t *table) *sqlfilter.Compiler { return sqlfilter.New(t, dialect{}) }

func (dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }
func (dialect) True() string             { return "true" }
func (dialect) False() string            { return "false" }
func (dialect) Cast(typ string) string   { return "::" + typ }
func (dialect) Bool(b bool) any          { return b }
func (dialect) Time(us int64) any        { return time.UnixMicro(us).UTC() }

// Fold is schemas.Fold in SQL (see migration 0001: scim_fold); its result
// compares by code point.
func (dialect) Fold(expr string) string {
	return "lower((" + expr + ") COLLATE scim_fold) COLLATE \"C\""
}

func (dialect) Contains(lhs, s string, bind func(any) string) string {
	return "(strpos(" + lhs + ", " + bind(s) + "::text) > 0)"
}

func (dialect) StartsWith(lhs, s string, bind func(any) string) string {
	return "starts_with(" + lhs + ", " + bind(s) + "::text)"
}

func (dialect) EndsWith(lhs, s string, bind func(any) string) string {
	n := bind(utf8.RuneCountInString(s))
	return "(right(" + lhs + ", " + n + "::int) = " + bind(s) + "::text)"
}

// JSONPath is a text[] literal for #>: '{"a","b"}'.
func (dialect) JSONPath(segs []string) string {
	var b strings.Builder
	b.WriteString("'{")
	for i, s := range segs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"`)
		b.WriteString(s)
		b.WriteString(`"`)
	}
	b.WriteString("}'")
	return b.String()
}

func (dialect) JSONValue(col, path, typ string) (expr, present string) {
	j := "(" + col + " #> " + path + ")"
	if typ == schemas.TypeComplex {
		present = "coalesce(jsonb_typeof(" + j + ") = 'object' AND " + j + " <> '{}'::jsonb, false)"
	}
	return typedJSON(j, typ), present
}

func (dialect) Elements(col, path string) string {
	return "jsonb_array_elements(" + jsonArray(col, path) + ")"
}

func (dialect) Element(path, typ string) string {
	if path == "" {
		return typedJSON("je.value", typ)
	}
	return typedJSON("(je.value #> "+path+")", typ)
}

func (dialect) FirstValue(col, path, typ string) string {
	return typedJSON("("+jsonArray(col, path)+" -> 0)", typ)
}

func (dialect) FirstElement(col, path, key string, primaryFirst bool) string {
	order := "je.ord"
	if primaryFirst {
		order = "coalesce(je.value -> 'primary' = 'true'::jsonb, false) DESC, " + order
	}
	return "(SELECT " + key + " FROM jsonb_array_elements(" + jsonArray(col, path) + ") WITH ORDINALITY je (value, ord) ORDER BY " +
		order + " LIMIT 1)"
}

func (dialect) OneRow() string { return "(SELECT 1) one" }

// typedJSON is the SQL value of the jsonb j as an attribute of type typ:
// text in code point order for strings, boolean, numeric, timestamptz
// (scim_time, migration 0001). A JSON value of another type than the
// attribute's is NULL, absent, for the non-string types; the jsonb itself
// for complex values.
func typedJSON(j, typ string) string {
	switch typ {
	case schemas.TypeBoolean:
		return "(CASE WHEN jsonb_typeof(" + j + ") = 'boolean' THEN (" + j + ")::boolean END)"
	case schemas.TypeInteger, schemas.TypeDecimal:
		return "(CASE WHEN jsonb_typeof(" + j + ") = 'number' THEN (" + j + ")::numeric END)"
	case schemas.TypeDateTime:
		return "scim_time(" + j + " #>> '{}')"
	case schemas.TypeComplex:
		return j
	}
	return "((" + j + " #>> '{}') COLLATE \"C\")"
}

// jsonArray is the jsonb array at path in col, NULL when the value there
// is not an array (jsonb_array_elements would fail on it).
func jsonArray(col, path string) string {
	j := "(" + col + " #> " + path + ")"
	return "(CASE WHEN jsonb_typeof(" + j + ") = 'array' THEN " + j + " END)"
}
