package sqlfilter

import (
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// Where attribute values live: indexed columns, the JSON documents, and the
// side tables of multi-valued attributes.

// scalar is the operand of a single-valued attribute (or sub-attribute of
// a single-valued complex attribute).
func (c *Compiler) scalar(ref schemas.Ref) (operand, error) {
	leaf := ref.Leaf()
	o := operand{typ: leaf.Type, exact: leaf.CaseExact, name: ref.Path()}
	t := c.t
	if ref.Schema == "" { // id, externalId, meta (RFC 7643 §3.1)
		switch strings.ToLower(ref.Attr.Name) {
		case "id":
			o.expr, o.present = t.Col("id"), c.d.True()
			return o, nil
		case "externalid":
			o.expr = t.Col("external_id")
			return o, nil
		case "meta":
			if ref.Sub == nil {
				o.present = c.d.True()
				return o, nil
			}
			switch strings.ToLower(ref.Sub.Name) {
			case "resourcetype":
				o.typ, o.konst, o.present = kindConst, t.ResourceType, c.d.True()
				return o, nil
			case "created":
				o.expr, o.present = t.Col("created"), c.d.True()
				return o, nil
			case "lastmodified":
				o.expr, o.present = t.Col("modified"), c.d.True()
				return o, nil
			case "version":
				o.typ, o.expr, o.present = kindETag, t.Col("version"), c.d.True()
				return o, nil
			}
			// meta.location is built by the HTTP layer from its base URL.
			return o, invalid("%s cannot be filtered on", ref.Path())
		}
	}
	if ref.Schema == t.RT.Core.ID && ref.Sub == nil {
		switch {
		case t.Name == "users" && strings.EqualFold(ref.Attr.Name, "userName"):
			o.present = c.d.True()
			if o.exact {
				o.expr = t.Col("user_name")
			} else {
				// The RFC 8265 key (migration 0007): a filter finds a user
				// by any width, case or normalization variant of its name.
				o.expr, o.folded, o.key = t.Col("user_name_cmp"), true, schemas.UsernameFold
			}
			return o, nil
		case strings.EqualFold(ref.Attr.Name, "displayName"):
			if t.Name == "groups" {
				o.present = c.d.True()
			}
			if o.exact {
				o.expr = t.Col("display_name")
			} else {
				o.expr, o.folded = t.Col("display_name_key"), true
			}
			return o, nil
		case t.Name == "users" && strings.EqualFold(ref.Attr.Name, "active"):
			o.expr = t.Col("active")
			return o, nil
		}
	}
	col, path, err := c.jsonPath(ref)
	if err != nil {
		return o, err
	}
	// For a complex value, present is true when it has a member: {} is an
	// unassigned value.
	o.expr, o.present = c.d.JSONValue(col, path, leaf.Type)
	return o, nil
}

// jsonPath returns the column holding ref and the JSON path of ref in it,
// as the dialect writes it (Dialect.JSONPath). Segments are quoted
// canonical names from the schema documents.
func (c *Compiler) jsonPath(ref schemas.Ref) (col, path string, err error) {
	col = c.t.Col("doc")
	var segs []string
	switch ref.Schema {
	case schemas.HubSpotURI:
		col = c.t.Col("hubspot")
	case c.t.RT.Core.ID:
	default:
		segs = append(segs, ref.Schema)
	}
	segs = append(segs, ref.Attr.Name)
	if ref.Sub != nil {
		segs = append(segs, ref.Sub.Name)
	}
	path, err = c.quotePath(segs)
	return col, path, err
}

// quotePath is the dialect's path of segs, which must be names that need
// no escaping.
func (c *Compiler) quotePath(segs []string) (string, error) {
	for _, s := range segs {
		if s == "" || strings.ContainsAny(s, `"'\`) {
			return "", invalid("attribute name %q cannot be queried", s)
		}
	}
	return c.d.JSONPath(segs), nil
}

// multiSource is where the values of a multi-valued attribute live.
type multiSource struct {
	d Dialect
	// wrap turns a condition on one element into a condition on the
	// resource: true when some element satisfies it.
	wrap func(cond string) string
	// elem is the operand of a sub-attribute of an element (nil sub: the
	// element itself, for multi-valued simple attributes).
	elem func(sub *schemas.Attribute) (operand, error)
}

// any is the test "has at least one value".
func (m *multiSource) any() string { return m.wrap(m.d.True()) }

// emailColumn is the user_emails column mirroring an emails sub-attribute
// (value, type, primary), or "".
func emailColumn(sub string) string {
	switch strings.ToLower(sub) {
	case "value":
		return "e.value_key"
	case "type":
		return "e.type_key"
	case "primary":
		return "e.is_primary"
	}
	return ""
}

// multi picks the source of a multi-valued attribute. subs are the
// sub-attributes the condition uses: emails go through the indexed
// user_emails table when it has them all.
func (c *Compiler) multi(ref schemas.Ref, subs []string) (*multiSource, error) {
	t := c.t
	name := ref.Path()
	core := ref.Schema == t.RT.Core.ID
	unsupported := func(sub *schemas.Attribute) (operand, error) {
		return operand{}, invalid("%s.%s cannot be filtered on", name, sub.Name)
	}
	switch {
	case core && t.Name == "users" && strings.EqualFold(ref.Attr.Name, "emails") && allEmailColumns(subs):
		return &multiSource{
			d: c.d,
			wrap: func(p string) string {
				return t.Col("seq") + " IN (SELECT e.user_seq FROM user_emails e WHERE " + p + ")"
			},
			elem: func(sub *schemas.Attribute) (operand, error) {
				col := emailColumn(sub.Name)
				if col == "" {
					return unsupported(sub)
				}
				return operand{expr: col, typ: sub.Type, exact: sub.CaseExact, folded: true, name: name + "." + sub.Name}, nil
			},
		}, nil
	case core && t.Name == "users" && strings.EqualFold(ref.Attr.Name, "groups"):
		// The read-only groups attribute (RFC 7643 §4.1.2): direct
		// memberships.
		return &multiSource{
			d: c.d,
			wrap: func(p string) string {
				return t.Col("id") + " IN (SELECT m.member_id FROM members m JOIN groups gg ON gg.seq = m.group_seq" +
					" WHERE m.member_type = 'User' AND " + p + ")"
			},
			elem: func(sub *schemas.Attribute) (operand, error) {
				o := operand{typ: sub.Type, exact: sub.CaseExact, name: name + "." + sub.Name, present: c.d.True()}
				switch strings.ToLower(sub.Name) {
				case "value": // an id: compared exactly, like id itself
					o.expr, o.exact = "gg.id", true
				case "display":
					o.expr, o.folded = "gg.display_name_key", true
					if o.exact {
						o.expr = "gg.display_name"
					}
				case "type":
					o.typ, o.konst = kindConst, "direct"
				default:
					return unsupported(sub)
				}
				return o, nil
			},
		}, nil
	case core && t.Name == "groups" && strings.EqualFold(ref.Attr.Name, "members"):
		return &multiSource{
			d: c.d,
			wrap: func(p string) string {
				return t.Col("seq") + " IN (SELECT m.group_seq FROM members m WHERE " + p + ")"
			},
			elem: func(sub *schemas.Attribute) (operand, error) {
				o := operand{typ: sub.Type, exact: sub.CaseExact, name: name + "." + sub.Name, present: c.d.True()}
				switch strings.ToLower(sub.Name) {
				case "value": // an id: compared exactly, like id itself
					o.expr, o.exact = "m.member_id", true
				case "type":
					o.expr = "m.member_type"
				case "display":
					o.present = ""
					o.expr = "(SELECT " + MemberDisplay + " FROM " + c.d.OneRow() + " LEFT JOIN users mu ON m.member_type = 'User' AND mu.id = m.member_id" +
						" LEFT JOIN groups mg ON m.member_type = 'Group' AND mg.id = m.member_id)"
				default:
					return unsupported(sub)
				}
				return o, nil
			},
		}, nil
	}
	return c.jsonMulti(ref)
}

// jsonMulti is the values of a multi-valued attribute as the JSON array in
// the resource document, walked with the dialect's array iteration.
func (c *Compiler) jsonMulti(ref schemas.Ref) (*multiSource, error) {
	name := ref.Path()
	col, path, err := c.jsonPath(schemas.Ref{Schema: ref.Schema, Attr: ref.Attr})
	if err != nil {
		return nil, err
	}
	return &multiSource{
		d: c.d,
		wrap: func(p string) string {
			return "EXISTS (SELECT 1 FROM " + c.d.Elements(col, path) + " je WHERE " + p + ")"
		},
		elem: func(sub *schemas.Attribute) (operand, error) {
			if sub == nil {
				return operand{expr: c.d.Element("", ref.Attr.Type), typ: ref.Attr.Type, exact: ref.Attr.CaseExact, name: name}, nil
			}
			p, err := c.quotePath([]string{sub.Name})
			if err != nil {
				return operand{}, err
			}
			return operand{expr: c.d.Element(p, sub.Type), typ: sub.Type, exact: sub.CaseExact,
				name: name + "." + sub.Name}, nil
		},
	}, nil
}

func allEmailColumns(subs []string) bool {
	for _, n := range subs {
		if emailColumn(n) == "" {
			return false
		}
	}
	return true
}
