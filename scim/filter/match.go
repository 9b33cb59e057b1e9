package filter

import (
	"encoding/json"
	"strings"
	"time"

	ast "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
)

// CheckValueFilter validates the filter inside a PATCH value path
// (`members[value eq "…"]`) against the multi-valued attribute it selects in.
func CheckValueFilter(e ast.Expression, attr *schemas.Attribute) (ast.Expression, error) {
	return check(e, elementResolver(attr), nil)
}

// MatchElement evaluates a checked value filter against one element of a
// multi-valued attribute: a JSON object for complex attributes, a scalar
// for simple ones. Sub-attribute names are matched without regard to case,
// values by the sub-attribute's caseExact and type.
func MatchElement(e ast.Expression, elem any, attr *schemas.Attribute) bool {
	switch e := e.(type) {
	case *ast.LogicalExpression:
		if e.Operator == ast.AND {
			return MatchElement(e.Left, elem, attr) && MatchElement(e.Right, elem, attr)
		}
		return MatchElement(e.Left, elem, attr) || MatchElement(e.Right, elem, attr)
	case *ast.NotExpression:
		return !MatchElement(e.Expression, elem, attr)
	case *ast.AttributeExpression:
		leaf := attr
		v := elem
		if attr.Type == schemas.TypeComplex {
			leaf = attr.Sub(e.AttributePath.AttributeName)
			if leaf == nil {
				return false
			}
			v = lookup(elem, leaf.Name)
		}
		return compare(v, e.Operator, e.CompareValue, leaf)
	}
	return false
}

func lookup(elem any, name string) any {
	m, ok := elem.(map[string]any)
	if !ok {
		return nil
	}
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func compare(v any, op ast.CompareOperator, want any, leaf *schemas.Attribute) bool {
	if op == ast.PR {
		return present(v)
	}
	if !present(v) {
		return op == ast.NE
	}
	var c int
	switch w := want.(type) {
	case bool:
		b, ok := v.(bool)
		if !ok {
			return op == ast.NE
		}
		if op == ast.EQ {
			return b == w
		}
		return b != w
	case string:
		s, ok := v.(string)
		if !ok {
			return op == ast.NE
		}
		if leaf.Type == schemas.TypeDateTime {
			c = compareTimes(s, w)
			break
		}
		if !leaf.CaseExact {
			s, w = schemas.Fold(s), schemas.Fold(w)
		}
		switch op {
		case ast.CO:
			return strings.Contains(s, w)
		case ast.SW:
			return strings.HasPrefix(s, w)
		case ast.EW:
			return strings.HasSuffix(s, w)
		}
		c = strings.Compare(s, w)
	case int, float64:
		f, ok := number(v)
		if !ok {
			return op == ast.NE
		}
		g, _ := number(w)
		switch {
		case f < g:
			c = -1
		case f > g:
			c = 1
		}
	default:
		return false
	}
	switch op {
	case ast.EQ:
		return c == 0
	case ast.NE:
		return c != 0
	case ast.GT:
		return c > 0
	case ast.GE:
		return c >= 0
	case ast.LT:
		return c < 0
	case ast.LE:
		return c <= 0
	}
	return false
}

func compareTimes(a, b string) int {
	ta, errA := time.Parse(time.RFC3339Nano, a)
	tb, errB := time.Parse(time.RFC3339Nano, b)
	if errA != nil || errB != nil {
		return strings.Compare(a, b)
	}
	return ta.Compare(tb)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}
