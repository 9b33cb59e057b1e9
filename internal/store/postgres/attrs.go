package postgres

import (
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// Where attribute values live: indexed columns, the JSON documents, and the
// side tables of multi-valued attributes.

// scalar is the operand of a single-valued attribute (or sub-attribute of
// a single-valued complex attribute).
func (c *compiler) scalar(ref schemas.Ref) (operand, error) {
	leaf := ref.Leaf()
	o := operand{typ: leaf.Type, exact: leaf.CaseExact, name: ref.Path()}
	t := c.t
	if ref.Schema == "" { // id, externalId, meta (RFC 7643 §3.1)
		switch strings.ToLower(ref.Attr.Name) {
		case "id":
			o.expr, o.present = t.col("id"), "true"
			return o, nil
		case "externalid":
			o.expr = t.col("external_id")
			return o, nil
		case "meta":
			if ref.Sub == nil {
				o.present = "true"
				return o, nil
			}
			switch strings.ToLower(ref.Sub.Name) {
			case "resourcetype":
				o.typ, o.konst, o.present = kindConst, t.resourceType, "true"
				return o, nil
			case "created":
				o.expr, o.present = t.col("created"), "true"
				return o, nil
			case "lastmodified":
				o.expr, o.present = t.col("modified"), "true"
				return o, nil
			case "version":
				o.typ, o.expr, o.present = kindETag, t.col("version"), "true"
				return o, nil
			}
			// meta.location is built by the HTTP layer from its base URL.
			return o, invalid("%s cannot be filtered on", ref.Path())
		}
	}
	if ref.Schema == t.rt.Core.ID && ref.Sub == nil {
		switch {
		case t.name == "users" && strings.EqualFold(ref.Attr.Name, "userName"):
			o.present = "true"
			if o.exact {
				o.expr = t.col("user_name")
			} else {
				// The RFC 8265 key (migration 0007): a filter finds a user
				// by any width, case or normalization variant of its name.
				o.expr, o.folded, o.key = t.col("user_name_cmp"), true, schemas.UsernameFold
			}
			return o, nil
		case strings.EqualFold(ref.Attr.Name, "displayName"):
			if t.name == "groups" {
				o.present = "true"
			}
			if o.exact {
				o.expr = t.col("display_name")
			} else {
				o.expr, o.folded = t.col("display_name_key"), true
			}
			return o, nil
		case t.name == "users" && strings.EqualFold(ref.Attr.Name, "active"):
			o.expr = t.col("active")
			return o, nil
		}
	}
	col, path, err := c.jsonPath(ref)
	if err != nil {
		return o, err
	}
	j := "(" + col + " #> " + path + ")"
	o.expr = typedJSON(j, leaf.Type)
	if leaf.Type == schemas.TypeComplex {
		// Present when it has a member: {} is an unassigned value.
		o.present = "coalesce(jsonb_typeof(" + j + ") = 'object' AND " + j + " <> '{}'::jsonb, false)"
	}
	return o, nil
}

// typedJSON is the SQL value of the jsonb j as an attribute of type typ:
// text in code point order for strings, boolean, numeric, timestamptz
// (scim_time, migration 0001). A JSON value of another type than the
// attribute's is NULL, absent, for the non-string types; the jsonb itself
// for complex values.
func typedJSON(j, typ string) string {
	switch typ {
	case schemas.TypeBoolean:
		return "(CASE WHEN jsonb_typeof(" + j + ") = 'boolean' THEN (" + j + ")::boolean END)"
	case schemas.TypeInteger, schemas.TypeDecimal:
		return "(CASE WHEN jsonb_typeof(" + j + ") = 'number' THEN (" + j + ")::numeric END)"
	case schemas.TypeDateTime:
		return "scim_time(" + j + " #>> '{}')"
	case schemas.TypeComplex:
		return j
	}
	return "((" + j + " #>> '{}') COLLATE \"C\")"
}

// jsonArray is the jsonb array at path in col, NULL when the value there
// is not an array (jsonb_array_elements would fail on it).
func jsonArray(col, path string) string {
	j := "(" + col + " #> " + path + ")"
	return "(CASE WHEN jsonb_typeof(" + j + ") = 'array' THEN " + j + " END)"
}

// jsonPath returns the column holding ref and the path of ref in it, a
// text[] literal for #>. Segments are quoted canonical names from the
// schema documents.
func (c *compiler) jsonPath(ref schemas.Ref) (col, path string, err error) {
	col = c.t.col("doc")
	var segs []string
	switch ref.Schema {
	case schemas.HubSpotURI:
		col = c.t.col("hubspot")
	case c.t.rt.Core.ID:
	default:
		segs = append(segs, ref.Schema)
	}
	segs = append(segs, ref.Attr.Name)
	if ref.Sub != nil {
		segs = append(segs, ref.Sub.Name)
	}
	path, err = quotePath(segs)
	return col, path, err
}

func quotePath(segs []string) (string, error) {
	var b strings.Builder
	b.WriteString("'{")
	for i, s := range segs {
		if s == "" || strings.ContainsAny(s, `"'\`) {
			return "", invalid("attribute name %q cannot be queried", s)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"`)
		b.WriteString(s)
		b.WriteString(`"`)
	}
	b.WriteString("}'")
	return b.String(), nil
}

// multiSource is where the values of a multi-valued attribute live.
type multiSource struct {
	// wrap turns a condition on one element into a condition on the
	// resource: true when some element satisfies it.
	wrap func(cond string) string
	// elem is the operand of a sub-attribute of an element (nil sub: the
	// element itself, for multi-valued simple attributes).
	elem func(sub *schemas.Attribute) (operand, error)
}

// any is the test "has at least one value".
func (m *multiSource) any() string { return m.wrap("true") }

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
func (c *compiler) multi(ref schemas.Ref, subs []string) (*multiSource, error) {
	t := c.t
	name := ref.Path()
	core := ref.Schema == t.rt.Core.ID
	unsupported := func(sub *schemas.Attribute) (operand, error) {
		return operand{}, invalid("%s.%s cannot be filtered on", name, sub.Name)
	}
	switch {
	case core && t.name == "users" && strings.EqualFold(ref.Attr.Name, "emails") && allEmailColumns(subs):
		return &multiSource{
			wrap: func(p string) string {
				return t.col("seq") + " IN (SELECT e.user_seq FROM user_emails e WHERE " + p + ")"
			},
			elem: func(sub *schemas.Attribute) (operand, error) {
				col := emailColumn(sub.Name)
				if col == "" {
					return unsupported(sub)
				}
				return operand{expr: col, typ: sub.Type, exact: sub.CaseExact, folded: true, name: name + "." + sub.Name}, nil
			},
		}, nil
	case core && t.name == "users" && strings.EqualFold(ref.Attr.Name, "groups"):
		// The read-only groups attribute (RFC 7643 §4.1.2): direct
		// memberships.
		return &multiSource{
			wrap: func(p string) string {
				return t.col("id") + " IN (SELECT m.member_id FROM members m JOIN groups gg ON gg.seq = m.group_seq" +
					" WHERE m.member_type = 'User' AND " + p + ")"
			},
			elem: func(sub *schemas.Attribute) (operand, error) {
				o := operand{typ: sub.Type, exact: sub.CaseExact, name: name + "." + sub.Name, present: "true"}
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
	case core && t.name == "groups" && strings.EqualFold(ref.Attr.Name, "members"):
		return &multiSource{
			wrap: func(p string) string {
				return t.col("seq") + " IN (SELECT m.group_seq FROM members m WHERE " + p + ")"
			},
			elem: func(sub *schemas.Attribute) (operand, error) {
				o := operand{typ: sub.Type, exact: sub.CaseExact, name: name + "." + sub.Name, present: "true"}
				switch strings.ToLower(sub.Name) {
				case "value": // an id: compared exactly, like id itself
					o.expr, o.exact = "m.member_id", true
				case "type":
					o.expr = "m.member_type"
				case "display":
					o.present = ""
					o.expr = "(SELECT " + memberDisplay + " FROM (SELECT 1) one LEFT JOIN users mu ON m.member_type = 'User' AND mu.id = m.member_id" +
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
// the resource document, walked with jsonb_array_elements.
func (c *compiler) jsonMulti(ref schemas.Ref) (*multiSource, error) {
	name := ref.Path()
	col, path, err := c.jsonPath(schemas.Ref{Schema: ref.Schema, Attr: ref.Attr})
	if err != nil {
		return nil, err
	}
	return &multiSource{
		wrap: func(p string) string {
			return "EXISTS (SELECT 1 FROM jsonb_array_elements(" + jsonArray(col, path) + ") je WHERE " + p + ")"
		},
		elem: func(sub *schemas.Attribute) (operand, error) {
			if sub == nil {
				return operand{expr: typedJSON("je.value", ref.Attr.Type), typ: ref.Attr.Type, exact: ref.Attr.CaseExact, name: name}, nil
			}
			p, err := quotePath([]string{sub.Name})
			if err != nil {
				return operand{}, err
			}
			return operand{expr: typedJSON("(je.value #> "+p+")", sub.Type), typ: sub.Type, exact: sub.CaseExact,
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
