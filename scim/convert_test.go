package scim

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// fromMap is the JSON round trip convert.go replaces: json.Unmarshal of
// json.Marshal of m.
func fromMap(m map[string]any, v any) error {
	data, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}

// fill sets every JSON-visible field of v to a random value (empty values
// included), so that a field added to schemas.User or schemas.Group shows
// up in the comparisons below whatever its type.
func fill(t *testing.T, v reflect.Value, rnd *rand.Rand, depth int) {
	switch v.Kind() {
	case reflect.String:
		if rnd.IntN(4) > 0 {
			v.SetString([]string{"x", "Work", "00000000-0000-4000-8000-000000000001", "é ü"}[rnd.IntN(4)])
		}
	case reflect.Bool:
		v.SetBool(rnd.IntN(2) == 0)
	case reflect.Pointer:
		if rnd.IntN(4) > 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(t, v.Elem(), rnd, depth+1)
		}
	case reflect.Slice:
		n := rnd.IntN(4) - 1 // -1: nil
		if n >= 0 {
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fill(t, v.Index(i), rnd, depth+1)
			}
		}
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(rnd.Int64N(4e9), rnd.Int64N(1e9)).UTC()))
			return
		}
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() || f.Tag.Get("json") == "-" {
				continue
			}
			fill(t, v.Field(i), rnd, depth+1)
		}
	default:
		t.Fatalf("fill: a field of kind %s (%s): teach fill and convert.go about it", v.Kind(), v.Type())
	}
}

// TestConvertMatchesJSON checks the hand-written conversions give what a
// JSON round trip gives: userToAttrs/groupToAttrs against json.Marshal
// decoded with UseNumber, userFromAttrs/groupFromAttrs against
// json.Unmarshal (without the read-only attributes and id, which the
// handlers set, and the manager's $ref, which the front builds).
func TestConvertMatchesJSON(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		var u schemas.User
		fill(t, reflect.ValueOf(&u).Elem(), rnd, 0)
		want, err := toMap(&u)
		if err != nil {
			t.Fatal(err)
		}
		got := userToAttrs(&u)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("user %d: userToAttrs\n got %#v\nwant %#v", i, got, want)
		}
		var back schemas.User
		if err := fromMap(want, &back); err != nil {
			t.Fatal(err)
		}
		back.ID, back.Groups, back.HubSpot = "", nil, nil
		if back.Enterprise != nil && back.Enterprise.Manager != nil {
			back.Enterprise.Manager.Ref = "" // built by the front
		}
		u2, err := userFromAttrs(want)
		if err != nil {
			t.Fatalf("user %d: userFromAttrs: %v", i, err)
		}
		if !reflect.DeepEqual(*u2, back) {
			t.Fatalf("user %d: userFromAttrs\n got %+v\nwant %+v", i, *u2, back)
		}

		var g schemas.Group
		fill(t, reflect.ValueOf(&g).Elem(), rnd, 0)
		gwant, err := toMap(&g)
		if err != nil {
			t.Fatal(err)
		}
		if got := groupToAttrs(&g); !reflect.DeepEqual(got, gwant) {
			t.Fatalf("group %d: groupToAttrs\n got %#v\nwant %#v", i, got, gwant)
		}
		var gback schemas.Group
		if err := fromMap(gwant, &gback); err != nil {
			t.Fatal(err)
		}
		gback.ID, gback.MembersLoaded = "", true
		g2, err := groupFromAttrs(gwant)
		hasEmpty := false
		for j := range gback.Members {
			hasEmpty = hasEmpty || gback.Members[j].Value == ""
			gback.Members[j].Display, gback.Members[j].Ref = "", ""
		}
		if hasEmpty {
			if err == nil {
				t.Fatalf("group %d: a member without a value was accepted", i)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(*g2, gback) {
			t.Fatalf("group %d: groupFromAttrs %v\n got %+v\nwant %+v", i, err, g2, gback)
		}
	}
}

// TestConvertRefusesWhatJSONRefuses puts a value of the wrong type at every
// place of a user document and checks userFromAttrs refuses it exactly when
// json.Unmarshal does.
func TestConvertRefusesWhatJSONRefuses(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	var u schemas.User
	for u.Name == nil || u.Enterprise == nil || u.Enterprise.Manager == nil || len(u.Emails) == 0 || len(u.Addresses) == 0 {
		u = schemas.User{}
		fill(t, reflect.ValueOf(&u).Elem(), rnd, 0)
	}
	u.Groups, u.HubSpot, u.ID = nil, nil, ""
	base := userToAttrs(&u)
	var paths [][]string
	var walk func(m map[string]any, at []string)
	walk = func(m map[string]any, at []string) {
		for k, v := range m {
			p := append(append([]string(nil), at...), k)
			paths = append(paths, p)
			switch v := v.(type) {
			case map[string]any:
				walk(v, p)
			case []any:
				if e, ok := v[0].(map[string]any); ok {
					walk(e, append(p, "0"))
				}
			}
		}
	}
	walk(base, nil)
	refused := 0
	for _, p := range paths {
		for _, bad := range []any{json.Number("1"), "s", true, map[string]any{}, []any{}, []any{"s"}, nil} {
			doc, _ := toMap(&u) // a fresh copy
			set(doc, p, bad)
			var viaJSON schemas.User
			jsonErr := fromMap(doc, &viaJSON)
			_, err := userFromAttrs(doc)
			if (jsonErr == nil) != (err == nil) {
				t.Errorf("%s = %#v: json.Unmarshal says %v, userFromAttrs %v", strings.Join(p, "."), bad, jsonErr, err)
			}
			if err != nil {
				refused++
			}
		}
	}
	if len(paths) < 20 || refused < len(paths) {
		t.Fatalf("%d paths, %d refusals: the document is too small to test anything", len(paths), refused)
	}
}

func set(m map[string]any, p []string, v any) {
	for i, k := range p[:len(p)-1] {
		if k == "0" {
			continue
		}
		next := m[k]
		if l, ok := next.([]any); ok && i+1 < len(p) && p[i+1] == "0" {
			next = l[0]
		}
		m = next.(map[string]any)
	}
	m[p[len(p)-1]] = v
}

// BenchmarkConvert compares the conversions of convert.go with the JSON
// round trip they replace, on an Entra ID create (the validated attributes
// of the write benchmarks' user).
func BenchmarkConvert(b *testing.B) {
	cat := schemas.MustLoad()
	lt, err := newLibType(cat, cat.Users)
	if err != nil {
		b.Fatal(err)
	}
	m, err := decodeObject([]byte(benchConvertUser))
	if err != nil {
		b.Fatal(err)
	}
	if err := normalizeResource(m, cat.Users); err != nil {
		b.Fatal(err)
	}
	attrs, err := lt.validate(m)
	if err != nil {
		b.Fatal(err)
	}
	u, err := userFromAttrs(attrs)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fromAttrs/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var u schemas.User
			if err := fromMap(attrs, &u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("fromAttrs/direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := userFromAttrs(attrs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toAttrs/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := toMap(u); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("toAttrs/direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			userToAttrs(u)
		}
	})
}

const benchConvertUser = `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
"externalId":"ext-1","userName":"bench.user1@example.com","active":"True","displayName":"Bench User",
"title":"Engineer","preferredLanguage":"en-US","locale":"en-US","timezone":"Europe/Brussels",
"name":{"formatted":"Bench User","familyName":"User","givenName":"Bench"},
"emails":[{"primary":true,"type":"work","value":"bench.user@example.com"},{"type":"home","value":"bench@example.org"}],
"phoneNumbers":[{"type":"work","value":"+32 2 555 01 01"}],
"addresses":[{"type":"work","streetAddress":"Rue de la Loi 1","locality":"Brussels","postalCode":"1000","country":"BE","primary":true}],
"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"1234","department":"Sales","costCenter":"CC-7","manager":"00000000-0000-4000-8000-000000000001"}}`
