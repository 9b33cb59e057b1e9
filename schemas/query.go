package schemas

import "github.com/scim2/filter-parser/v2"

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
