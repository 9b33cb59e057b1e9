package filter

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	ast "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/schemas"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string // the AST's String form
		wantErr bool
	}{
		{name: "eq", in: `userName eq "bjensen"`, want: `userName eq "bjensen"`},
		{name: "operator case", in: `UserName EQ "x"`, want: `UserName eq "x"`},
		{name: "pr", in: `title pr`, want: `title pr`},
		{name: "and binds tighter than or", in: `a eq "1" or b eq "2" and c eq "3"`, want: `a eq "1" or b eq "2" and c eq "3"`},
		{name: "parentheses", in: `(a eq "1" or b eq "2") and c pr`, want: `(a eq "1" or b eq "2") and c pr`},
		{name: "not", in: `not (a eq "1")`, want: `not(a eq "1")`},
		{name: "boolean", in: `active eq true`, want: `active eq true`},
		{name: "number", in: `n gt 12`, want: `n gt 12`},
		{name: "decimal", in: `n le -1.5e3`, want: `n le -1500`},
		{name: "largest int", in: `n lt 9223372036854775807`, want: `n lt 9223372036854775807`},
		{name: "smallest int", in: `n gt -9223372036854775808`, want: `n gt -9223372036854775808`},
		{name: "int beyond int64 is a float", in: `A gt 10000000000000000000`, want: `A gt 1e+19`},
		{name: "negative int beyond int64 is a float", in: `n lt -9223372036854775809`, want: `n lt -9.223372036854776e+18`},
		{name: "exact int beyond float precision", in: `n eq 9007199254740993`, want: `n eq 9007199254740993`},
		{name: "number out of float64 range", in: `n gt 1e400`, wantErr: true},
		{name: "null", in: `x eq null`, want: `x eq`},
		{name: "sub-attribute", in: `name.familyName co "O'Malley"`, want: `name.familyName co "O'Malley"`},
		{name: "urn", in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`, want: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x"`},
		{name: "value path", in: `emails[type eq "work" and value co "@example.com"]`, want: `emails[type eq "work" and value co "@example.com"]`},
		{name: "entra value path", in: `emails[type eq "work"].value eq "a@b.c"`, want: `emails[type eq "work" and value eq "a@b.c"]`},
		{name: "escaped quote", in: `userName eq "a\"b"`, want: `userName eq "a\"b"`},
		{name: "unicode escape", in: `userName eq "caf\u00e9"`, want: `userName eq "café"`},
		{name: "meta", in: `meta.lastModified gt "2011-05-13T04:42:34Z"`, want: `meta.lastModified gt "2011-05-13T04:42:34Z"`},
		{name: "attribute named not…", in: `notes eq "x"`, want: `notes eq "x"`},
		{name: "extra spaces", in: `  a  eq   "x"   and  b pr `, want: `a eq "x" and b pr`},
		{name: "empty", in: ``, wantErr: true},
		{name: "missing value", in: `a eq`, wantErr: true},
		{name: "unknown operator", in: `a is "x"`, wantErr: true},
		{name: "unterminated string", in: `a eq "x`, wantErr: true},
		{name: "unbalanced", in: `(a eq "x"`, wantErr: true},
		{name: "trailing garbage", in: `a eq "x" )`, wantErr: true},
		{name: "nested value path", in: `a[b[c eq "1"]]`, wantErr: true},
		{name: "bad name", in: `1a eq "x"`, wantErr: true},
		{name: "no space before operator", in: `a"x"`, wantErr: true},
		{name: "dangling and", in: `a pr and`, wantErr: true},
		{name: "bad urn", in: `foo:bar eq "x"`, wantErr: true},
		{name: "control char", in: "a eq \"x\x01\"", wantErr: true},
		{name: "deep nesting", in: deep(100), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err == nil && fmt.Sprint(got) != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func deep(n int) string {
	s := `a pr`
	for i := 0; i < n; i++ {
		s = "not (" + s + ")"
	}
	return s
}

func TestParsePath(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: `members[value eq "2819c223"]`, want: `members[value eq "2819c223"]`},
		{in: `emails[type eq "work"].value`, want: `emails[type eq "work"].value`},
		{in: `name.givenName`, want: `name.givenName`},
		{in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`, want: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`},
		{in: `members[value eq "x"`, wantErr: true},
		{in: ``, wantErr: true},
		{in: `a b`, wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParsePath(tt.in)
		if (err != nil) != tt.wantErr {
			t.Fatalf("ParsePath(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
		}
		if err == nil && got.String() != tt.want {
			t.Errorf("ParsePath(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// FuzzParse checks Parse never panics, and agrees with the reference parser
// (github.com/scim2/filter-parser) on every input both accept. The reference
// does not unescape strings, so inputs with backslashes are only checked for
// not panicking. More seeds are in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`userName eq "bjensen"`, `name.familyName co "O'Malley"`, `title pr and userType eq "Employee"`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`not (a eq "b")`, `meta.lastModified gt "2011-05-13T04:42:34Z"`, `a eq 12 or b ne false`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`, `(a pr or b pr) and c lt 1.5`,
		`A gt 10000000000000000000`, `n eq 9007199254740993`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s)
		if err != nil {
			return
		}
		for i := 0; i < len(s); i++ {
			if s[i] == '\\' || s[i] >= 0x80 {
				return
			}
		}
		// The reference's own number conversion goes through float64 and
		// wraps integers beyond int64; take its literal and convert it the
		// way Parse does.
		ref, refErr := ast.ParseFilterNumber([]byte(s))
		if refErr != nil {
			return // this parser is more lenient (e.g. Entra's value-path form)
		}
		if !reflect.DeepEqual(normal(got), normal(ref)) {
			t.Fatalf("Parse(%q) = %s; reference parser says %s", s, got, ref)
		}
	})
}

// normal renders an AST with operators lower-cased, for comparison.
func normal(e ast.Expression) string {
	switch e := e.(type) {
	case *ast.LogicalExpression:
		return "(" + normal(e.Left) + " " + string(e.Operator) + " " + normal(e.Right) + ")"
	case *ast.NotExpression:
		return "not(" + normal(e.Expression) + ")"
	case *ast.ValuePath:
		return e.AttributePath.String() + "[" + normal(e.ValueFilter) + "]"
	case *ast.AttributeExpression:
		return fmt.Sprintf("%s %s %#v", e.AttributePath.String(), e.Operator, refNumber(e.CompareValue))
	}
	return fmt.Sprintf("%T", e)
}

// refNumber converts a json.Number literal from the reference parser as Parse
// converts numbers: an integer literal that fits an int is an int, any other
// number the nearest float64. Other values are returned unchanged.
func refNumber(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	lit := string(n)
	if !strings.ContainsAny(lit, ".eE") {
		if i, err := strconv.Atoi(lit); err == nil {
			return i
		}
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil {
		return fmt.Sprintf("out-of-range number %s", lit) // Parse rejects these
	}
	return f
}

func BenchmarkParseUserName(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`userName eq "user12345@example.com"`); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCheck(t *testing.T) {
	cat := schemas.MustLoad()
	tests := []struct {
		name    string
		rt      *schemas.ResourceType
		in      string
		want    string
		wantErr bool
	}{
		{name: "case normalised", rt: cat.Users, in: `USERNAME eq "x"`, want: `userName eq "x"`},
		{name: "implicit value", rt: cat.Users, in: `emails co "example"`, want: `emails.value co "example"`},
		{name: "eq null", rt: cat.Users, in: `title eq null`, want: `not(title pr)`},
		{name: "ne null", rt: cat.Users, in: `title ne null`, want: `title pr`},
		{name: "string boolean", rt: cat.Users, in: `active eq "True"`, want: `active eq true`},
		{name: "extension", rt: cat.Users, in: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:Department eq "x"`, want: `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`},
		{name: "core urn dropped", rt: cat.Users, in: `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"`, want: `userName eq "x"`},
		{name: "value path", rt: cat.Users, in: `emails[TYPE eq "work" and value eq "a"]`, want: `emails[type eq "work" and value eq "a"]`},
		{name: "meta", rt: cat.Users, in: `meta.lastModified gt "2026-01-01T00:00:00Z"`, want: `meta.lastModified gt "2026-01-01T00:00:00Z"`},
		{name: "members", rt: cat.Groups, in: `members.value eq "x"`, want: `members.value eq "x"`},
		{name: "members implicit", rt: cat.Groups, in: `members eq "x"`, want: `members.value eq "x"`},
		{name: "unknown attribute", rt: cat.Users, in: `shoeSize eq "x"`, wantErr: true},
		{name: "unknown sub-attribute", rt: cat.Users, in: `name.nick eq "x"`, wantErr: true},
		{name: "complex without sub", rt: cat.Users, in: `name eq "x"`, wantErr: true},
		{name: "gt on boolean", rt: cat.Users, in: `active gt true`, wantErr: true},
		{name: "string on boolean", rt: cat.Users, in: `active eq "yes"`, wantErr: true},
		{name: "number on string", rt: cat.Users, in: `userName eq 1`, wantErr: true},
		{name: "bad date", rt: cat.Users, in: `meta.created gt "yesterday"`, wantErr: true},
		{name: "value path on single", rt: cat.Users, in: `name[givenName eq "x"]`, wantErr: true},
		{name: "unknown schema", rt: cat.Users, in: `urn:example:foo:bar eq "x"`, wantErr: true},
		{name: "gt null", rt: cat.Users, in: `title gt null`, wantErr: true},
		{name: "user attribute on group", rt: cat.Groups, in: `userName eq "x"`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Check(e, tt.rt)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Check(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if err != nil {
				var se *schemas.Error
				if !asError(err, &se) || se.ScimType != "invalidFilter" {
					t.Fatalf("error %v is not an invalidFilter *schemas.Error", err)
				}
				return
			}
			if fmt.Sprint(got) != tt.want {
				t.Errorf("Check(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

func asError(err error, target **schemas.Error) bool {
	e, ok := err.(*schemas.Error)
	*target = e
	return ok
}

func TestMatchElement(t *testing.T) {
	cat := schemas.MustLoad()
	emails := cat.User.Attr("emails")
	elem := map[string]any{"value": "Bob@Example.com", "type": "work", "primary": true}
	tests := []struct {
		filter string
		want   bool
	}{
		{`type eq "work"`, true},
		{`Type eq "WORK"`, true}, // type is caseExact=false
		{`value eq "bob@example.com"`, true},
		{`value sw "bob"`, true},
		{`value ew ".COM"`, true},
		{`value co "example"`, true},
		{`type eq "home"`, false},
		{`type eq "work" and value eq "x"`, false},
		{`type eq "home" or primary eq true`, true},
		{`not (type eq "home")`, true},
		{`display pr`, false},
		{`display ne "x"`, true},
		{`value gt "a"`, true},
		{`value lt "a"`, false},
	}
	for _, tt := range tests {
		e, err := Parse(tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		e, err = CheckValueFilter(e, emails)
		if err != nil {
			t.Fatalf("%s: %v", tt.filter, err)
		}
		if got := MatchElement(e, elem, emails); got != tt.want {
			t.Errorf("MatchElement(%s) = %v, want %v", tt.filter, got, tt.want)
		}
	}
}
