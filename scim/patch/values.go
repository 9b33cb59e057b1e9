package patch

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// Values are held the way encoding/json decodes them with UseNumber:
// string, bool, json.Number, map[string]any, []any. Normalising a value
// checks it against its attribute definition (RFC 7643 §2.3), writes
// sub-attribute names canonically and drops what RFC 7643 §2.5 calls
// unassigned (null, "", [], {}), so that a normalised value is nil exactly
// when the attribute is to be unassigned.

// unassigned reports whether v is null, an empty string, an empty array or
// an empty object: RFC 7643 §2.5 treats these as "no value".
func unassigned(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// single unwraps a one-element array given where one value is expected;
// some clients wrap every value in an array.
func single(a *schemas.Attribute, name string, v any) (any, error) {
	l, ok := v.([]any)
	if !ok {
		return v, nil
	}
	switch len(l) {
	case 0:
		return nil, nil
	case 1:
		return l[0], nil
	}
	return nil, invalidValue("%s takes a single value, got an array of %d", name, len(l))
}

// scalar normalises a value of the simple attribute a; name is the
// attribute's canonical path for messages.
func scalar(a *schemas.Attribute, name string, v any) (any, error) {
	v, err := single(a, name, v)
	if err != nil || v == nil {
		return nil, err
	}
	switch a.Type {
	case schemas.TypeString, schemas.TypeReference:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("%s must be a string", name)
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	case schemas.TypeBinary:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("%s must be a base64 string", name)
		}
		if _, err := base64.StdEncoding.DecodeString(s); err != nil {
			return nil, invalidValue("%s must be a base64 string", name)
		}
		if s == "" {
			return nil, nil
		}
		return s, nil
	case schemas.TypeBoolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			// Entra ID sends booleans as "True"/"False".
			switch {
			case strings.EqualFold(b, "true"):
				return true, nil
			case strings.EqualFold(b, "false"):
				return false, nil
			}
		}
		return nil, invalidValue("%s must be a boolean", name)
	case schemas.TypeDateTime:
		s, ok := v.(string)
		if !ok {
			return nil, invalidValue("%s must be a dateTime string such as \"2025-01-02T15:04:05Z\"", name)
		}
		if s == "" {
			return nil, nil
		}
		if !validDateTime(s) {
			return nil, invalidValue("%s must be an xsd:dateTime such as \"2025-01-02T15:04:05Z\", got %q", name, s)
		}
		return s, nil
	case schemas.TypeInteger:
		n, ok := toNumber(v)
		if !ok {
			return nil, invalidValue("%s must be an integer", name)
		}
		if i, err := n.Int64(); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		f, _ := n.Float64()
		if f != math.Trunc(f) || math.Abs(f) >= 1<<63 {
			return nil, invalidValue("%s must be an integer", name)
		}
		return json.Number(strconv.FormatInt(int64(f), 10)), nil
	case schemas.TypeDecimal:
		n, ok := toNumber(v)
		if !ok {
			return nil, invalidValue("%s must be a number", name)
		}
		return n, nil
	}
	return nil, invalidValue("%s cannot be set here (type %s)", name, a.Type)
}

func validDateTime(s string) bool {
	if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return true
	}
	// xsd:dateTime allows a value without a time zone.
	_, err := time.Parse("2006-01-02T15:04:05.999999999", s)
	return err == nil
}

// toNumber returns v as a finite json.Number.
func toNumber(v any) (json.Number, bool) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		g, err := n.Float64()
		if err != nil || math.IsInf(g, 0) || math.IsNaN(g) {
			return "", false
		}
		return n, true
	case float64:
		f = n
	case int:
		return json.Number(strconv.Itoa(n)), true
	case int64:
		return json.Number(strconv.FormatInt(n, 10)), true
	default:
		return "", false
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return "", false
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), true
}

// immutMode says what merging does with an immutable sub-attribute
// (RFC 7643 §2.2: it may be set once, not changed) that already has a value.
type immutMode int

const (
	immutIgnore immutMode = iota // a new element: nothing to protect
	immutKeep                    // keep the old value silently (re-adding a present member)
	immutError                   // a different value is a mutability error
)

// object returns v as the JSON object of a complex value, wrapping a bare
// scalar as {"value": v} when a has a "value" sub-attribute (Entra ID sends
// the enterprise manager as a plain string).
func object(a *schemas.Attribute, name string, v any) (map[string]any, error) {
	v, err := single(a, name, v)
	if err != nil || v == nil {
		return nil, err
	}
	switch o := v.(type) {
	case map[string]any:
		return o, nil
	case string, bool, json.Number, float64, int, int64:
		if a.Sub("value") != nil {
			return map[string]any{"value": o}, nil
		}
	}
	return nil, invalidValue("%s is complex: its value must be an object of sub-attributes", name)
}

// merge writes the sub-attributes given in v over those of cur (which it
// does not modify) and returns the result, nil when nothing is left. Unknown
// sub-attributes are ignored (RFC 7644 §3.3), as are readOnly ones unless
// the whole attribute is readOnly (then the change must show, to be
// refused). A sub-attribute given as null or "" is removed.
func merge(a *schemas.Attribute, name string, cur map[string]any, v any, mode immutMode) (map[string]any, error) {
	obj, err := object(a, name, v)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(cur)
	if out == nil {
		out = make(map[string]any, len(obj))
	}
	keepReadOnly := a.Mutability == schemas.ReadOnly
	// Sorted, so that "value" and "Value" in one object resolve the same way
	// every time.
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		s := a.Sub(k)
		if s == nil || s.Type == schemas.TypeComplex || s.MultiValued {
			continue
		}
		if s.Mutability == schemas.ReadOnly && !keepReadOnly {
			continue
		}
		sub := name + "." + s.Name
		nv, err := scalar(s, sub, obj[k])
		if err != nil {
			return nil, err
		}
		nv = normalPrimary(s, nv)
		if old, had := out[s.Name]; had && s.Mutability == schemas.Immutable && !unassigned(old) && !sameValue(s, old, nv) {
			switch mode {
			case immutKeep:
				continue
			case immutError:
				return nil, mutability("%s is immutable: it cannot be changed once set", sub)
			}
		}
		if nv == nil {
			delete(out, s.Name)
		} else {
			out[s.Name] = nv
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// normalPrimary drops primary=false: absent means "not primary"
// (RFC 7643 §2.4), and the domain types omit it.
func normalPrimary(s *schemas.Attribute, v any) any {
	if s.Name == "primary" && v == false {
		return nil
	}
	return v
}

// element normalises one value of attribute a (an element, for a
// multi-valued one).
func element(a *schemas.Attribute, name string, v any) (any, error) {
	if a.Type != schemas.TypeComplex {
		return scalar(a, name, v)
	}
	m, err := merge(a, name, nil, v, immutIgnore)
	if m == nil || err != nil {
		return nil, err
	}
	return m, nil
}

// elements normalises the value given for the multi-valued attribute a: an
// array of elements, or a single element (wrapped). Unassigned elements
// are dropped.
func elements(a *schemas.Attribute, name string, v any) ([]any, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		if _, nested := e.([]any); nested {
			return nil, invalidValue("%s: an element cannot be an array", name)
		}
		ne, err := element(a, name, e)
		if err != nil {
			return nil, err
		}
		if ne != nil {
			out = append(out, ne)
		}
	}
	return out, nil
}

// asMap returns v as an object, nil if it is not one.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// asList returns the elements of a multi-valued attribute as found in the
// document; a stray single value counts as one element.
func asList(v any) []any {
	switch l := v.(type) {
	case nil:
		return nil
	case []any:
		return l
	}
	return []any{v}
}

// listValue returns l as an attribute value: nil when empty (RFC 7644
// §3.5.2.2: a multi-valued attribute with no values left is unassigned).
func listValue(l []any) any {
	if len(l) == 0 {
		return nil
	}
	return l
}
