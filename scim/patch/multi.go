package patch

import (
	"maps"
	"slices"

	"github.com/scimbridge/scimbridge/schemas"
)

// multi applies an operation to a whole multi-valued attribute (path
// "emails", "members", or a key of a path-less value).
func multi(kind string, t *target, before, value any) (any, error) {
	a, name := t.attr, t.name()
	switch kind {
	case opRemove:
		// RFC 7644 §3.5.2.2: without a value the attribute is unassigned.
		if value == nil {
			return nil, nil
		}
		// With a value (Entra ID's member removal), only the elements it
		// names go; naming an absent one is not an error.
		given, err := elements(a, name, value)
		if err != nil {
			return nil, err
		}
		return listValue(removeElements(a, asList(before), given)), nil
	case opReplace:
		// RFC 7644 §3.5.2.3: "the attribute and all values are replaced".
		vs, err := elements(a, name, value)
		if err != nil {
			return nil, err
		}
		if vs, err = keepImmutable(a, name, asList(before), vs); err != nil {
			return nil, err
		}
		out, touched, err := addElements(a, name, nil, vs)
		if err != nil {
			return nil, err
		}
		return listValue(fixPrimary(a, out, touched)), nil
	default:
		// RFC 7644 §3.5.2.1: "a new value is added"; one already present
		// is left alone ("no changes SHOULD be made").
		vs, err := elements(a, name, value)
		if err != nil {
			return nil, err
		}
		out, touched, err := addElements(a, name, asList(before), vs)
		if err != nil {
			return nil, err
		}
		return listValue(fixPrimary(a, out, touched)), nil
	}
}

// addElements returns list with vs added: an element equal to one present
// (same identity, see identity) is merged into it, others are appended.
// touched holds the indices of the elements added or merged into. list is
// not modified.
func addElements(a *schemas.Attribute, name string, list, vs []any) (out []any, touched []int, err error) {
	out = make([]any, len(list), len(list)+len(vs))
	copy(out, list)
	ids := identity(a)
	index := make(map[string]int, len(out)+len(vs))
	for i, e := range out {
		if k, ok := identityKey(a, ids, e); ok {
			if _, dup := index[k]; !dup {
				index[k] = i
			}
		}
	}
	for _, v := range vs {
		k, ok := identityKey(a, ids, v)
		if i, found := index[k]; ok && found {
			// The value is present: only its other sub-attributes (primary,
			// display) are merged in; the identity stays as it was.
			upd := maps.Clone(asMap(v))
			for _, s := range ids {
				delete(upd, s.Name)
			}
			if len(upd) > 0 {
				m, err := merge(a, name, asMap(out[i]), upd, immutKeep)
				if err != nil {
					return nil, nil, err
				}
				if m != nil {
					out[i] = m
				}
			}
			touched = append(touched, i)
			continue
		}
		out = append(out, v)
		if ok {
			index[k] = len(out) - 1
		}
		touched = append(touched, len(out)-1)
	}
	return out, touched, nil
}

// keepImmutable carries the immutable sub-attributes of the elements of
// list over to the elements of vs that stand for the same value, where vs
// does not give them: Okta's full member push ({"value", "display"}) must
// not lose the members' "type", which RFC 7643 §2.2 says cannot change once
// set; giving a different one is a mutability error. vs is modified in
// place (its elements are replaced, not modified).
func keepImmutable(a *schemas.Attribute, name string, list, vs []any) ([]any, error) {
	var imm []*schemas.Attribute
	for _, s := range a.SubAttributes {
		if s.Mutability == schemas.Immutable {
			imm = append(imm, s)
		}
	}
	if len(imm) == 0 || len(list) == 0 {
		return vs, nil
	}
	ids := identity(a)
	index := make(map[string]int, len(list))
	for i, e := range list {
		if k, ok := identityKey(a, ids, e); ok {
			if _, dup := index[k]; !dup {
				index[k] = i
			}
		}
	}
	for j, v := range vs {
		k, ok := identityKey(a, ids, v)
		i, found := index[k]
		if !ok || !found {
			continue
		}
		old, nv := asMap(list[i]), asMap(v)
		var out map[string]any
		for _, s := range imm {
			ov := old[s.Name]
			switch {
			case unassigned(ov):
			case unassigned(nv[s.Name]):
				if out == nil {
					out = maps.Clone(nv)
				}
				out[s.Name] = ov
			case !sameValue(s, ov, nv[s.Name]):
				return nil, mutability("%s.%s is immutable: it cannot be changed once set", name, s.Name)
			}
		}
		if out != nil {
			vs[j] = out
		}
	}
	return vs, nil
}

// removeElements returns the elements of list that match none of given
// (see matchesGiven). list is not modified.
func removeElements(a *schemas.Attribute, list, given []any) []any {
	if len(given) == 0 || len(list) == 0 {
		return list
	}
	ids := identity(a)
	// Values naming every identity sub-attribute (members by value) are
	// looked up by key; the others are compared one by one.
	keys := make(map[string]bool)
	var partial []any
	for _, g := range given {
		if k, ok := identityKey(a, ids, g); ok && complete(a, ids, g) {
			keys[k] = true
		} else if ok {
			partial = append(partial, g)
		}
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		if k, ok := identityKey(a, ids, e); ok && keys[k] {
			continue
		}
		if slices.ContainsFunc(partial, func(g any) bool { return matchesGiven(a, ids, e, g) }) {
			continue
		}
		out = append(out, e)
	}
	return out
}

// complete reports whether g gives every identity sub-attribute.
func complete(a *schemas.Attribute, ids []*schemas.Attribute, g any) bool {
	m := asMap(g)
	for _, s := range ids {
		if unassigned(m[s.Name]) {
			return false
		}
	}
	return a.Type == schemas.TypeComplex || !unassigned(g)
}

// fixPrimary keeps "primary": true on at most one element (RFC 7643 §2.4):
// the last touched element that has it wins; if none of the touched ones
// has it, the first element that has it. list is modified in place (it is
// always a fresh slice); elements are replaced, not modified.
func fixPrimary(a *schemas.Attribute, list []any, touched []int) []any {
	if a.Sub("primary") == nil {
		return list
	}
	winner := -1
	for _, i := range touched {
		if i < len(list) && isPrimary(list[i]) {
			winner = i
		}
	}
	if winner < 0 {
		winner = slices.IndexFunc(list, isPrimary)
	}
	for i, e := range list {
		if i != winner && isPrimary(e) {
			m := make(map[string]any, len(asMap(e)))
			for k, v := range asMap(e) {
				if k != "primary" {
					m[k] = v
				}
			}
			list[i] = m
		}
	}
	return list
}
