package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/filter"
	"github.com/scimbridge/scimbridge/scim/patch"
)

// This file adapts what real SCIM clients send to what RFC 7643 and the
// elimity library expect. It works on the request body as decodeObject
// decoded it (the one decode of the request), changing it in place before
// the library validates it:
//
//   - a POST or PUT without a "schemas" array (several IdPs, curl users)
//     gets one; the library has refused such bodies since March 2026;
//   - string booleans ("True", "False": Microsoft Entra ID) become booleans,
//     numbers sent for string attributes become strings;
//   - the enterprise manager sent as a plain string (Entra) becomes
//     {"value": "…"}; a single object sent for a multi-valued attribute is
//     wrapped in an array;
//   - PATCH bodies get the same value fixes, guided by each operation's path.
//
// Values of the wrong type are refused here with a message naming the
// attribute, which the library's generic "invalidValue" does not.

func decodeObject(body []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil || m == nil {
		return nil, newError(http.StatusBadRequest, "invalidSyntax", "The request body must be a JSON object.")
	}
	if d.More() {
		return nil, newError(http.StatusBadRequest, "invalidSyntax", "The request body must hold exactly one JSON object.")
	}
	return m, nil
}

// normalizeResource fixes a decoded POST or PUT body for resource type rt.
func normalizeResource(m map[string]any, rt *schemas.ResourceType) error {
	var err error
	for k, v := range m {
		if strings.EqualFold(k, "schemas") || strings.EqualFold(k, "id") || strings.EqualFold(k, "meta") {
			continue
		}
		if attr := rt.Core.Attr(k); attr != nil {
			if m[k], err = coerce(attr, v, attrPath{name: attr.Name}, false); err != nil {
				return err
			}
			continue
		}
		if ext := rt.Extension(k); ext != nil {
			if k != ext.ID {
				if _, twice := m[ext.ID]; twice {
					return newError(http.StatusBadRequest, "invalidSyntax", "The extension "+ext.ID+" is given twice (its URN in different case).")
				}
			}
			obj, ok := v.(map[string]any)
			if !ok {
				if v == nil {
					continue
				}
				return invalidValue("%s must be an object of that extension's attributes", ext.ID)
			}
			for ek, ev := range obj {
				if attr := ext.Attr(ek); attr != nil {
					if obj[ek], err = coerce(attr, ev, attrPath{uri: ext.ID, name: attr.Name}, false); err != nil {
						return err
					}
				}
			}
			delete(m, k)
			m[ext.ID] = obj
		}
	}
	delete(m, "password")
	m["schemas"] = schemaList(m, rt)
	return nil
}

// schemaList returns the body's "schemas" with the core schema URI present
// and spelled canonically, and the URIs of extensions the body carries.
func schemaList(m map[string]any, rt *schemas.ResourceType) []any {
	var out []any
	hasCore := false
	if list, ok := m["schemas"].([]any); ok {
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				continue
			}
			if strings.EqualFold(s, rt.Core.ID) {
				s, hasCore = rt.Core.ID, true
			} else if e := rt.Extension(s); e != nil {
				s = e.ID
			}
			out = append(out, s)
		}
	}
	if !hasCore {
		out = append([]any{rt.Core.ID}, out...)
	}
	for _, e := range rt.Extensions {
		if _, ok := m[e.ID]; ok && !containsString(out, e.ID) {
			out = append(out, e.ID)
		}
	}
	return out
}

func containsString(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func invalidValue(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, "invalidValue", fmt.Sprintf(format, args...))
}

// attrPath names an attribute in messages: uri:name.sub. It is only
// joined when a message needs it.
type attrPath struct{ uri, name, sub string }

func (p attrPath) String() string {
	s := p.name
	if p.uri != "" {
		s = p.uri + ":" + s
	}
	if p.sub != "" {
		s += "." + p.sub
	}
	return s
}

// coerce fixes and checks a value for attr. element is true when v is one
// element of a multi-valued attribute rather than the whole attribute.
// A value that needs no fixing is returned as given (v itself, not
// re-boxed: that would allocate for every string).
func coerce(attr *schemas.Attribute, v any, path attrPath, element bool) (any, error) {
	if v == nil {
		return nil, nil
	}
	if attr.MultiValued && !element {
		list, ok := v.([]any)
		if !ok {
			list = []any{v}
		}
		for i, e := range list {
			c, err := coerce(attr, e, path, true)
			if err != nil {
				return nil, err
			}
			list[i] = c
		}
		if ok {
			return v, nil
		}
		return list, nil
	}
	switch attr.Type {
	case schemas.TypeComplex:
		switch x := v.(type) {
		case map[string]any:
			for k, sv := range x {
				if sub := attr.Sub(k); sub != nil {
					c, err := coerce(sub, sv, attrPath{uri: path.uri, name: path.name, sub: sub.Name}, false)
					if err != nil {
						return nil, err
					}
					x[k] = c
				}
			}
			return x, nil
		case string:
			// Entra ID sends the enterprise manager as a bare id.
			if attr.Sub("value") != nil && !attr.MultiValued {
				return map[string]any{"value": x}, nil
			}
		}
		return nil, invalidValue("%s must be an object", path)
	case schemas.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return v, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, invalidValue("%s must be a boolean", path)
	case schemas.TypeInteger, schemas.TypeDecimal:
		switch x := v.(type) {
		case json.Number:
			return v, nil
		case string:
			n := json.Number(strings.TrimSpace(x))
			if _, err := n.Float64(); err == nil {
				return n, nil
			}
		}
		return nil, invalidValue("%s must be a number", path)
	default: // string, reference, dateTime, binary
		switch x := v.(type) {
		case string:
			return v, nil
		case json.Number:
			if attr.Type == schemas.TypeString {
				return x.String(), nil
			}
		}
		return nil, invalidValue("%s must be a string", path)
	}
}

// normalizePatch fixes a decoded PATCH body (RFC 7644 §3.5.2) for rt in
// place and returns its operations: objects with lower-cased keys and op.
func normalizePatch(m map[string]any, rt *schemas.ResourceType) ([]any, error) {
	// Of "Operations" spelled twice, the key sorting last is read: the
	// same one every time.
	var opsKey string
	var opsValue any
	for k, v := range m {
		switch {
		case strings.EqualFold(k, "Operations"):
			if opsKey == "" || k > opsKey {
				opsKey, opsValue = k, v
			}
			delete(m, k)
		case strings.EqualFold(k, "schemas"):
			delete(m, k) // replaced below, whatever its spelling
		}
	}
	ops, ok := opsValue.([]any)
	if opsKey != "" && !ok {
		return nil, newError(http.StatusBadRequest, "invalidSyntax", "Operations must be an array.")
	}
	if len(ops) == 0 {
		return nil, newError(http.StatusBadRequest, "invalidValue", "A PATCH request needs at least one operation in Operations.")
	}
	if len(ops) > patch.MaxOperations {
		return nil, newError(http.StatusBadRequest, "invalidValue", fmt.Sprintf("A PATCH holds at most %d operations, not %d: send several requests.", patch.MaxOperations, len(ops)))
	}
	for i, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
			return nil, newError(http.StatusBadRequest, "invalidSyntax", fmt.Sprintf("Operations[%d] must be an object.", i))
		}
		fixed := lowerKeys(op)
		name, _ := fixed["op"].(string)
		fixed["op"] = strings.ToLower(name)
		path, _ := fixed["path"].(string)
		if common := commonReadOnly(path, rt); common != "" {
			// id and meta are readOnly common attributes (RFC 7643 §3.1),
			// not in any schema: the library would call them unknown.
			return nil, newError(http.StatusBadRequest, "mutability", fmt.Sprintf("Operations[%d]: %s is readOnly: it cannot be changed.", i, common))
		}
		if v, ok := fixed["value"]; ok && v != nil {
			var err error
			if fixed["value"], err = coercePatchValue(rt, path, v); err != nil {
				return nil, err
			}
		}
		ops[i] = fixed
	}
	m["Operations"] = ops
	m["schemas"] = []any{schemas.PatchOpURI}
	return ops, nil
}

// lowerKeys returns m with its keys in lower case. Of two keys differing
// only in case ("value" and "Value") the one sorting last wins, the
// all-lower-case one if given: the same one every time.
func lowerKeys(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	if len(out) < len(m) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			out[strings.ToLower(k)] = m[k]
		}
	}
	return out
}

// coercePatchValue fixes the value of one PATCH operation, guided by its
// path. Paths that do not resolve are left for the PATCH engine to refuse.
func coercePatchValue(rt *schemas.ResourceType, path string, v any) (any, error) {
	if path == "" {
		obj, ok := v.(map[string]any)
		if !ok {
			return v, nil
		}
		for k, sv := range obj {
			if ext := rt.Extension(k); ext != nil {
				if inner, ok := sv.(map[string]any); ok {
					for ek, ev := range inner {
						if attr := ext.Attr(ek); attr != nil {
							c, err := coerce(attr, ev, attrPath{uri: ext.ID, name: attr.Name}, false)
							if err != nil {
								return nil, err
							}
							inner[ek] = c
						}
					}
				}
				continue
			}
			ref, err := rt.ResolvePath(k)
			if err != nil || ref.Attr.Mutability == schemas.ReadOnly {
				continue
			}
			c, err := coerce(ref.Leaf(), sv, attrPath{name: ref.Path()}, false)
			if err != nil {
				return nil, err
			}
			obj[k] = c
		}
		return obj, nil
	}
	p, err := filter.ParsePath(path)
	if err != nil {
		return v, nil
	}
	ref, err := rt.Resolve(p.AttributePath.URI(), p.AttributePath.AttributeName, p.AttributePath.SubAttributeName())
	if err != nil {
		return v, nil
	}
	attr := ref.Leaf()
	element := false
	if p.ValueExpression != nil {
		element = true
		if sub := p.SubAttributeName(); sub != "" {
			if s := ref.Attr.Sub(sub); s != nil {
				attr, element = s, false
			}
		}
	}
	return coerce(attr, v, attrPath{name: ref.Path()}, element)
}

// commonReadOnly returns "id" or "meta" when a PATCH path names one of
// those common attributes (or a sub-attribute of meta), else "".
func commonReadOnly(path string, rt *schemas.ResourceType) string {
	p := strings.TrimSpace(path)
	if len(p) > len(rt.Core.ID) && strings.EqualFold(p[:len(rt.Core.ID)+1], rt.Core.ID+":") {
		p = p[len(rt.Core.ID)+1:]
	}
	name, _, _ := strings.Cut(p, ".")
	switch {
	case strings.EqualFold(name, "id"):
		return "id"
	case strings.EqualFold(name, "meta"):
		return "meta"
	}
	return ""
}
