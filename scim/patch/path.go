package patch

import (
	"fmt"
	"strings"

	ast "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/filter"
)

// target is a resolved PATCH path (RFC 7644 §3.5.2: PATH = attrPath /
// valuePath [subAttr]): a top-level attribute, optionally narrowed to a
// sub-attribute and/or to the elements a value filter selects.
type target struct {
	schema *schemas.Schema    // schema defining attr; nil for id, externalId, meta
	ext    bool               // attr lives under schema.ID in the document
	attr   *schemas.Attribute // the top-level attribute
	sub    *schemas.Attribute // attr.sub, or the sub-attribute after a filter
	filter ast.Expression     // checked value filter; nil when none
}

// name is the canonical top-level path reported as changed: "emails",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager".
func (t *target) name() string {
	if t.ext {
		return t.schema.ID + ":" + t.attr.Name
	}
	return t.attr.Name
}

// leaf is the attribute the path ends at.
func (t *target) leaf() *schemas.Attribute {
	if t.sub != nil {
		return t.sub
	}
	return t.attr
}

// subName is the canonical path of the targeted sub-attribute, for messages.
func (t *target) subName() string { return t.name() + "." + t.sub.Name }

// selects reports whether the path picks elements of a multi-valued
// attribute: `emails[type eq "work"]`, `emails[type eq "work"].value`, and
// `emails.value` (all elements).
func (t *target) selects() bool {
	return t.attr.MultiValued && (t.filter != nil || t.sub != nil)
}

// resolve parses path and resolves it against rt. A failure with unknown
// set means the path names no attribute of rt.
func resolve(rt *schemas.ResourceType, path string) (*target, *failure) {
	if len(path) > filter.MaxLength {
		return nil, invalidPath("path longer than %d bytes", filter.MaxLength)
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		f := invalidPath("%q is not a valid path: %v", path, err)
		f.unknown = true
		return nil, f
	}
	ap := p.AttributePath
	ref, err := rt.Resolve(ap.URI(), ap.AttributeName, ap.SubAttributeName())
	if err != nil {
		f := invalidPath("%s", err)
		f.unknown = true
		return nil, f
	}
	t := &target{attr: ref.Attr, sub: ref.Sub}
	if ref.Schema != "" {
		if ext := rt.Extension(ref.Schema); ext != nil {
			t.schema, t.ext = ext, true
		} else {
			t.schema = rt.Core
		}
	}
	if p.ValueExpression == nil {
		return t, nil
	}
	// valuePath [subAttr] (RFC 7644 §3.5.2).
	if ref.Sub != nil {
		return nil, invalidPath("%q: a value filter follows the attribute, not a sub-attribute", path)
	}
	if !ref.Attr.MultiValued {
		return nil, invalidPath("%q: %s is not multi-valued; a value filter [..] needs a multi-valued attribute", path, t.name())
	}
	checked, err := filter.CheckValueFilter(p.ValueExpression, ref.Attr)
	if err != nil {
		var f *failure
		if se, ok := err.(*schemas.Error); ok {
			f = failf(se.Code, se.ScimType, "%s", se.Message)
		} else {
			f = invalidPath("%s", err)
		}
		return nil, f
	}
	t.filter = checked
	if p.SubAttribute != nil {
		if ref.Attr.Type != schemas.TypeComplex {
			return nil, invalidPath("%q: %s has no sub-attributes", path, t.name())
		}
		s := ref.Attr.Sub(*p.SubAttribute)
		if s == nil {
			f := invalidPath("%q: unknown sub-attribute %q of %s", path, *p.SubAttribute, t.name())
			f.unknown = true
			return nil, f
		}
		t.sub = s
	}
	return t, nil
}

// schemaByURI returns the schema of rt whose URI is s, if any: a path or
// value key naming a whole schema rather than an attribute.
func schemaByURI(rt *schemas.ResourceType, s string) *schemas.Schema {
	if strings.EqualFold(s, rt.Core.ID) {
		return rt.Core
	}
	return rt.Extension(s)
}

// rank orders targets the way the schemas list their attributes: common
// attributes, the core schema, then extensions in order; within an
// attribute, the whole before a sub-attribute before a filtered path. The
// keys of a path-less value are applied in this order (a JSON object has
// none), so results and errors do not depend on map iteration.
func rank(rt *schemas.ResourceType, t *target) [3]int {
	var r [3]int
	switch {
	case t.schema == nil:
		for i, n := range []string{"id", "externalId", "meta"} {
			if n == t.attr.Name {
				r[1] = i
			}
		}
	case t.ext:
		for i, e := range rt.Extensions {
			if e == t.schema {
				r[0] = 2 + i
			}
		}
	default:
		r[0] = 1
	}
	if t.schema != nil {
		for i, a := range t.schema.Attributes {
			if a == t.attr {
				r[1] = i
			}
		}
	}
	switch {
	case t.filter != nil:
		r[2] = 2
	case t.sub != nil:
		r[2] = 1
	}
	return r
}

// String renders t for messages.
func (t *target) String() string {
	s := t.name()
	if t.filter != nil {
		s += fmt.Sprintf("[%v]", t.filter)
	}
	if t.sub != nil {
		s += "." + t.sub.Name
	}
	return s
}
