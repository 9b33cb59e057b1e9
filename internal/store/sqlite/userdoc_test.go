package sqlite

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/schemas"
)

// slowDoc decodes a document the way the fast path stands in for.
func slowDoc(t testing.TB, js []byte) (*schemas.User, error) {
	t.Helper()
	u := new(schemas.User)
	err := json.Unmarshal(js, &userDoc{User: u})
	return u, err
}

// fill sets every exported field reachable from v (strings, bools,
// pointers, slices of two elements) to a distinct non-zero value.
func fill(v reflect.Value, n *int) {
	switch v.Kind() {
	case reflect.String:
		*n++
		v.SetString("v" + string(rune('a'+*n%26)) + "é")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), n)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), n)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && v.Type().Field(i).Tag.Get("json") != "-" {
				fill(v.Field(i), n)
			}
		}
	}
}

// Every attribute of a stored document takes the fast path and decodes
// as encoding/json decodes it. A field added to schemas.User without the
// fast path knowing it fails here (it would be correct, through
// encoding/json, but slow).
func TestDecodeUserDocFast(t *testing.T) {
	var full schemas.User
	n := 0
	fill(reflect.ValueOf(&full).Elem(), &n)
	docs := []*schemas.User{&full, fullyPopulatedUser(), benchUser(7), {UserName: "bare"}}
	for _, u := range docs {
		c, err := encodeUser(u)
		if err != nil {
			t.Fatal(err)
		}
		want, err := slowDoc(t, c.doc)
		if err != nil {
			t.Fatal(err)
		}
		got := new(schemas.User)
		if !decodeUserDocFast(c.doc, got) {
			t.Errorf("fast path refused %s", c.doc)
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\nfast %+v\nwant %+v", c.doc, got, want)
		}
	}
	// What it does not handle goes to encoding/json.
	for _, js := range []string{
		`{"displayName":"a\"b"}`,
		`{"displayName":"\u00e9"}`,
		`{"displayName":"` + "\xff" + `"}`,
		`{"displayName": "a"}`,
		`{"displayname":"a"}`,
		`{"displayName":null}`,
		`{"emails":[]}`,
		`{"unknown":"a"}`,
		`{"active":1}`,
		`{"title":"a"}x`,
		`{"title":"a"`,
		`[]`,
		``,
	} {
		if decodeUserDocFast([]byte(js), new(schemas.User)) {
			t.Errorf("fast path took %q", js)
		}
	}
}

// FuzzDecodeUserDoc: whenever the fast path accepts a document, it agrees
// with encoding/json.
func FuzzDecodeUserDoc(f *testing.F) {
	for _, u := range []*schemas.User{fullyPopulatedUser(), benchUser(1)} {
		c, err := encodeUser(u)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(c.doc)
	}
	f.Add([]byte(`{"name":{"givenName":"é"},"active":false,"emails":[{"value":"x","primary":true}]}`))
	f.Fuzz(func(t *testing.T, js []byte) {
		got := new(schemas.User)
		if !decodeUserDocFast(js, got) {
			return
		}
		want, err := slowDoc(t, js)
		if err != nil {
			t.Fatalf("fast path took %q, encoding/json says %v", js, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\nfast %+v\nwant %+v", js, got, want)
		}
	})
}

// BenchmarkDecodeUserDoc compares the fast path with encoding/json on a
// benchmark user's document.
func BenchmarkDecodeUserDoc(b *testing.B) {
	c, err := encodeUser(benchUser(42))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if !decodeUserDocFast(c.doc, new(schemas.User)) {
				b.Fatal("refused")
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := slowDoc(b, c.doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}
