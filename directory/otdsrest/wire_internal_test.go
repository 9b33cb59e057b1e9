package otdsrest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/directory"
)

func TestCookie(t *testing.T) {
	tests := []struct {
		json    string
		want    cookie
		wantErr bool
	}{
		{json: `"JIHw2CLHSoeTOmo7Ng/bPw=="`, want: "JIHw2CLHSoeTOmo7Ng/bPw=="},
		{json: `null`, want: ""},
		{json: `""`, want: ""},
		{json: `["abc"]`, want: "abc"},
		{json: `["", "abc"]`, want: "abc"},
		{json: `[]`, want: ""},
		{json: `[1, 2, 255]`, want: "AQL/"},
		{json: `[-1]`, want: "/w=="},
		{json: `{"a":1}`, wantErr: true},
		{json: `[true]`, wantErr: true},
		{json: `12`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.json, func(t *testing.T) {
			var c cookie
			err := json.Unmarshal([]byte(tt.json), &c)
			if (err != nil) != tt.wantErr || c != tt.want {
				t.Errorf("cookie(%s) = %q, %v; want %q, error %v", tt.json, c, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestObjectAttrs(t *testing.T) {
	tests := []struct {
		name string
		json string
		want map[string][]string
	}{
		{name: "attributes map",
			json: `{"id":"a@P","name":"a","uuid":"U1","location":"oTPerson=U1,dc=x","userPartitionID":"P","objectClass":"oTPerson",
				"attributes":{"oTExternalID3":["a@x"],"accountDisabled":["false"]},"values":[]}`,
			want: map[string][]string{"otexternalid3": {"a@x"}, "accountdisabled": {"false"}, "entryuuid": {"U1"},
				"dn": {"oTPerson=U1,dc=x"}, "name": {"a"}, "id": {"a@P"}, "partition": {"P"}, "objectclass": {"oTPerson"}}},
		{name: "values list, loose value types",
			json: `{"id":"a@P","values":[{"name":"Mail","values":["a@x"]},{"name":"accountDisabled","values":[true]},
				{"name":"n","values":3},{"name":"gone","values":null}],"description":"d"}`,
			want: map[string][]string{"mail": {"a@x"}, "accountdisabled": {"true"}, "n": {"3"}, "gone": nil,
				"id": {"a@P"}, "description": {"d"}}},
		{name: "case variants merged, objectClass attribute kept",
			json: `{"id":"g","objectClass":"oTGroup","attributes":{"CN":["x"],"cn":["y"],"objectClass":["top","oTGroup"]}}`,
			want: map[string][]string{"cn": {"x", "y"}, "objectclass": {"top", "oTGroup"}, "id": {"g"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o object
			if err := json.Unmarshal([]byte(tt.json), &o); err != nil {
				t.Fatal(err)
			}
			if got := o.attrs(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("attrs = %v\nwant    %v", got, tt.want)
			}
		})
	}
}

func TestIndexResolve(t *testing.T) {
	x := newIndex()
	x.add(directory.Entry{Ref: "Sales@Corp", Attrs: map[string][]string{
		AttrDN:        {"oTGroup=0a1b,orgunit=groups,partition=Corp,dc=identity,dc=opentext,dc=net"},
		AttrEntryUUID: {"0A1B"},
	}})
	x.add(directory.Entry{Ref: "Old@Legacy", Attrs: map[string][]string{
		AttrDN: {`cn=Smith\, Old,ou=groups,ou=Root,ou=Legacy,ou=IdentityProviders,dc=identity,dc=opentext,dc=net`},
	}})
	tests := []struct {
		in   string
		want string
	}{
		{in: "Sales@Corp", want: "Sales@Corp"},
		{in: "oTGroup=0a1b,orgunit=groups,partition=Corp,dc=identity,dc=opentext,dc=net", want: "Sales@Corp"},
		{in: "OTGROUP=0A1B, orgunit=groups, partition=corp, DC=identity,dc=opentext,dc=net", want: "Sales@Corp"},
		{in: "oTGroup=0a1b,dc=identity,dc=opentext,dc=net", want: "Sales@Corp"},
		{in: "0a1b", want: "Sales@Corp"},
		{in: `cn=Smith\, Old,ou=groups,ou=Root,ou=Legacy,ou=IdentityProviders,dc=identity,dc=opentext,dc=net`, want: "Old@Legacy"},
		{in: "oTGroup=ffff,dc=identity,dc=opentext,dc=net"},
		{in: "cn=Smith"},
		{in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := x.resolve(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("resolve(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestDecodeMemberOf(t *testing.T) {
	tests := []struct {
		name     string
		json     string
		wantIDs  []string
		wantNext cookie
		wantErr  bool
	}{
		{name: "groups objects", json: `{"groups":[{"id":"A@P"},{"id":"B@P"}]}`, wantIDs: []string{"A@P", "B@P"}},
		{name: "bare array", json: `[{"id":"A@P"}]`, wantIDs: []string{"A@P"}},
		{name: "ids as strings", json: `{"groups":["A@P"]}`, wantIDs: []string{"A@P"}},
		{name: "paged", json: `{"groups":[],"nextPageCookie":["c"]}`, wantIDs: []string{}, wantNext: "c"},
		{name: "no list", json: `{"status":0}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			objs, next, err := decodeMemberOf(json.RawMessage(tt.json))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			ids := []string{}
			for _, o := range objs {
				ids = append(ids, o.ID)
			}
			if !tt.wantErr && (!reflect.DeepEqual(ids, tt.wantIDs) || next != tt.wantNext) {
				t.Errorf("ids %v next %q, want %v %q", ids, next, tt.wantIDs, tt.wantNext)
			}
		})
	}
}

func TestSeconds(t *testing.T) {
	tests := []struct {
		raw  string
		want int64
		ok   bool
	}{
		{raw: `3600`, want: 3600, ok: true},
		{raw: `"3600"`, want: 3600, ok: true},
		{raw: `2.5`, want: 2, ok: true},
		{raw: `null`},
		{raw: `"soon"`},
		{raw: ``},
	}
	for _, tt := range tests {
		got, ok := seconds(json.RawMessage(tt.raw))
		if got != tt.want || ok != tt.ok {
			t.Errorf("seconds(%s) = %d, %v; want %d, %v", tt.raw, got, ok, tt.want, tt.ok)
		}
	}
}

func TestShorten(t *testing.T) {
	long := strings.Repeat("é", maxMessage)
	got := shorten(long)
	if !utf8.ValidString(got) || len(got) > maxMessage+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("shorten gave %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if shorten("short") != "short" {
		t.Error("short text changed")
	}
}
