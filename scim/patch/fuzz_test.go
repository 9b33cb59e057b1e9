package patch

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/schemas"
)

// FuzzApply decodes arbitrary PatchOp bodies and applies them to arbitrary
// documents. Apply must not panic; every error must be a *schemas.Error
// with a known code and a scimType; a failed Apply must leave the document
// as it was; a successful one must report every attribute whose value it
// changed, and change nothing that is not an attribute.
//
//	go test ./scim/patch -run X -fuzz FuzzApply -fuzztime 60s
func FuzzApply(f *testing.F) {
	for _, c := range allCases() {
		if c.raw != nil {
			continue
		}
		kind := uint8(0)
		switch c.rt {
		case "group":
			kind = 1
		case "thing":
			kind = 2
		}
		f.Add(string(body(c.ops)), c.doc, kind)
	}
	f.Add(`{"Operations":[{"op":"add","path":"emails","value":"x"}]}`, `{"emails":"not a list","name":"not an object"}`, uint8(0))
	f.Add(`{"Operations":[{"op":"remove","path":"members[value eq \"u1\"].type"}]}`, `{"members":[1,"two",null,{"value":"u1","type":"User"}]}`, uint8(1))
	f.Add(`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":1}}}]}`, `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}`, uint8(0))

	cat := schemas.MustLoad()
	f.Fuzz(func(t *testing.T, body, doc string, kind uint8) {
		ops, err := Decode([]byte(body))
		if err != nil {
			checkError(t, err)
			return
		}
		rt, base := cat.Users, baseUser
		switch kind % 3 {
		case 1:
			rt, base = cat.Groups, baseGroup
		case 2:
			rt, base = thingRT(), "{}"
		}
		d, ok := fuzzDoc(doc)
		if !ok {
			d, _ = fuzzDoc(base)
		}
		before, _ := fuzzDoc(mustJSON(t, d))
		changed, err := Apply(rt, d, ops)
		if err != nil {
			checkError(t, err)
			if mustJSON(t, d) != mustJSON(t, before) {
				t.Fatalf("document changed by a failed Apply:\n got %s\nwant %s", mustJSON(t, d), mustJSON(t, before))
			}
			return
		}
		checkChanged(t, rt, before, d, changed)
		// The result must itself be a document Apply can work on.
		if _, err := Apply(rt, d, ops); err != nil {
			checkError(t, err)
		}
	})
}

func fuzzDoc(s string) (map[string]any, bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if dec.Decode(&m) != nil || m == nil {
		return nil, false
	}
	return m, true
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("document no longer marshals: %v", err)
	}
	return string(b)
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var se *schemas.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v is a %T, not a *schemas.Error", err, err)
	}
	if se.Code != schemas.EINVALID && se.Code != schemas.EMUTABILITY {
		t.Fatalf("error code %q: %v", se.Code, err)
	}
	if se.ScimType == "" || se.Message == "" {
		t.Fatalf("error without scimType or message: %#v", se)
	}
}

// checkChanged verifies that every attribute whose value differs between
// before and after is listed in changed (or holds the same elements in
// another order), that changed has no duplicates and lists only changed
// attributes, and that no key other than attributes and "schemas" moved.
func checkChanged(t *testing.T, rt *schemas.ResourceType, before, after map[string]any, changed []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range changed {
		if seen[c] {
			t.Fatalf("changed lists %q twice: %q", c, changed)
		}
		seen[c] = true
	}
	differs := map[string]bool{}
	check := func(name string, a *schemas.Attribute, x, y any) {
		if a == nil {
			if mustJSON(t, x) != mustJSON(t, y) {
				t.Fatalf("non-attribute key %s changed: %s -> %s", name, mustJSON(t, x), mustJSON(t, y))
			}
			return
		}
		if !sameAttr(a, x, y) {
			differs[name] = true
			if !seen[name] {
				t.Fatalf("%s changed (%s -> %s) but changed = %q", name, mustJSON(t, x), mustJSON(t, y), changed)
			}
		}
	}
	keys := map[string]bool{}
	for k := range before {
		keys[k] = true
	}
	for k := range after {
		keys[k] = true
	}
	for k := range keys {
		if k == "schemas" {
			continue
		}
		if ext := rt.Extension(k); ext != nil {
			bx, ax := asMap(before[k]), asMap(after[k])
			if _, isMap := before[k].(map[string]any); !isMap && before[k] != nil && !seenPrefix(seen, ext.ID) {
				check(k, nil, before[k], after[k])
				continue
			}
			inner := map[string]bool{}
			for n := range bx {
				inner[n] = true
			}
			for n := range ax {
				inner[n] = true
			}
			for n := range inner {
				check(ext.ID+":"+n, ext.Attr(n), bx[n], ax[n])
			}
			continue
		}
		a := rt.Core.Attr(k)
		if a == nil {
			a = schemas.CommonAttribute(k)
		}
		check(k, a, before[k], after[k])
	}
	for _, c := range changed {
		if !differs[c] {
			t.Fatalf("changed lists %q, whose value did not change", c)
		}
	}
	if slices.Contains(changed, "") {
		t.Fatalf("empty name in changed")
	}
}

func seenPrefix(seen map[string]bool, prefix string) bool {
	for k := range seen {
		if strings.HasPrefix(k, prefix+":") {
			return true
		}
	}
	return false
}
