package sqlfilter

import (
	"strings"

	"github.com/scimbridge/scimbridge/internal/store"
	"github.com/scimbridge/scimbridge/schemas"
)

// OrderBy compiles sortBy (RFC 7644 §3.4.2.3) into an ORDER BY clause.
// Resources without a value sort last ascending and first descending (the
// RFC's "null" placement); ties, and the default order, follow creation
// (seq), so pages are stable.
//
// byKey is false when the order is creation order alone. seqExpr is how
// that creation order is written: "u.seq", or "+u.seq" for index-driven
// filters (see IndexDriven).
func (c *Compiler) OrderBy(ref *schemas.Ref, descending bool, seqExpr string) (clause string, byKey bool, err error) {
	seq := c.t.Col("seq")
	if ref == nil {
		return seqExpr, false, nil
	}
	key, err := c.sortKey(*ref)
	if err != nil {
		return "", false, err
	}
	if key == "" {
		return seqExpr, false, nil
	}
	if descending {
		return key + " DESC NULLS FIRST, " + seq, true, nil
	}
	return key + " ASC NULLS LAST, " + seq, true, nil
}

// sortKey is the SQL value resources are ordered by; "" when it is the same
// for every resource. A multi-valued attribute sorts by its primary value,
// else its first; caseExact=false strings sort by their folded form.
func (c *Compiler) sortKey(ref schemas.Ref) (string, error) {
	t := c.t
	if ref.Attr == nil {
		return "", invalidSort("no attribute named")
	}
	if ref.Schema == "" && strings.EqualFold(ref.Attr.Name, "meta") && ref.Sub != nil {
		switch strings.ToLower(ref.Sub.Name) {
		case "resourcetype":
			return "", nil
		case "location": // base URL + id: orders as the id
			return t.Col("id"), nil
		}
	}
	if !ref.Attr.MultiValued {
		o, err := c.scalar(ref)
		if err != nil {
			return "", err
		}
		return c.sortOperand(o)
	}
	sub := ref.Sub
	if sub == nil && ref.Attr.Type == schemas.TypeComplex {
		if sub = ref.Attr.Sub("value"); sub == nil {
			return "", invalidSort("%s needs a sub-attribute", ref.Path())
		}
	}
	core := ref.Schema == t.RT.Core.ID
	switch {
	case core && t.Name == "users" && strings.EqualFold(ref.Attr.Name, "groups"):
		// The first group in the order the groups attribute lists them.
		m, _ := c.multi(ref, nil)
		o, err := m.elem(sub)
		if err != nil {
			return "", err
		}
		k, err := c.sortOperand(o)
		if err != nil || k == "" {
			return k, err
		}
		return "(SELECT " + k + " FROM members m JOIN groups gg ON gg.seq = m.group_seq" +
			" WHERE m.member_id = " + t.Col("id") + " AND m.member_type = 'User'" +
			" ORDER BY gg.display_name_key, gg.seq LIMIT 1)", nil
	case core && t.Name == "groups" && strings.EqualFold(ref.Attr.Name, "members"):
		// The first member in the order members are listed (by value).
		m, _ := c.multi(ref, nil)
		o, err := m.elem(sub)
		if err != nil {
			return "", err
		}
		k, err := c.sortOperand(o)
		if err != nil || k == "" {
			return k, err
		}
		return "(SELECT " + k + " FROM members m WHERE m.group_seq = " + t.Col("seq") +
			" ORDER BY m.member_id LIMIT 1)", nil
	}
	col, path, err := c.jsonPath(schemas.Ref{Schema: ref.Schema, Attr: ref.Attr})
	if err != nil {
		return "", err
	}
	if sub == nil { // multi-valued simple attribute: its first value
		o := operand{expr: c.d.FirstValue(col, path, ref.Attr.Type), typ: ref.Attr.Type, exact: ref.Attr.CaseExact}
		return c.sortOperand(o)
	}
	m, err := c.jsonMulti(ref)
	if err != nil {
		return "", err
	}
	o, err := m.elem(sub)
	if err != nil {
		return "", err
	}
	k, err := c.sortOperand(o)
	if err != nil || k == "" {
		return k, err
	}
	return c.d.FirstElement(col, path, k, ref.Attr.Sub("primary") != nil), nil
}

func invalidSort(format string, args ...any) error {
	return store.Errorf(store.EINVALID, "invalid sortBy: "+format, args...)
}

// sortOperand is the value an operand sorts by.
func (c *Compiler) sortOperand(o operand) (string, error) {
	switch o.typ {
	case kindConst:
		return "", nil
	case schemas.TypeComplex:
		return "", invalidSort("%s is complex", o.name)
	case schemas.TypeString, schemas.TypeReference, schemas.TypeBinary:
		if !o.exact && !o.folded {
			return c.d.Fold(o.expr), nil
		}
	}
	return o.expr, nil
}
