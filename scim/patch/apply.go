package patch

import (
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// Operation is one PATCH operation as received (JSON decoded with
// UseNumber), after the HTTP layer's quirk normalisation. Op may still be
// capitalised ("Replace"): it is compared without regard to case.
type Operation struct {
	Op    string
	Path  string
	Value any
}

// Operation names (RFC 7644 §3.5.2).
const (
	opAdd     = "add"
	opReplace = "replace"
	opRemove  = "remove"
)

// opKind returns the canonical name of op, "" if it is none of add,
// replace, remove. Entra ID capitalises them.
func opKind(op string) string {
	op = strings.TrimSpace(op)
	for _, k := range []string{opAdd, opReplace, opRemove} {
		if strings.EqualFold(op, k) {
			return k
		}
	}
	return ""
}

// Apply applies ops in order to doc, the resource in JSON-object form with
// canonical attribute names (json.Marshal of schemas.User or schemas.Group
// decoded with UseNumber, plus "id"), for resource type rt.
//
// It returns the canonical top-level attribute paths whose value changed
// ("displayName", "name", "members",
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
// in the order the operations first touched them; none when the operations
// changed nothing (an idempotent member add, a value set to what it was).
//
// Errors are *schemas.Error with Code EINVALID or EMUTABILITY and the
// RFC 7644 §3.12 scimType (invalidPath, invalidFilter, noTarget,
// invalidValue, mutability, invalidSyntax); the message names the
// operation's index and path. On error doc is left as it was (RFC 7644
// §3.5.2: a PATCH request is atomic).
func Apply(rt *schemas.ResourceType, doc map[string]any, ops []Operation) (changed []string, err error) {
	if rt == nil || rt.Core == nil || doc == nil {
		return nil, &schemas.Error{Code: schemas.EINVALID, ScimType: scimInvalidSyntax, Message: "patch: no resource to apply the operations to"}
	}
	a := &applier{rt: rt, doc: doc, saved: map[string]savedEntry{}, before: map[string]any{}}
	for i, op := range ops {
		kind := opKind(op.Op)
		var err error
		if kind == "" {
			err = failf(schemas.EINVALID, scimInvalidSyntax, "op %q is not one of add, remove, replace", op.Op)
		} else {
			err = a.apply(kind, op)
		}
		if err != nil {
			a.restore()
			return nil, opError(i, kind, op, err)
		}
	}
	return a.changed(), nil
}

// applier holds the state of one Apply call.
type applier struct {
	rt  *schemas.ResourceType
	doc map[string]any
	// saved holds the document entries Apply replaced, as it found them,
	// to restore them on error.
	saved map[string]savedEntry
	// touched lists the top-level targets Apply wrote, in first-write
	// order; before holds each one's value as Apply found it, by name.
	touched []*target
	before  map[string]any
}

type savedEntry struct {
	v       any
	present bool
}

func (a *applier) apply(kind string, op Operation) error {
	path := strings.TrimSpace(op.Path)
	if path == "" {
		if kind == opRemove {
			// RFC 7644 §3.5.2.2: remove without a path fails with noTarget.
			return noTarget("remove needs a path")
		}
		// RFC 7644 §3.5.2.1, §3.5.2.3: without a path the target is the
		// resource and the value an object of its attributes.
		obj, ok := op.Value.(map[string]any)
		if !ok {
			return invalidValue("without a path, the value must be an object of attributes")
		}
		return a.object(kind, nil, obj)
	}
	if s := schemaByURI(a.rt, path); s != nil {
		return a.schema(kind, s, op.Value)
	}
	t, f := resolve(a.rt, path)
	if f != nil {
		return f
	}
	return a.target(kind, t, op.Value, false)
}

// schema applies an operation whose path is a schema URI: the value is an
// object of that schema's attributes; removing an extension removes all of
// its attributes.
func (a *applier) schema(kind string, s *schemas.Schema, value any) error {
	if obj, ok := value.(map[string]any); ok && kind != opRemove {
		return a.object(kind, s, obj)
	}
	switch {
	case kind == opAdd && value == nil:
		return invalidValue("add needs a value")
	case kind != opRemove && value != nil:
		return invalidValue("the value of %s must be an object of that schema's attributes", s.ID)
	case s == a.rt.Core:
		return invalidPath("the core schema %s cannot be removed", s.ID)
	}
	for _, t := range a.present(s) {
		if err := a.target(kind, t, nil, false); err != nil {
			return err
		}
	}
	return nil
}

// present returns targets for the attributes of extension s that have a
// value.
func (a *applier) present(s *schemas.Schema) []*target {
	var out []*target
	for _, at := range s.Attributes {
		t := &target{schema: s, ext: true, attr: at}
		if !unassigned(a.get(t)) {
			out = append(out, t)
		}
	}
	return out
}

// item is one key of a path-less value, resolved.
type item struct {
	t     *target
	value any
	key   string
}

// object applies a path-less operation: each key of obj is an attribute
// path (scoped to schema scope when not nil) or a schema URI whose value
// is an object of that schema's attributes.
func (a *applier) object(kind string, scope *schemas.Schema, obj map[string]any) error {
	items, err := a.collect(scope, obj, nil)
	if err != nil {
		return err
	}
	slices.SortStableFunc(items, func(x, y item) int {
		rx, ry := rank(a.rt, x.t), rank(a.rt, y.t)
		for i := range rx {
			if c := cmp.Compare(rx[i], ry[i]); c != 0 {
				return c
			}
		}
		return strings.Compare(x.key, y.key)
	})
	for _, it := range items {
		if err := a.target(kind, it.t, it.value, true); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) collect(scope *schemas.Schema, obj map[string]any, items []item) ([]item, error) {
	for k, v := range obj {
		if s := schemaByURI(a.rt, k); s != nil {
			if scope != nil {
				continue // a schema inside a schema names no attribute
			}
			switch v := v.(type) {
			case map[string]any:
				// Entra ID's nested form: {"urn:…:enterprise:2.0:User": {"department": "d"}}.
				var err error
				if items, err = a.collect(s, v, items); err != nil {
					return nil, err
				}
			case nil:
				// null unassigns the extension's attributes (for replace;
				// add skips null values).
				if s != a.rt.Core {
					for _, t := range a.present(s) {
						items = append(items, item{t: t, key: t.name()})
					}
				}
			default:
				return nil, invalidValue("the value of %s must be an object of that schema's attributes", s.ID)
			}
			continue
		}
		path := k
		if scope != nil {
			path = scope.ID + ":" + k
		}
		t, f := resolve(a.rt, path)
		if f != nil {
			if f.unknown {
				continue // RFC 7644 §3.3: unknown attributes are ignored
			}
			return nil, f
		}
		items = append(items, item{t: t, value: v, key: path})
	}
	return items, nil
}

// target applies one operation to one resolved path. pathless says the
// value came from a path-less operation's object.
func (a *applier) target(kind string, t *target, value any, pathless bool) error {
	if kind == opAdd && value == nil {
		if pathless {
			return nil // {"x": null} adds nothing
		}
		return invalidValue("add needs a value")
	}
	readOnly := t.attr.Mutability == schemas.ReadOnly || t.leaf().Mutability == schemas.ReadOnly
	if readOnly && kind == opRemove {
		// RFC 7644 §3.5.2.2: removing a read-only attribute is a
		// mutability error.
		return mutability("%s is readOnly: it cannot be removed", t)
	}
	before := a.get(t)
	after, err := compute(kind, t, before, value)
	if err != nil {
		return err
	}
	if sameAttr(t.attr, before, after) {
		// Nothing changes, so nothing is violated: this is how Okta's
		// {"id": "<the id>", "displayName": …} passes.
		return nil
	}
	switch {
	case readOnly:
		return mutability("%s is readOnly: it cannot be changed", t)
	case t.attr.Mutability == schemas.Immutable && !unassigned(before):
		return mutability("%s is immutable: it cannot be changed once set", t.name())
	case t.attr.Required && unassigned(after):
		// RFC 7644 §3.5.2.2: an attribute that "becomes unassigned and is
		// defined as a required attribute" is a mutability error.
		return mutability("%s is required: it cannot be removed or emptied", t.name())
	}
	a.set(t, after)
	return nil
}

// compute returns the new value of t's top-level attribute.
func compute(kind string, t *target, before, value any) (any, error) {
	switch {
	case t.selects():
		return selected(kind, t, before, value)
	case t.attr.MultiValued:
		return multi(kind, t, before, value)
	case t.sub != nil:
		return subAttr(kind, t, before, value)
	case kind == opRemove || value == nil:
		// RFC 7644 §3.5.2.2: "the attribute and its associated value is
		// removed"; replacing with null unassigns too (RFC 7643 §2.5).
		return nil, nil
	case t.attr.Type == schemas.TypeComplex:
		// RFC 7644 §3.5.2.1 and §3.5.2.3 both merge into a complex
		// attribute: "Sub-attributes that are not specified in the value
		// parameter are left unchanged."
		m, err := merge(t.attr, t.name(), asMap(before), value, immutError)
		if m == nil || err != nil {
			return nil, err
		}
		return m, nil
	}
	return scalar(t.attr, t.name(), value)
}

// subAttr sets or removes a sub-attribute of a single-valued complex
// attribute (`name.givenName`, `urn:…:User:manager.value`); a complex value
// left with no sub-attribute is unassigned.
func subAttr(kind string, t *target, before, value any) (any, error) {
	var nv any
	if kind != opRemove {
		v, err := scalar(t.sub, t.subName(), value)
		if err != nil {
			return nil, err
		}
		nv = normalPrimary(t.sub, v)
	}
	m := maps.Clone(asMap(before))
	if m == nil {
		m = map[string]any{}
	}
	if old := m[t.sub.Name]; t.sub.Mutability == schemas.Immutable && !unassigned(old) && !sameValue(t.sub, old, nv) {
		return nil, mutability("%s is immutable: it cannot be changed once set", t.subName())
	}
	if nv == nil {
		delete(m, t.sub.Name)
	} else {
		m[t.sub.Name] = nv
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
