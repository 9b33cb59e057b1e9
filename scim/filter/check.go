package filter

import (
	"fmt"
	"time"

	ast "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
)

// invalid builds the error for a filter that parses but cannot apply.
func invalid(format string, args ...any) error {
	return &schemas.Error{Code: schemas.EINVALID, ScimType: "invalidFilter", Message: fmt.Sprintf(format, args...)}
}

// Check validates a parsed filter against a resource type (RFC 7644
// §3.4.2.2) and returns it in normal form: attribute names resolved, an
// implicit ".value" made explicit on multi-valued attributes, "eq null" read
// as "not pr", "true"/"false" strings on booleans made booleans.
func Check(e ast.Expression, rt *schemas.ResourceType) (ast.Expression, error) {
	return check(e, func(ap ast.AttributePath) (schemas.Ref, error) {
		return rt.Resolve(ap.URI(), ap.AttributeName, ap.SubAttributeName())
	}, rt)
}

type resolver func(ast.AttributePath) (schemas.Ref, error)

func check(e ast.Expression, resolve resolver, rt *schemas.ResourceType) (ast.Expression, error) {
	switch e := e.(type) {
	case *ast.LogicalExpression:
		l, err := check(e.Left, resolve, rt)
		if err != nil {
			return nil, err
		}
		r, err := check(e.Right, resolve, rt)
		if err != nil {
			return nil, err
		}
		return &ast.LogicalExpression{Left: l, Right: r, Operator: e.Operator}, nil
	case *ast.NotExpression:
		inner, err := check(e.Expression, resolve, rt)
		if err != nil {
			return nil, err
		}
		return &ast.NotExpression{Expression: inner}, nil
	case *ast.ValuePath:
		if rt == nil {
			return nil, invalid("value filters cannot be nested")
		}
		ref, err := resolve(e.AttributePath)
		if err != nil {
			return nil, invalid("%s", err)
		}
		if ref.Sub != nil || !ref.Attr.MultiValued {
			return nil, invalid("%s is not multi-valued; a value filter [..] needs a multi-valued attribute", ref.Path())
		}
		attr := ref.Attr
		vf, err := check(e.ValueFilter, elementResolver(attr), nil)
		if err != nil {
			return nil, err
		}
		return &ast.ValuePath{AttributePath: canonicalPath(ref), ValueFilter: vf}, nil
	case *ast.AttributeExpression:
		ref, err := resolve(e.AttributePath)
		if err != nil {
			return nil, invalid("%s", err)
		}
		if ref.Sub == nil && ref.Attr.Type == schemas.TypeComplex {
			if ref.Attr.MultiValued && e.Operator != ast.PR {
				if v := ref.Attr.Sub("value"); v != nil {
					ref.Sub = v // emails co "x" means emails.value co "x"
				}
			}
			if ref.Sub == nil && e.Operator != ast.PR {
				return nil, invalid("%s is complex: filter on one of its sub-attributes", ref.Path())
			}
		}
		return checkComparison(e, ref)
	default:
		return nil, invalid("unsupported filter expression %T", e)
	}
}

// elementResolver resolves the attribute names inside a value filter
// against the sub-attributes of a multi-valued attribute; for a simple
// multi-valued attribute "value" names the element itself.
func elementResolver(attr *schemas.Attribute) resolver {
	return func(ap ast.AttributePath) (schemas.Ref, error) {
		if ap.URIPrefix != nil || ap.SubAttribute != nil {
			return schemas.Ref{}, fmt.Errorf("%q: a value filter names sub-attributes of %s only", ap.String(), attr.Name)
		}
		if attr.Type != schemas.TypeComplex {
			if ap.AttributeName == "value" || ap.AttributeName == "Value" {
				return schemas.Ref{Attr: attr}, nil
			}
			return schemas.Ref{}, fmt.Errorf("unknown sub-attribute %q of %s", ap.AttributeName, attr.Name)
		}
		s := attr.Sub(ap.AttributeName)
		if s == nil {
			return schemas.Ref{}, fmt.Errorf("unknown sub-attribute %q of %s", ap.AttributeName, attr.Name)
		}
		return schemas.Ref{Attr: s}, nil
	}
}

func canonicalPath(ref schemas.Ref) ast.AttributePath {
	ap := ast.AttributePath{AttributeName: ref.Attr.Name}
	if ref.Schema != "" && ref.Schema != schemas.UserURI && ref.Schema != schemas.GroupURI {
		uri := ref.Schema
		ap.URIPrefix = &uri
	}
	if ref.Sub != nil {
		sub := ref.Sub.Name
		ap.SubAttribute = &sub
	}
	return ap
}

func checkComparison(e *ast.AttributeExpression, ref schemas.Ref) (ast.Expression, error) {
	out := &ast.AttributeExpression{AttributePath: canonicalPath(ref), Operator: e.Operator, CompareValue: e.CompareValue}
	leaf := ref.Leaf()
	op := e.Operator
	if op == ast.PR {
		return out, nil
	}
	if e.CompareValue == nil {
		switch op {
		case ast.EQ:
			return &ast.NotExpression{Expression: &ast.AttributeExpression{AttributePath: out.AttributePath, Operator: ast.PR}}, nil
		case ast.NE:
			out.Operator = ast.PR
			out.CompareValue = nil
			return out, nil
		}
		return nil, invalid("%s %s null: null compares only with eq and ne", ref.Path(), op)
	}
	switch leaf.Type {
	case schemas.TypeBoolean:
		if op != ast.EQ && op != ast.NE {
			return nil, invalid("%s is a boolean: only eq, ne and pr apply", ref.Path())
		}
		switch v := e.CompareValue.(type) {
		case bool:
		case string:
			switch {
			case v == "true" || v == "True" || v == "TRUE":
				out.CompareValue = true
			case v == "false" || v == "False" || v == "FALSE":
				out.CompareValue = false
			default:
				return nil, invalid("%s is a boolean: compare it with true or false", ref.Path())
			}
		default:
			return nil, invalid("%s is a boolean: compare it with true or false", ref.Path())
		}
	case schemas.TypeInteger, schemas.TypeDecimal:
		switch e.CompareValue.(type) {
		case int, float64:
		default:
			return nil, invalid("%s is a number: compare it with a number", ref.Path())
		}
		if op == ast.CO || op == ast.SW || op == ast.EW {
			return nil, invalid("%s is a number: co, sw and ew apply to strings", ref.Path())
		}
	case schemas.TypeDateTime:
		s, ok := e.CompareValue.(string)
		if !ok {
			return nil, invalid("%s is a dateTime: compare it with a quoted RFC 3339 timestamp", ref.Path())
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, invalid("%s is a dateTime: %q is not an RFC 3339 timestamp", ref.Path(), s)
		}
	case schemas.TypeBinary:
		if op != ast.EQ && op != ast.NE {
			return nil, invalid("%s is binary: only eq, ne and pr apply", ref.Path())
		}
		fallthrough
	default: // string, reference
		if _, ok := e.CompareValue.(string); !ok {
			return nil, invalid("%s is a string: compare it with a quoted string", ref.Path())
		}
	}
	return out, nil
}
