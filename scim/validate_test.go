package scim

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	lib "github.com/elimity-com/scim"
	libfilter "github.com/elimity-com/scim/filter"
	ast "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
	"github.com/scimbridge/scimbridge/scim/filter"
)

var patchSeeds = []string{
	`{"Operations":[{"op":"Replace","path":"title","value":"x"}]}`,
	`{"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"a@b"}]}`,
	`{"Operations":[{"op":"remove","path":"emails[type eq \"work\"]"}]}`,
	`{"Operations":[{"op":"remove"}]}`,
	`{"Operations":[{"op":"replace","value":{"title":"T","name.givenName":"G","active":"False"}}]}`,
	`{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"E","manager":"x"}}}]}`,
	`{"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"E"}}]}`,
	`{"Operations":[{"op":"replace","value":{"id":"x","ID":"y"}}]}`,
	`{"Operations":[{"op":"replace","value":{"emails[type eq \"work\"].value":"z@x.com"}}]}`,
	`{"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"m"}]}`,
	`{"Operations":[{"op":"replace","path":"name","value":{"givenName":5}}]}`,
	`{"Operations":[{"op":"replace","path":"groups","value":[{"value":"x"}]}]}`,
	`{"Operations":[{"op":"replace","path":"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User:role","value":"x"}]}`,
	`{"Operations":[{"op":"add","path":"emails[primary gt true].display","value":"d"}]}`,
	`{"Operations":[{"op":"add","path":"roles","value":[{"value":"r1"},{"value":"r2","primary":"True"}]}]}`,
	`{"Operations":[{"op":"replace","path":"bogus","value":"x"},{"op":"bogus","path":"title","value":1}]}`,
	`{"Operations":[{"op":"replace","path":"externalId","value":1}]}`,
	`{"Operations":[{"op":"remove","path":"addresses[type eq \"work\"].locality","value":"x"}]}`,
	`{"Operations":[{"op":"add","value":{"":"x","title":"t"}}]}`,
	`{"Operations":[{"op":"add","value":{"id":"i","":"x"}}]}`,
	`{"Operations":[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"":"x"}}}]}`,
}

// nopHandler answers every library callback with nothing: a PATCH that
// passes the library's validation gets 204.
type nopHandler struct{}

func (nopHandler) Create(*http.Request, lib.ResourceAttributes) (lib.Resource, error) {
	return lib.Resource{}, nil
}
func (nopHandler) Get(*http.Request, string) (lib.Resource, error) { return lib.Resource{}, nil }
func (nopHandler) GetAll(*http.Request, lib.ListRequestParams) (lib.Page, error) {
	return lib.Page{}, nil
}
func (nopHandler) Replace(*http.Request, string, lib.ResourceAttributes) (lib.Resource, error) {
	return lib.Resource{}, nil
}
func (nopHandler) Delete(*http.Request, string) error { return nil }
func (nopHandler) Patch(*http.Request, string, []lib.PatchOperation) (lib.Resource, error) {
	return lib.Resource{}, nil
}

// FuzzPatchCheck holds validatePatch to the library's own PATCH
// validation, run by the library's HTTP server on the same normalised body:
// the same operations pass, the others fail with the same status and
// scimType. Paths are read with the library's parser here, as the library
// does; FuzzPatchPath compares the parsers.
//
//	go test ./scim -run '^$' -fuzz FuzzPatchCheck -fuzztime 60s
func FuzzPatchCheck(f *testing.F) {
	for _, s := range patchSeeds {
		f.Add(s)
	}
	cat := schemas.MustLoad()
	lt, err := newLibType(cat, cat.Users)
	if err != nil {
		f.Fatal(err)
	}
	lt.parsePath = func(s string) (ast.Path, error) { return ast.ParsePath([]byte(s)) }
	var exts []lib.SchemaExtension
	for _, e := range lt.exts {
		exts = append(exts, lib.SchemaExtension{Schema: e})
	}
	srv, err := lib.NewServer(&lib.ServerArgs{
		ServiceProviderConfig: &lib.ServiceProviderConfig{},
		ResourceTypes: []lib.ResourceType{{
			Name: "User", Endpoint: "/Users", Schema: lt.schema, SchemaExtensions: exts, Handler: nopHandler{},
		}},
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		m, err := decodeObject([]byte(body))
		if err != nil {
			return
		}
		ops, err := normalizePatch(m, cat.Users)
		if err != nil {
			return
		}
		data, err := json.Marshal(m)
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest("PATCH", "/Users/x", strings.NewReader(string(data))))
		var libErr struct{ ScimType, Status string }
		_ = json.Unmarshal(rec.Body.Bytes(), &libErr)

		err = lt.validatePatch(ops)
		switch {
		case rec.Code == http.StatusNoContent && err == nil:
		case rec.Code == http.StatusNoContent:
			t.Fatalf("%s: the library accepts it, validatePatch says %v", data, err)
		case err == nil:
			t.Fatalf("%s: the library answers %d %s, validatePatch accepts it", data, rec.Code, rec.Body)
		default:
			ae := err.(*apiError)
			// With several faults the first found depends on map order,
			// in the library and here alike: compare scimTypes only when
			// the operations hold one path-less value of one key.
			if ae.Status != rec.Code || (ae.ScimType != libErr.ScimType && simple(ops)) {
				t.Fatalf("%s: the library answers %d %s, validatePatch %d %s", data, rec.Code, rec.Body, ae.Status, ae.ScimType)
			}
		}
	})
}

// simple reports whether the outcome of validating ops cannot depend on
// map order: one operation whose value, if an object, has at most one key
// (recursively).
func simple(ops []any) bool {
	if len(ops) != 1 {
		return false
	}
	var small func(v any) bool
	small = func(v any) bool {
		switch v := v.(type) {
		case map[string]any:
			if len(v) > 1 {
				return false
			}
			for _, x := range v {
				return small(x)
			}
		case []any:
			for _, x := range v {
				if !small(x) {
					return false
				}
			}
		}
		return true
	}
	return small(ops[0].(map[string]any)["value"])
}

// FuzzPatchPath compares reading a PATCH path with readPath and with the
// library's parser, checked by the library's rules (validPath, and the
// library's PathValidator): every path the library accepts is accepted, as
// the same AST; and validPath agrees with the PathValidator.
func FuzzPatchPath(f *testing.F) {
	for _, s := range []string{`title`, `emails[type eq "work"].value`, `members[value eq "x"]`, `name.givenName`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, `urn:ietf:params:scim:schemas:core:2.0:User:emails[primary eq true]`,
		`addresses[type eq "work" and primary eq true].locality`, `emails[value gt 5]`, `roles[value pr]`, `emails[primary gt true]`} {
		f.Add(s)
	}
	cat := schemas.MustLoad()
	lt, err := newLibType(cat, cat.Users)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pv, err := libfilter.NewPathValidator(s, lt.core, lt.exts...)
		libOK := err == nil && pv.Validate() == nil
		p, err := readPath(s)
		ownOK := err == nil && lt.validPath(p)
		if libOK && !ownOK {
			t.Fatalf("%q: the library accepts it, readPath with validPath does not (%v)", s, err)
		}
		if libOK && p.String() != pv.Path().String() {
			t.Fatalf("%q: readPath reads %s, the library %s", s, p, pv.Path())
		}
		if err == nil && !libOK && lt.validPath(p) {
			if ref, rerr := ast.ParsePath([]byte(s)); rerr == nil && lt.validPath(ref) {
				t.Fatalf("%q: the library's parser and validPath accept it, its PathValidator does not", s)
			}
		}
	})
}

// BenchmarkPatchPath compares reading and checking a PATCH path with the
// library's parser (filter.NewPathValidator, github.com/scim2/filter-parser)
// and with scim/filter's parser feeding the library's checks (validPath).
func BenchmarkPatchPath(b *testing.B) {
	cat := schemas.MustLoad()
	lt, err := newLibType(cat, cat.Users)
	if err != nil {
		b.Fatal(err)
	}
	for _, path := range []string{`title`, `emails[type eq "work"].value`} {
		b.Run("library/"+path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				pv, err := libfilter.NewPathValidator(path, lt.core, lt.exts...)
				if err != nil || pv.Validate() != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("own/"+path, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := filter.ParsePath(path)
				if err != nil || !lt.validPath(p) {
					b.Fatal(err)
				}
			}
		})
	}
}
