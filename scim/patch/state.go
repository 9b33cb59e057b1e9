package patch

import (
	"maps"
	"slices"
	"strings"
)

// Reading and writing the document, remembering what Apply found so that
// it can report what changed and restore everything on error.

// get returns the current value of t's top-level attribute.
func (a *applier) get(t *target) any {
	if !t.ext {
		return a.doc[t.attr.Name]
	}
	return asMap(a.doc[t.schema.ID])[t.attr.Name]
}

// set writes the value of t's top-level attribute, deleting it when v is
// unassigned. An extension's attributes live in an object under the
// extension URI, created when needed and dropped when it becomes empty.
func (a *applier) set(t *target, v any) {
	name := t.name()
	if _, seen := a.before[name]; !seen {
		a.before[name] = a.get(t)
		a.touched = append(a.touched, t)
	}
	key := t.attr.Name
	if t.ext {
		key = t.schema.ID
		ext := maps.Clone(asMap(a.doc[key]))
		if ext == nil {
			ext = map[string]any{}
		}
		if unassigned(v) {
			delete(ext, t.attr.Name)
		} else {
			ext[t.attr.Name] = v
		}
		v = ext
		a.listSchema(key, len(ext) > 0)
	}
	a.save(key)
	if unassigned(v) {
		delete(a.doc, key)
	} else {
		a.doc[key] = v
	}
}

// listSchema keeps an extension URI in the document's "schemas" array, if
// the document has one, in step with the extension's presence
// (RFC 7643 §3: "schemas" lists the extensions a resource uses).
func (a *applier) listSchema(uri string, want bool) {
	list, ok := a.doc["schemas"].([]any)
	if !ok {
		return
	}
	i := slices.IndexFunc(list, func(v any) bool {
		s, ok := v.(string)
		return ok && strings.EqualFold(s, uri)
	})
	switch {
	case want && i < 0:
		a.save("schemas")
		a.doc["schemas"] = append(slices.Clip(list), uri)
	case !want && i >= 0:
		a.save("schemas")
		a.doc["schemas"] = slices.Delete(slices.Clone(list), i, i+1)
	}
}

// save records a document entry before its first replacement.
func (a *applier) save(key string) {
	if _, done := a.saved[key]; done {
		return
	}
	v, ok := a.doc[key]
	a.saved[key] = savedEntry{v: v, present: ok}
}

// restore puts back every entry Apply replaced.
func (a *applier) restore() {
	for k, s := range a.saved {
		if s.present {
			a.doc[k] = s.v
		} else {
			delete(a.doc, k)
		}
	}
}

// changed lists the touched attributes whose value differs from the one
// Apply found.
func (a *applier) changed() []string {
	var out []string
	for _, t := range a.touched {
		name := t.name()
		if !sameAttr(t.attr, a.before[name], a.get(t)) {
			out = append(out, name)
		}
	}
	return out
}
