package sqlfilter

// Dialect is what the compiler's SQL depends on beyond the shared tables:
// how one SQL engine writes parameters, literals, string functions and
// access to the JSON documents (the doc and hubspot columns).
//
// JSON paths are opaque to the compiler: JSONPath writes one, and the
// other JSON methods take it back with the column it applies to. Methods
// that bind values do so through bind, which appends the value to the
// arguments and returns its placeholder.
type Dialect interface {
	// Placeholder is the n-th (from 1) bound parameter: ?1, $1.
	Placeholder(n int) string
	// True and False are the boolean literals, also the defaults of
	// coalesce for NULL predicates.
	True() string
	False() string
	// Cast follows a bound parameter to give it the SQL type sqlType
	// (boolean, numeric, bigint, text, int, timestamptz); "" where the
	// engine needs no cast.
	Cast(sqlType string) string
	// Bool and Time are the arguments bound for a boolean and for an
	// instant in unix microseconds, as the engine compares them with the
	// stored values.
	Bool(b bool) any
	Time(unixMicro int64) any
	// Fold is expr (text) mapped by schemas.Fold, comparing by code point.
	Fold(expr string) string
	// Contains, StartsWith and EndsWith test the text lhs for the
	// non-empty string s (co, sw, ew).
	Contains(lhs, s string, bind func(any) string) string
	StartsWith(lhs, s string, bind func(any) string) string
	EndsWith(lhs, s string, bind func(any) string) string
	// JSONPath is the path of the member names segs in a JSON document.
	// The names need no escaping.
	JSONPath(segs []string) string
	// JSONValue is the value at path in the JSON column col as an
	// attribute of type typ (schemas.Type*), NULL when absent; for a
	// complex value, present is the test that it is an object with a
	// member ("" otherwise).
	JSONValue(col, path, typ string) (expr, present string)
	// Elements is the table of the elements of the array at path in col,
	// for "FROM <Elements> je"; je.value is an element.
	Elements(col, path string) string
	// Element is the value at path (from JSONPath; "" for the element
	// itself) in the element je.value, as an attribute of type typ.
	Element(path, typ string) string
	// FirstValue is the first element of the array at path in col, as an
	// attribute of type typ.
	FirstValue(col, path, typ string) string
	// FirstElement is the value key (over je.value) of the first element of
	// the array at path in col: the first whose "primary" is true when
	// primaryFirst, else the first in array order.
	FirstElement(col, path, key string, primaryFirst bool) string
	// OneRow is a FROM item of one row, for a scalar subquery made of
	// LEFT JOINs.
	OneRow() string
}
