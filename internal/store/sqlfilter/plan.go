package sqlfilter

import (
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
)

// IndexDriven reports whether the rows matching e are found through an
// index: some conjunct is an equality on an indexed attribute (userName,
// externalId, id, displayName, emails.value, members.value, groups.value) or
// a meta.lastModified comparison, or every branch of an or is.
//
// Such a filter selects few rows, and the SQLite page query then orders by
// "+seq": the unary plus keeps SQLite from satisfying ORDER BY seq by
// walking the whole table in rowid order — which it prefers for a one-sided
// range such as "meta.lastModified gt …", to save a sort — so it searches
// the index and sorts the few rows found. Filters without an index keep the
// rowid walk, which stops as soon as a page is full.
func (c *Compiler) IndexDriven(e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e == nil {
			return false
		}
		l, r := c.IndexDriven(e.Left), c.IndexDriven(e.Right)
		if strings.EqualFold(string(e.Operator), string(filter.AND)) {
			return l || r
		}
		return l && r
	case *filter.AttributeExpression:
		if e == nil {
			return false
		}
		ref, err := c.resolve(e.AttributePath)
		if err != nil {
			return false
		}
		return c.indexedRef(ref, e)
	case *filter.ValuePath:
		if e == nil {
			return false
		}
		ref, err := c.resolve(e.AttributePath)
		if err != nil || ref.Sub != nil || !c.sideTable(ref) {
			return false
		}
		return valueEquality(e.ValueFilter)
	}
	return false
}

// indexedRef reports whether comparison e on ref is answered by an index.
func (c *Compiler) indexedRef(ref schemas.Ref, e *filter.AttributeExpression) bool {
	if e.CompareValue == nil {
		return false
	}
	op := filter.CompareOperator(strings.ToLower(string(e.Operator)))
	name := strings.ToLower(ref.Attr.Name)
	if ref.Schema == "" {
		switch {
		case name == "id" || name == "externalid":
			return op == filter.EQ
		case name == "meta" && ref.Sub != nil && strings.EqualFold(ref.Sub.Name, "lastModified"):
			return orderOp(op) != ""
		}
		return false
	}
	if ref.Schema != c.t.RT.Core.ID || op != filter.EQ {
		return false
	}
	switch {
	case c.t.Name == "users" && name == "username", name == "displayname":
		return ref.Sub == nil && !ref.Attr.CaseExact
	case c.sideTable(ref):
		return ref.Sub == nil || strings.EqualFold(ref.Sub.Name, "value")
	}
	return false
}

// sideTable reports whether ref's values live in an indexed side table:
// users' emails and groups, groups' members.
func (c *Compiler) sideTable(ref schemas.Ref) bool {
	if ref.Schema != c.t.RT.Core.ID {
		return false
	}
	switch c.t.Name {
	case "users":
		return strings.EqualFold(ref.Attr.Name, "emails") || strings.EqualFold(ref.Attr.Name, "groups")
	case "groups":
		return strings.EqualFold(ref.Attr.Name, "members")
	}
	return false
}

// valueEquality reports whether a value filter has "value eq …" among its
// top-level conjuncts.
func valueEquality(e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		if e == nil {
			return false
		}
		l, r := valueEquality(e.Left), valueEquality(e.Right)
		if strings.EqualFold(string(e.Operator), string(filter.AND)) {
			return l || r
		}
		return l && r
	case *filter.AttributeExpression:
		return e != nil && e.CompareValue != nil && strings.EqualFold(e.AttributePath.AttributeName, "value") &&
			strings.EqualFold(string(e.Operator), string(filter.EQ))
	}
	return false
}

// UniqueLookup reports whether e pins at most one resource: a top-level
// conjunct is an equality on a unique attribute (id; userName of users;
// displayName of groups). Such a page needs no ORDER BY, whose sorter setup
// would be most of the cost of the most frequent query of all.
func (c *Compiler) UniqueLookup(e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		return e != nil && strings.EqualFold(string(e.Operator), string(filter.AND)) &&
			(c.UniqueLookup(e.Left) || c.UniqueLookup(e.Right))
	case *filter.AttributeExpression:
		if e == nil || e.CompareValue == nil || !strings.EqualFold(string(e.Operator), string(filter.EQ)) {
			return false
		}
		ref, err := c.resolve(e.AttributePath)
		if err != nil || ref.Sub != nil {
			return false
		}
		switch {
		case ref.Schema == "":
			return strings.EqualFold(ref.Attr.Name, "id")
		case ref.Schema != c.t.RT.Core.ID || ref.Attr.Uniqueness != "server" || ref.Attr.CaseExact:
			return false
		}
		// userName and group displayName: uniqueness "server", enforced
		// without regard to case by unique indexes. Users stored in SQLite
		// before its migration 0007 may share a userName key (check-names
		// lists them); the index then returns them in creation order, which
		// is the order a sort would give.
		return (c.t.Name == "users" && strings.EqualFold(ref.Attr.Name, "userName")) ||
			(c.t.Name == "groups" && strings.EqualFold(ref.Attr.Name, "displayName"))
	}
	return false
}
