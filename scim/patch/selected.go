package patch

import (
	"slices"

	ast "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/filter"
)

// Operations through a value filter (RFC 7644 §3.5.2: valuePath [subAttr]).

// selected applies an operation to the elements of a multi-valued
// attribute that a value filter selects (`members[value eq "…"]`,
// `emails[type eq "work"].value`), or to a sub-attribute of every element
// (`emails.display`).
func selected(kind string, t *target, before, value any) (any, error) {
	list := asList(before)
	var matches []int
	for i, e := range list {
		if t.filter == nil || filter.MatchElement(t.filter, e, t.attr) {
			matches = append(matches, i)
		}
	}
	if kind == opRemove {
		if len(matches) == 0 {
			return before, nil // nothing to remove: not an error
		}
		return removeSelected(t, list, matches)
	}
	if len(matches) == 0 {
		return create(t, list, value)
	}
	out := slices.Clone(list)
	for _, i := range matches {
		e, err := updateElement(kind, t, out[i], value)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	out = fixPrimary(t.attr, out, matches)
	out = slices.DeleteFunc(out, func(e any) bool { return e == nil })
	return listValue(out), nil
}

// removeSelected removes the matching elements (RFC 7644 §3.5.2.2: "the
// matching records are removed"), or the targeted sub-attribute of each;
// an element left empty goes too.
func removeSelected(t *target, list []any, matches []int) (any, error) {
	out := make([]any, 0, len(list))
	next := 0
	for i, e := range list {
		if next >= len(matches) || matches[next] != i {
			out = append(out, e)
			continue
		}
		next++
		if t.sub == nil {
			continue
		}
		m := asMap(e)
		if v := m[t.sub.Name]; !unassigned(v) && t.sub.Mutability == schemas.Immutable {
			return nil, mutability("%s is immutable: it cannot be removed", t.subName())
		}
		nm := make(map[string]any, len(m))
		for k, v := range m {
			if k != t.sub.Name {
				nm[k] = v
			}
		}
		if len(nm) > 0 {
			out = append(out, nm)
		}
	}
	return listValue(out), nil
}

// updateElement applies add or replace to one selected element e and
// returns the new element, nil if nothing is left of it.
func updateElement(kind string, t *target, e, value any) (any, error) {
	a, name := t.attr, t.name()
	if t.sub != nil {
		// RFC 7644 §3.5.2.3: "the matching sub-attribute of all matching
		// records is replaced".
		nv, err := scalar(t.sub, t.subName(), value)
		if err != nil {
			return nil, err
		}
		nv = normalPrimary(t.sub, nv)
		m := asMap(e)
		if old, had := m[t.sub.Name]; had && t.sub.Mutability == schemas.Immutable && !unassigned(old) && !sameValue(t.sub, old, nv) {
			return nil, mutability("%s is immutable: it cannot be changed once set", t.subName())
		}
		nm := make(map[string]any, len(m)+1)
		for k, v := range m {
			nm[k] = v
		}
		if nv == nil {
			delete(nm, t.sub.Name)
		} else {
			nm[t.sub.Name] = nv
		}
		if len(nm) == 0 {
			return nil, nil
		}
		return nm, nil
	}
	if a.Type != schemas.TypeComplex {
		return scalar(a, name, value)
	}
	if kind == opAdd {
		// Adding to a selected element merges into it, as adding to a
		// complex attribute does (RFC 7644 §3.5.2.1).
		m, err := merge(a, name, asMap(e), value, immutError)
		if m == nil || err != nil {
			return nil, err
		}
		return m, nil
	}
	// RFC 7644 §3.5.2.3: "all matching record values SHALL be replaced".
	// Immutable sub-attributes that were set must survive unchanged.
	m, err := merge(a, name, nil, value, immutIgnore)
	if err != nil {
		return nil, err
	}
	old := asMap(e)
	for _, s := range a.SubAttributes {
		ov := old[s.Name]
		if s.Mutability != schemas.Immutable || unassigned(ov) {
			continue
		}
		nv, given := m[s.Name]
		switch {
		case !given:
			if m == nil {
				m = map[string]any{}
			}
			m[s.Name] = ov
		case !sameValue(s, ov, nv):
			return nil, mutability("%s.%s is immutable: it cannot be changed once set", name, s.Name)
		}
	}
	if m == nil {
		return nil, nil
	}
	return m, nil
}

// create handles add or replace through a value filter that matched
// nothing. RFC 7644 §3.5.2.3 answers noTarget; identity providers expect
// the element to be created (Entra ID replaces `emails[type eq
// "work"].value` on users without a work email), so when the filter is a
// conjunction of eq comparisons the element is built from them plus the
// value. Any other filter is a noTarget error.
func create(t *target, list []any, value any) (any, error) {
	pairs, ok := eqPairs(t.filter)
	if !ok {
		return nil, noTarget("no value of %s matches the filter, and the filter does not describe a value to create", t.name())
	}
	a, name := t.attr, t.name()
	var e any
	if a.Type != schemas.TypeComplex {
		v, err := scalar(a, name, value)
		if err != nil {
			return nil, err
		}
		e = v
	} else {
		var v any = value
		if t.sub != nil {
			nv, err := scalar(t.sub, t.subName(), value)
			if err != nil {
				return nil, err
			}
			v = map[string]any{t.sub.Name: nv}
		}
		given, err := merge(a, name, nil, v, immutIgnore)
		if err != nil {
			return nil, err
		}
		if given == nil {
			return listValue(list), nil // nothing to create
		}
		raw := make(map[string]any, len(pairs))
		for _, p := range pairs {
			raw[p.name] = p.value
		}
		m, err := merge(a, name, nil, raw, immutIgnore)
		if err != nil {
			return nil, err
		}
		for k, v := range given {
			if m == nil {
				m = map[string]any{}
			}
			m[k] = v
		}
		e = m
	}
	if e == nil {
		return listValue(list), nil
	}
	out := append(slices.Clone(list), e)
	return listValue(fixPrimary(a, out, []int{len(out) - 1})), nil
}

type eqPair struct {
	name  string
	value any
}

// eqPairs returns the comparisons of a filter made only of `sub eq value`
// joined by and; ok is false for any other filter. A nil filter (a path
// like `emails.value`) is the empty conjunction.
func eqPairs(e ast.Expression) (pairs []eqPair, ok bool) {
	switch e := e.(type) {
	case nil:
		return nil, true
	case *ast.LogicalExpression:
		if e.Operator != ast.AND {
			return nil, false
		}
		l, ok := eqPairs(e.Left)
		if !ok {
			return nil, false
		}
		r, ok := eqPairs(e.Right)
		if !ok {
			return nil, false
		}
		return append(l, r...), true
	case *ast.AttributeExpression:
		if e.Operator == ast.EQ && e.CompareValue != nil {
			return []eqPair{{name: e.AttributePath.AttributeName, value: e.CompareValue}}, true
		}
	}
	return nil, false
}
