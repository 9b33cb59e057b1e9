package sqlfilter

import (
	"encoding/json"
	"math"
	"strings"
	"time"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
)

// Comparisons (RFC 7644 §3.4.2.2) of one attribute value, an operand, with
// a filter's compare value, by attribute type.

// Operand kinds beyond the schema types.
const (
	kindConst = "const" // a value known at compile time (meta.resourceType)
	kindETag  = "etag"  // meta.version, compared as the version number
)

// operand is one attribute value as SQL.
type operand struct {
	expr   string // SQL yielding the value, NULL when absent
	typ    string // schemas.Type* or kind*
	exact  bool   // caseExact
	folded bool   // expr already yields the value's key (see key)
	// key maps a compare value the way expr's column was keyed:
	// schemas.Fold when nil, schemas.UsernameFold for userName.
	key func(string) string
	// present, when set, is the pr test (for values that are always there
	// or need a special emptiness test).
	present string
	name    string // for messages
	konst   string // the value of a kindConst operand
}

func (o operand) presence(d Dialect) string {
	if o.present != "" {
		return o.present
	}
	switch o.typ {
	case schemas.TypeString, schemas.TypeReference, schemas.TypeBinary:
		return "coalesce(" + o.expr + " <> '', " + d.False() + ")"
	}
	return "(" + o.expr + " IS NOT NULL)"
}

// cond compiles op (normalized: no ne) on o.
func (c *Compiler) cond(o operand, op filter.CompareOperator, v any) (string, error) {
	if op == filter.PR {
		return o.presence(c.d), nil
	}
	switch o.typ {
	case schemas.TypeString, schemas.TypeReference, schemas.TypeBinary:
		return c.compareString(o, op, v)
	case schemas.TypeBoolean:
		b, ok := boolValue(v)
		if !ok {
			return "", invalid("%s is a boolean; %v is not", o.name, v)
		}
		if op != filter.EQ {
			return "", invalid("%s is a boolean: only eq, ne and pr apply", o.name)
		}
		return "(" + o.expr + " = " + c.bind(c.d.Bool(b)) + c.d.Cast("boolean") + ")", nil
	case schemas.TypeInteger, schemas.TypeDecimal:
		n, ok := numberValue(v)
		if !ok {
			return "", invalid("%s is a number; %v is not", o.name, v)
		}
		sqlOp := orderOp(op)
		if sqlOp == "" {
			return "", invalid("%s is a number: %s does not apply", o.name, op)
		}
		return "(" + o.expr + " " + sqlOp + " " + c.bind(n) + c.d.Cast("numeric") + ")", nil
	case schemas.TypeDateTime:
		return c.compareTime(o, op, v)
	case kindConst:
		s, ok := v.(string)
		if !ok {
			return "", invalid("%s is a string; %v is not", o.name, v)
		}
		k := o.konst
		if !o.exact {
			k, s = schemas.Fold(k), schemas.Fold(s)
		}
		if matchString(k, op, s) {
			return c.d.True(), nil
		}
		return c.d.False(), nil
	case kindETag:
		s, ok := v.(string)
		if !ok || op != filter.EQ {
			return "", invalid("%s supports eq, ne and pr with an entity tag", o.name)
		}
		// The parser keeps \" escapes as written.
		n, ok := schemas.ParseETag(strings.ReplaceAll(s, `\"`, `"`))
		if !ok {
			return "", invalid("%s: %q is not an entity tag", o.name, s)
		}
		return "(" + o.expr + " = " + c.bind(n) + c.d.Cast("bigint") + ")", nil
	case schemas.TypeComplex:
		return "", invalid("%s is complex: name a sub-attribute", o.name)
	}
	return "", invalid("%s cannot be compared", o.name)
}

// orderOp is the SQL operator of eq, gt, ge, lt and le, or "".
func orderOp(op filter.CompareOperator) string {
	switch op {
	case filter.EQ:
		return "="
	case filter.GT:
		return ">"
	case filter.GE:
		return ">="
	case filter.LT:
		return "<"
	case filter.LE:
		return "<="
	}
	return ""
}

func (c *Compiler) compareString(o operand, op filter.CompareOperator, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", invalid("%s is a string; %v is not", o.name, v)
	}
	lhs := o.expr
	if !o.exact {
		if o.key != nil {
			s = o.key(s)
		} else {
			s = schemas.Fold(s)
		}
		if !o.folded {
			lhs = c.d.Fold(lhs)
		}
	}
	switch op {
	case filter.CO, filter.SW, filter.EW:
		if s == "" {
			// Every string contains, starts and ends with "".
			return o.presence(c.d), nil
		}
	}
	switch op {
	case filter.CO:
		return c.d.Contains(lhs, s, c.bind), nil
	case filter.SW:
		return c.d.StartsWith(lhs, s, c.bind), nil
	case filter.EW:
		return c.d.EndsWith(lhs, s, c.bind), nil
	}
	return "(" + lhs + " " + orderOp(op) + " " + c.bind(s) + c.d.Cast("text") + ")", nil
}

// compareTime compares a dateTime operand (Dialect.Time) with
// an RFC 3339 instant. A value finer than a microsecond is rounded in the
// direction that keeps the comparison exact for microsecond-precise data.
func (c *Compiler) compareTime(o operand, op filter.CompareOperator, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", invalid("%s is a dateTime; %v is not", o.name, v)
	}
	t, err := time.Parse(time.RFC3339Nano, strings.ToUpper(s))
	if err != nil {
		return "", invalid("%s: %q is not an RFC 3339 dateTime", o.name, s)
	}
	floor := t.UnixMicro()
	exact := t.Equal(time.UnixMicro(floor))
	ceil := floor
	if !exact {
		ceil++
	}
	switch op {
	case filter.EQ:
		if !exact {
			return c.d.False(), nil
		}
		return "(" + o.expr + " = " + c.bindTime(floor) + ")", nil
	case filter.GT:
		return "(" + o.expr + " > " + c.bindTime(floor) + ")", nil
	case filter.GE:
		return "(" + o.expr + " >= " + c.bindTime(ceil) + ")", nil
	case filter.LT:
		return "(" + o.expr + " < " + c.bindTime(ceil) + ")", nil
	case filter.LE:
		return "(" + o.expr + " <= " + c.bindTime(floor) + ")", nil
	}
	return "", invalid("%s is a dateTime: %s does not apply", o.name, op)
}

// bindTime binds the instant us (unix microseconds) as the dialect
// compares dateTime values.
func (c *Compiler) bindTime(us int64) string {
	return c.bind(c.d.Time(us)) + c.d.Cast("timestamptz")
}

// boolValue accepts JSON booleans and, leniently, the strings "true" and
// "false" some clients send.
func boolValue(v any) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case string:
		switch strings.ToLower(v) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
	}
	return false, false
}

func numberValue(v any) (any, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, false
		}
		return v, true
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i, true
		}
		if f, err := v.Float64(); err == nil {
			return f, true
		}
	}
	return nil, false
}

// matchString evaluates a string comparison in Go (caseExact).
func matchString(a string, op filter.CompareOperator, b string) bool {
	switch op {
	case filter.EQ:
		return a == b
	case filter.CO:
		return strings.Contains(a, b)
	case filter.SW:
		return strings.HasPrefix(a, b)
	case filter.EW:
		return strings.HasSuffix(a, b)
	case filter.GT:
		return a > b
	case filter.GE:
		return a >= b
	case filter.LT:
		return a < b
	case filter.LE:
		return a <= b
	}
	return false
}
