package schemas

import (
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// Query is a validated list request (RFC 7644 §3.4.2) as the store answers it.
// The filter is the RFC 7644 AST of github.com/scim2/filter-parser, already
// checked against the resource type's schemas.
type Query struct {
	Filter filter.Expression
	// SortBy is empty for the store's stable default order (creation order).
	SortBy     *Ref
	Descending bool
	// StartIndex is 1-based; Count is the page size (0: totals only).
	StartIndex int
	Count      int
	// Related asks for members (groups) or group memberships (users); false
	// when the client excluded them, so they are not even read.
	Related bool
}

// Eq is the filter `path eq "value"` for a core attribute or one of its
// sub-attributes ("externalId", "emails.value"), built without parsing.
func Eq(path, value string) filter.Expression {
	ap := filter.AttributePath{AttributeName: path}
	if name, sub, ok := strings.Cut(path, "."); ok {
		ap = filter.AttributePath{AttributeName: name, SubAttribute: &sub}
	}
	return &filter.AttributeExpression{AttributePath: ap, Operator: filter.EQ, CompareValue: value}
}

// Or joins two filters with or.
func Or(a, b filter.Expression) filter.Expression {
	return &filter.LogicalExpression{Left: a, Right: b, Operator: filter.OR}
}

// Present is the filter `uri:name pr` for an attribute of the extension
// uri ("" for a core attribute), built without parsing.
func Present(uri, name string) filter.Expression {
	ap := filter.AttributePath{AttributeName: name}
	if uri != "" {
		ap.URIPrefix = &uri
	}
	return &filter.AttributeExpression{AttributePath: ap, Operator: filter.PR}
}
