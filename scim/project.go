package scim

import (
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// projection applies the attributes and excludedAttributes parameters
// (RFC 7644 §3.9) to rendered resources.
type projection struct {
	include []schemas.Ref // nil: every attribute returned by default
	// only: attributes named something (even only names that resolve to
	// nothing): return just those, with id and schemas.
	only    bool
	exclude []schemas.Ref
	// whole extensions named by URI alone
	includeExt, excludeExt []string
}

// parseProjection reads the comma-separated attribute lists. Names that do
// not resolve are ignored, as RFC 7644 §3.9 does not make them an error and
// clients send attributes other servers have; attributes naming nothing
// that resolves still asks for nothing but id and schemas.
func parseProjection(rt *schemas.ResourceType, attributes, excluded []string) *projection {
	p := &projection{}
	for _, list := range []struct {
		in   []string
		refs *[]schemas.Ref
		ext  *[]string
	}{{attributes, &p.include, &p.includeExt}, {excluded, &p.exclude, &p.excludeExt}} {
		for _, raw := range list.in {
			for _, name := range strings.Split(raw, ",") {
				name = strings.TrimSpace(name)
				if name == "" {
					continue
				}
				if list.refs == &p.include {
					p.only = true
				}
				// A value filter (emails[type eq "work"], as some clients
				// send) projects the attribute it filters.
				if i := strings.IndexByte(name, '['); i >= 0 {
					if j := strings.LastIndexByte(name, ']'); j > i {
						name = name[:i] + name[j+1:]
					}
				}
				if e := rt.Extension(name); e != nil {
					*list.ext = append(*list.ext, e.ID)
					continue
				}
				if ref, err := rt.ResolvePath(name); err == nil {
					*list.refs = append(*list.refs, ref)
				}
			}
		}
	}
	if !p.only && len(p.exclude) == 0 && len(p.excludeExt) == 0 {
		return nil
	}
	return p
}

// wants reports whether the named top-level attribute would be returned,
// so the store need not read what will be dropped (members of a group read
// with excludedAttributes=members are never loaded).
func (p *projection) wants(name string) bool {
	if p == nil {
		return true
	}
	for _, r := range p.exclude {
		if r.Sub == nil && strings.EqualFold(r.Attr.Name, name) {
			return false
		}
	}
	if !p.only {
		return true
	}
	for _, r := range p.include {
		if strings.EqualFold(r.Attr.Name, name) {
			return true
		}
	}
	return false
}

// container returns the object holding a ref's attribute: the resource, or
// the extension object under its URI.
func container(doc map[string]any, ref schemas.Ref, create bool) map[string]any {
	if ref.Schema == "" || ref.Schema == schemas.UserURI || ref.Schema == schemas.GroupURI {
		return doc
	}
	ext, ok := doc[ref.Schema].(map[string]any)
	if !ok && create {
		ext = map[string]any{}
		doc[ref.Schema] = ext
	}
	return ext
}

// apply projects a rendered resource in place.
func (p *projection) apply(doc map[string]any) map[string]any {
	if p == nil {
		return doc
	}
	out := doc
	if p.only {
		out = map[string]any{"schemas": doc["schemas"], "id": doc["id"]}
		for _, uri := range p.includeExt {
			if v, ok := doc[uri]; ok {
				out[uri] = v
			}
		}
		type key struct{ schema, name string }
		subs := map[key][]string{}
		whole := map[key]bool{}
		var order []schemas.Ref
		for _, ref := range p.include {
			k := key{ref.Schema, ref.Attr.Name}
			if _, seen := subs[k]; !seen && !whole[k] {
				order = append(order, ref)
			}
			if ref.Sub == nil {
				whole[k] = true
			}
			subs[k] = append(subs[k], ref.Sub.NameOrEmpty())
		}
		for _, ref := range order {
			src := container(doc, ref, false)
			if src == nil {
				continue
			}
			v, ok := src[ref.Attr.Name]
			if !ok {
				continue
			}
			k := key{ref.Schema, ref.Attr.Name}
			if !whole[k] {
				if v = keep(v, subs[k]); v == nil {
					continue
				}
			}
			container(out, ref, true)[ref.Attr.Name] = v
		}
	}
	for _, uri := range p.excludeExt {
		delete(out, uri)
	}
	for _, ref := range p.exclude {
		if ref.Attr.Name == "id" && ref.Schema == "" {
			continue // returned always (RFC 7643 §3.1)
		}
		c := container(out, ref, false)
		if c == nil {
			continue
		}
		if ref.Sub == nil {
			delete(c, ref.Attr.Name)
			continue
		}
		drop(c[ref.Attr.Name], ref.Sub.Name)
	}
	return out
}

// keep reduces a complex value, or each element of a multi-valued one, to
// the named sub-attributes.
func keep(v any, subs []string) any {
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for _, sub := range subs {
			if sv, ok := x[sub]; ok {
				out[sub] = sv
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			if k := keep(e, subs); k != nil {
				out = append(out, k)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return nil
}

func drop(v any, sub string) {
	switch x := v.(type) {
	case map[string]any:
		delete(x, sub)
	case []any:
		for _, e := range x {
			if m, ok := e.(map[string]any); ok {
				delete(m, sub)
			}
		}
	}
}
