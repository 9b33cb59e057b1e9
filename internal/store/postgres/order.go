package postgres

import (
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// orderBy compiles sortBy (RFC 7644 §3.4.2.3) into an ORDER BY clause.
// Resources without a value sort last ascending and first descending (the
// RFC's "null" placement); ties, and the default order, follow creation
// (seq), so pages are stable.
//
// byKey is false when the order is creation order alone.
func (c *compiler) orderBy(ref *schemas.Ref, descending bool) (clause string, byKey bool, err error) {
	seq := c.t.col("seq")
	if ref == nil {
		return seq, false, nil
	}
	key, err := c.sortKey(*ref)
	if err != nil {
		return "", false, err
	}
	if key == "" {
		return seq, false, nil
	}
	if descending {
		return key + " DESC NULLS FIRST, " + seq, true, nil
	}
	return key + " ASC NULLS LAST, " + seq, true, nil
}

// sortKey is the SQL value resources are ordered by; "" when it is the same
// for every resource. A multi-valued attribute sorts by its primary value,
// else its first; caseExact=false strings sort by their folded form.
func (c *compiler) sortKey(ref schemas.Ref) (string, error) {
	t := c.t
	if ref.Attr == nil {
		return "", invalidSort("no attribute named")
	}
	if ref.Schema == "" && strings.EqualFold(ref.Attr.Name, "meta") && ref.Sub != nil {
		switch strings.ToLower(ref.Sub.Name) {
		case "resourcetype":
			return "", nil
		case "location": // base URL + id: orders as the id
			return t.col("id"), nil
		}
	}
	if !ref.Attr.MultiValued {
		o, err := c.scalar(ref)
		if err != nil {
			return "", err
		}
		return sortOperand(o)
	}
	sub := ref.Sub
	if sub == nil && ref.Attr.Type == schemas.TypeComplex {
		if sub = ref.Attr.Sub("value"); sub == nil {
			return "", invalidSort("%s needs a sub-attribute", ref.Path())
		}
	}
	core := ref.Schema == t.rt.Core.ID
	switch {
	case core && t.name == "users" && strings.EqualFold(ref.Attr.Name, "groups"):
		// The first group in the order the groups attribute lists them.
		m, _ := c.multi(ref, nil)
		o, err := m.elem(sub)
		if err != nil {
			return "", err
		}
		k, err := sortOperand(o)
		if err != nil || k == "" {
			return k, err
		}
		return "(SELECT " + k + " FROM members m JOIN groups gg ON gg.seq = m.group_seq" +
			" WHERE m.member_id = " + t.col("id") + " AND m.member_type = 'User'" +
			" ORDER BY gg.display_name_key, gg.seq LIMIT 1)", nil
	case core && t.name == "groups" && strings.EqualFold(ref.Attr.Name, "members"):
		// The first member in the order members are listed (by value).
		m, _ := c.multi(ref, nil)
		o, err := m.elem(sub)
		if err != nil {
			return "", err
		}
		k, err := sortOperand(o)
		if err != nil || k == "" {
			return k, err
		}
		return "(SELECT " + k + " FROM members m WHERE m.group_seq = " + t.col("seq") +
			" ORDER BY m.member_id LIMIT 1)", nil
	}
	col, path, err := c.jsonPath(schemas.Ref{Schema: ref.Schema, Attr: ref.Attr})
	if err != nil {
		return "", err
	}
	if sub == nil { // multi-valued simple attribute: its first value
		o := operand{expr: typedJSON("("+jsonArray(col, path)+" -> 0)", ref.Attr.Type), typ: ref.Attr.Type, exact: ref.Attr.CaseExact}
		return sortOperand(o)
	}
	m, err := c.jsonMulti(ref)
	if err != nil {
		return "", err
	}
	o, err := m.elem(sub)
	if err != nil {
		return "", err
	}
	k, err := sortOperand(o)
	if err != nil || k == "" {
		return k, err
	}
	primaryFirst := ""
	if ref.Attr.Sub("primary") != nil {
		primaryFirst = "coalesce(je.value -> 'primary' = 'true'::jsonb, false) DESC, "
	}
	return "(SELECT " + k + " FROM jsonb_array_elements(" + jsonArray(col, path) + ") WITH ORDINALITY je (value, ord) ORDER BY " +
		primaryFirst + "je.ord LIMIT 1)", nil
}

func invalidSort(format string, args ...any) error {
	return store.Errorf(store.EINVALID, "invalid sortBy: "+format, args...)
}

// sortOperand is the value an operand sorts by.
func sortOperand(o operand) (string, error) {
	switch o.typ {
	case kindConst:
		return "", nil
	case schemas.TypeComplex:
		return "", invalidSort("%s is complex", o.name)
	case schemas.TypeString, schemas.TypeReference, schemas.TypeBinary:
		if !o.exact && !o.folded {
			return fold(o.expr), nil
		}
	}
	return o.expr, nil
}

// uniqueLookup reports whether e pins at most one resource: a top-level
// conjunct is an equality on a unique attribute (id; userName of users;
// displayName of groups). Such a page needs no ORDER BY.
func (c *compiler) uniqueLookup(e filter.Expression) bool {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		return e != nil && strings.EqualFold(string(e.Operator), string(filter.AND)) &&
			(c.uniqueLookup(e.Left) || c.uniqueLookup(e.Right))
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
		case ref.Schema != c.t.rt.Core.ID || ref.Attr.Uniqueness != "server" || ref.Attr.CaseExact:
			return false
		}
		// userName and group displayName: uniqueness "server", enforced
		// without regard to case by unique indexes (migration 0001).
		return (c.t.name == "users" && strings.EqualFold(ref.Attr.Name, "userName")) ||
			(c.t.name == "groups" && strings.EqualFold(ref.Attr.Name, "displayName"))
	}
	return false
}
