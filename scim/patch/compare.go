package patch

import (
	"encoding/json"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// Comparing values: whether an operation changed anything, and which
// elements of a multi-valued attribute stand for the same value.

// equal compares two values as SCIM states (RFC 7643 §2.5): unassigned
// forms are equal to each other, numbers compare by value, strings exactly.
func equal(x, y any) bool {
	if unassigned(x) || unassigned(y) {
		return unassigned(x) && unassigned(y)
	}
	switch a := x.(type) {
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok {
			return false
		}
		for k, v := range a {
			if !equal(v, b[k]) {
				return false
			}
		}
		for k, v := range b {
			if _, ok := a[k]; !ok && !unassigned(v) {
				return false
			}
		}
		return true
	case []any:
		b, ok := y.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case string:
		b, ok := y.(string)
		return ok && a == b
	case bool:
		b, ok := y.(bool)
		return ok && a == b
	}
	if nx, ok := toNumber(x); ok {
		if ny, ok := toNumber(y); ok {
			fx, _ := nx.Float64()
			fy, _ := ny.Float64()
			return fx == fy
		}
		return false
	}
	return reflect.DeepEqual(x, y)
}

// sameAttr compares two values of attribute a. The elements of a
// multi-valued attribute are compared without regard to order: a full
// member push listing the same members in another order changes nothing.
func sameAttr(a *schemas.Attribute, x, y any) bool {
	if equal(x, y) {
		return true
	}
	if !a.MultiValued {
		return false
	}
	lx, ly := asList(x), asList(y)
	if len(lx) != len(ly) {
		return false
	}
	counts := make(map[string]int, len(lx))
	for _, e := range lx {
		counts[canonicalKey(e)]++
	}
	for _, e := range ly {
		k := canonicalKey(e)
		if counts[k] == 0 {
			return false
		}
		counts[k]--
	}
	return true
}

// canonicalKey renders v so that values equal by equal render alike.
func canonicalKey(v any) string {
	var b strings.Builder
	writeKey(&b, v)
	return b.String()
}

func writeKey(b *strings.Builder, v any) {
	switch v := v.(type) {
	case map[string]any:
		b.WriteByte('{')
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if unassigned(v[k]) {
				continue
			}
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			writeKey(b, v[k])
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for _, e := range v {
			writeKey(b, e)
			b.WriteByte(',')
		}
		b.WriteByte(']')
	case string:
		b.WriteString(strconv.Quote(v))
	default:
		if n, ok := toNumber(v); ok {
			f, _ := n.Float64()
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
			return
		}
		j, _ := json.Marshal(v)
		b.Write(j)
	}
}

// sameValue compares two values of the simple (sub-)attribute s the way
// the attribute's caseExact says (RFC 7643 §2.2).
func sameValue(s *schemas.Attribute, x, y any) bool {
	if a, ok := x.(string); ok && !s.CaseExact {
		b, ok := y.(string)
		return ok && schemas.Fold(a) == schemas.Fold(b)
	}
	return equal(x, y)
}

// identity returns the sub-attributes that tell the elements of the
// multi-valued attribute a apart: "value" alone when it is immutable (a
// member is the resource it points to), "value" and "type" otherwise
// (emails, roles…), and for an attribute without "value" (addresses) every
// sub-attribute except "primary" and "display". Nil for simple attributes,
// whose elements are their own identity.
func identity(a *schemas.Attribute) []*schemas.Attribute {
	if a.Type != schemas.TypeComplex {
		return nil
	}
	if v := a.Sub("value"); v != nil {
		if v.Mutability == schemas.Immutable {
			return []*schemas.Attribute{v}
		}
		if t := a.Sub("type"); t != nil {
			return []*schemas.Attribute{v, t}
		}
		return []*schemas.Attribute{v}
	}
	var out []*schemas.Attribute
	for _, s := range a.SubAttributes {
		if s.Name != "primary" && s.Name != "display" {
			out = append(out, s)
		}
	}
	return out
}

// identityKey renders the identity of element e as a map key; ok is false
// when e has none of the identity sub-attributes.
func identityKey(a *schemas.Attribute, ids []*schemas.Attribute, e any) (key string, ok bool) {
	if a.Type != schemas.TypeComplex {
		if unassigned(e) {
			return "", false
		}
		return keyPart(a, e), true
	}
	m := asMap(e)
	var b strings.Builder
	for _, s := range ids {
		v := m[s.Name]
		if unassigned(v) {
			b.WriteString("\x00-")
			continue
		}
		ok = true
		b.WriteString("\x00+")
		b.WriteString(keyPart(s, v))
	}
	return b.String(), ok
}

func keyPart(s *schemas.Attribute, v any) string {
	switch v := v.(type) {
	case string:
		if !s.CaseExact {
			v = schemas.Fold(v)
		}
		return "s" + v
	case bool:
		return "b" + strconv.FormatBool(v)
	}
	if n, ok := toNumber(v); ok {
		f, _ := n.Float64()
		return "n" + strconv.FormatFloat(f, 'g', -1, 64)
	}
	b, _ := json.Marshal(v)
	return "j" + string(b)
}

// matchesGiven reports whether element e is one the client named in a
// remove value: every identity sub-attribute given in g agrees with e's,
// and g gives at least one.
func matchesGiven(a *schemas.Attribute, ids []*schemas.Attribute, e, g any) bool {
	if a.Type != schemas.TypeComplex {
		return sameValue(a, e, g)
	}
	em, gm := asMap(e), asMap(g)
	given := false
	for _, s := range ids {
		gv := gm[s.Name]
		if unassigned(gv) {
			continue
		}
		given = true
		if !sameValue(s, em[s.Name], gv) {
			return false
		}
	}
	return given
}

// isPrimary reports whether element e is marked primary.
func isPrimary(e any) bool {
	return asMap(e)["primary"] == true
}
