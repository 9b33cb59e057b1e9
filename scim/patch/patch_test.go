package patch

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/schemas"
)

// applyCase is one Apply table test. The document starts as doc (default:
// baseUser, baseGroup or {} by resource type); ops is a JSON array of
// operations or a whole PatchOp body, read with Decode; raw bypasses
// Decode. want gives the expected JSON of top-level keys ("" = absent);
// every other key must be left as it was. On error the whole document must
// be left as it was.
type applyCase struct {
	name    string
	rt      string // "user" (default), "group", "thing"
	doc     string
	ops     string
	raw     []Operation
	want    map[string]string
	changed []string
	wantErr string // scimType
	errHas  string // a substring of the error message
}

func TestApply(t *testing.T) {
	tests := allCases()
	cat := schemas.MustLoad()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runCase(t, cat, tt) })
	}
}

// allCases gathers every Apply table; the fuzz target seeds from it too.
func allCases() []applyCase {
	var all []applyCase
	for _, group := range []func() []applyCase{
		opCases, nameCases, extensionCases, unknownCases, mutabilityCases,
		pathlessCases, simpleCases, typeCases, complexCases, multiCases,
		filterCases, primaryCases, changedCases, idpCases,
	} {
		all = append(all, group()...)
	}
	return all
}

func runCase(t *testing.T, cat *schemas.Catalog, tt applyCase) {
	rt, doc := cat.Users, tt.doc
	switch tt.rt {
	case "group":
		rt = cat.Groups
		if doc == "" {
			doc = baseGroup
		}
	case "thing":
		rt = thingRT()
		if doc == "" {
			doc = "{}"
		}
	default:
		if doc == "" {
			doc = baseUser
		}
	}
	ops := tt.raw
	if ops == nil {
		var err error
		ops, err = Decode(body(tt.ops))
		if err != nil {
			t.Fatalf("Decode: %v", err)
		}
	}
	d := decodeDoc(t, doc)
	initial := decodeDoc(t, doc)
	changed, err := Apply(rt, d, ops)
	if tt.wantErr != "" {
		if err == nil {
			t.Fatalf("Apply succeeded (changed %v, doc %s), want %s error", changed, canon(t, d), tt.wantErr)
		}
		if got := scimType(t, err); got != tt.wantErr {
			t.Errorf("scimType %q, want %q (%v)", got, tt.wantErr, err)
		}
		if !strings.HasPrefix(err.Error(), "Operations[") {
			t.Errorf("message %q does not name the operation", err)
		}
		if tt.errHas != "" && !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("message %q does not contain %q", err, tt.errHas)
		}
		if canon(t, d) != canon(t, initial) {
			t.Errorf("document changed on error:\n got %s\nwant %s", canon(t, d), canon(t, initial))
		}
		return
	}
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !sameStrings(changed, tt.changed) {
		t.Errorf("changed = %q, want %q", changed, tt.changed)
	}
	for k, w := range tt.want {
		v, ok := d[k]
		switch {
		case w == "" && ok:
			t.Errorf("%s = %s, want absent", k, canon(t, v))
		case w != "" && !ok:
			t.Errorf("%s absent, want %s", k, compactJSON(w))
		case w != "" && canon(t, v) != canonJSON(t, w):
			t.Errorf("%s =\n %s\nwant\n %s", k, canon(t, v), canonJSON(t, w))
		}
	}
	for k, v := range initial {
		if _, listed := tt.want[k]; listed {
			continue
		}
		if canon(t, d[k]) != canon(t, v) {
			t.Errorf("%s changed to %s, want unchanged %s", k, canon(t, d[k]), canon(t, v))
		}
	}
	for k, v := range d {
		if _, listed := tt.want[k]; !listed {
			if _, was := initial[k]; !was {
				t.Errorf("unexpected new key %s = %s", k, canon(t, v))
			}
		}
	}
}

func opCases() []applyCase {
	return []applyCase{
		{name: "op add lower case", ops: `[{"op":"add","path":"nickName","value":"Babs2"}]`,
			want: map[string]string{"nickName": `"Babs2"`}, changed: []string{"nickName"}},
		{name: "op Add capitalised", ops: `[{"op":"Add","path":"nickName","value":"Babs2"}]`,
			want: map[string]string{"nickName": `"Babs2"`}, changed: []string{"nickName"}},
		{name: "op REPLACE upper case", ops: `[{"op":"REPLACE","path":"title","value":"Boss"}]`,
			want: map[string]string{"title": `"Boss"`}, changed: []string{"title"}},
		{name: "op Remove capitalised", ops: `[{"op":"Remove","path":"title"}]`,
			want: map[string]string{"title": ""}, changed: []string{"title"}},
		{name: "op unknown", raw: []Operation{{Op: "move", Path: "title", Value: "x"}}, wantErr: "invalidSyntax", errHas: "Operations[0]"},
		{name: "op error names index", raw: []Operation{{Op: "add", Path: "title", Value: "x"}, {Op: "copy"}}, wantErr: "invalidSyntax", errHas: "Operations[1]"},
		{name: "no operations", raw: []Operation{}},
	}
}

func nameCases() []applyCase {
	return []applyCase{
		{name: "path attribute case-insensitive", ops: `[{"op":"replace","path":"DisplayName","value":"B"}]`,
			want: map[string]string{"displayName": `"B"`}, changed: []string{"displayName"}},
		{name: "path sub-attribute case-insensitive", ops: `[{"op":"replace","path":"NAME.GIVENNAME","value":"Barb"}]`,
			want: map[string]string{"name": `{"givenName":"Barb","familyName":"Jensen"}`}, changed: []string{"name"}},
		{name: "value keys case-insensitive and canonicalised", ops: `[{"op":"replace","value":{"DISPLAYNAME":"B","Name":{"GivenName":"Barb","FAMILYNAME":"J"}}}]`,
			want:    map[string]string{"displayName": `"B"`, "name": `{"givenName":"Barb","familyName":"J"}`},
			changed: []string{"name", "displayName"}},
		{name: "sub-attribute keys canonicalised in elements", ops: `[{"op":"add","path":"emails","value":{"VALUE":"x@example.com","Type":"other"}}]`,
			want: map[string]string{"emails": `[
				{"value":"bjensen@example.com","type":"work","primary":true},
				{"value":"babs@home.example","type":"home"},
				{"value":"x@example.com","type":"other"}]`},
			changed: []string{"emails"}},
		{name: "core schema URI prefix", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:displayName","value":"B"}]`,
			want: map[string]string{"displayName": `"B"`}, changed: []string{"displayName"}},
		{name: "core schema URI prefix with sub-attribute", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName","value":"J"}]`,
			want: map[string]string{"name": `{"givenName":"Barbara","familyName":"J"}`}, changed: []string{"name"}},
		{name: "core schema URI in upper case", ops: `[{"op":"replace","path":"URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:displayName","value":"B"}]`,
			want: map[string]string{"displayName": `"B"`}, changed: []string{"displayName"}},
	}
}

func extensionCases() []applyCase {
	return []applyCase{
		{name: "extension attribute replace", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Sales"}]`,
			want:    map[string]string{entURI: `{"department":"Sales","employeeNumber":"701984","manager":{"value":"m1"}}`},
			changed: []string{entURI + ":department"}},
		{name: "extension URI case-insensitive", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:ENTERPRISE:2.0:User:Department","value":"Sales"}]`,
			want:    map[string]string{entURI: `{"department":"Sales","employeeNumber":"701984","manager":{"value":"m1"}}`},
			changed: []string{entURI + ":department"}},
		{name: "extension sub-attribute manager.value", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m2"}]`,
			want:    map[string]string{entURI: `{"department":"Tour Operations","employeeNumber":"701984","manager":{"value":"m2"}}`},
			changed: []string{entURI + ":manager"}},
		{name: "extension manager readOnly displayName ignored in value", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"value":"m2","displayName":"Boss"}}]`,
			want:    map[string]string{entURI: `{"department":"Tour Operations","employeeNumber":"701984","manager":{"value":"m2"}}`},
			changed: []string{entURI + ":manager"}},
		{name: "extension manager.displayName path is readOnly", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName","value":"Boss"}]`,
			wantErr: "mutability"},
		{name: "extension object created when needed", doc: `{"id":"u1","userName":"x"}`,
			ops:     `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"d"}]`,
			want:    map[string]string{entURI: `{"department":"d"}`},
			changed: []string{entURI + ":department"}},
		{name: "extension object dropped when empty", doc: `{"id":"u1","userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}`,
			ops:     `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]`,
			want:    map[string]string{entURI: ""},
			changed: []string{entURI + ":department"}},
		{name: "schemas array gains the extension", doc: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"x"}`,
			ops: `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"d"}]`,
			want: map[string]string{entURI: `{"department":"d"}`,
				"schemas": `["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]`},
			changed: []string{entURI + ":department"}},
		{name: "schemas array loses the extension", doc: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"id":"u1","userName":"x","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}`,
			ops:     `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]`,
			want:    map[string]string{entURI: "", "schemas": `["urn:ietf:params:scim:schemas:core:2.0:User"]`},
			changed: []string{entURI + ":department"}},
		{name: "removing manager.value drops manager", ops: `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"}]`,
			want:    map[string]string{entURI: `{"department":"Tour Operations","employeeNumber":"701984"}`},
			changed: []string{entURI + ":manager"}},
		{name: "path is the extension URI: replace merges its attributes", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":{"department":"d2","costCenter":"c"}}]`,
			want:    map[string]string{entURI: `{"department":"d2","costCenter":"c","employeeNumber":"701984","manager":{"value":"m1"}}`},
			changed: []string{entURI + ":costCenter", entURI + ":department"}},
		{name: "path is the extension URI: remove removes the extension", ops: `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}]`,
			want:    map[string]string{entURI: ""},
			changed: []string{entURI + ":employeeNumber", entURI + ":department", entURI + ":manager"}},
		{name: "path is the extension URI: value must be an object", ops: `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User","value":"x"}]`,
			wantErr: "invalidValue"},
		{name: "path is the core URI: cannot remove", ops: `[{"op":"remove","path":"urn:ietf:params:scim:schemas:core:2.0:User"}]`,
			wantErr: "invalidPath"},
		{name: "path is the core URI: value applies to its attributes", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User","value":{"displayName":"B"}}]`,
			want: map[string]string{"displayName": `"B"`}, changed: []string{"displayName"}},
		{name: "hubspot extension is readOnly: replace", ops: `[{"op":"replace","path":"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User:role","value":"user"}]`,
			wantErr: "mutability"},
		{name: "hubspot extension is readOnly: remove", ops: `[{"op":"remove","path":"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User"}]`,
			wantErr: "mutability"},
		{name: "hubspot extension is readOnly: path-less", ops: `[{"op":"add","value":{"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User":{"superAdmin":true}}}]`,
			wantErr: "mutability"},
		{name: "hubspot extension unchanged value passes", ops: `[{"op":"replace","path":"urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User:role","value":"admin"}]`},
		{name: "extension path on a group", rt: "group", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"d"}]`,
			wantErr: "invalidPath"},
	}
}

func unknownCases() []applyCase {
	return []applyCase{
		{name: "unknown attribute in path", ops: `[{"op":"replace","path":"favouriteColour","value":"x"}]`, wantErr: "invalidPath", errHas: "favouriteColour"},
		{name: "unknown sub-attribute in path", ops: `[{"op":"replace","path":"name.nick","value":"x"}]`, wantErr: "invalidPath"},
		{name: "unknown schema in path", ops: `[{"op":"replace","path":"urn:example:ext:1.0:User:colour","value":"x"}]`, wantErr: "invalidPath"},
		{name: "unknown extension attribute in path", ops: `[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:colour","value":"x"}]`, wantErr: "invalidPath"},
		{name: "sub-attribute of a simple attribute", ops: `[{"op":"replace","path":"displayName.value","value":"x"}]`, wantErr: "invalidPath"},
		{name: "malformed path", ops: `[{"op":"replace","path":"emails[type eq \"work\"","value":"x"}]`, wantErr: "invalidPath"},
		{name: "path of spaces and garbage", ops: `[{"op":"remove","path":"  )( "}]`, wantErr: "invalidPath"},
		{name: "unknown keys in a path-less value are ignored", ops: `[{"op":"replace","value":{
				"favouriteColour":"x","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
				"urn:example:ext:1.0:User:colour":"y","urn:example:ext:1.0:User":{"a":1},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:colour":"z",
				"name.nick":"n","$ref":"r","":"e",
				"displayName":"B","name":{"givenName":"Barb","nick":"x"}}}]`,
			want:    map[string]string{"displayName": `"B"`, "name": `{"givenName":"Barb","familyName":"Jensen"}`},
			changed: []string{"name", "displayName"}},
		{name: "unknown keys inside a complex value are ignored", ops: `[{"op":"add","path":"emails","value":{"value":"x@example.com","type":"other","verified":true}}]`,
			want: map[string]string{"emails": `[
				{"value":"bjensen@example.com","type":"work","primary":true},
				{"value":"babs@home.example","type":"home"},
				{"value":"x@example.com","type":"other"}]`},
			changed: []string{"emails"}},
		{name: "a bad filter in a path-less key is reported", ops: `[{"op":"replace","value":{"emails[colour eq \"x\"].value":"y"}}]`, wantErr: "invalidFilter"},
	}
}

func mutabilityCases() []applyCase {
	return []applyCase{
		{name: "Okta rename with the group's id in the value", rt: "group",
			ops:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"g1","displayName":"new"}}]}`,
			want: map[string]string{"displayName": `"new"`}, changed: []string{"displayName"}},
		{name: "a different id in the value", rt: "group", ops: `[{"op":"replace","value":{"id":"g2","displayName":"new"}}]`, wantErr: "mutability", errHas: "id"},
		{name: "replace id by path, same value", ops: `[{"op":"replace","path":"id","value":"u1"}]`},
		{name: "replace id by path, other value", ops: `[{"op":"replace","path":"id","value":"u2"}]`, wantErr: "mutability"},
		{name: "remove id", ops: `[{"op":"remove","path":"id"}]`, wantErr: "mutability"},
		{name: "replace meta.created", ops: `[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`, wantErr: "mutability"},
		{name: "remove meta", ops: `[{"op":"remove","path":"meta"}]`, wantErr: "mutability"},
		{name: "add groups on a user", ops: `[{"op":"add","path":"groups","value":[{"value":"g2"}]}]`, wantErr: "mutability"},
		{name: "remove groups on a user", ops: `[{"op":"remove","path":"groups"}]`, wantErr: "mutability"},
		{name: "groups in a path-less value", ops: `[{"op":"replace","value":{"groups":[{"value":"g9"}]}}]`, wantErr: "mutability"},
		{name: "members.display path is readOnly", rt: "group", ops: `[{"op":"replace","path":"members[value eq \"u1\"].display","value":"X"}]`, wantErr: "mutability"},
		{name: "remove members.display is readOnly", rt: "group", ops: `[{"op":"remove","path":"members[value eq \"u1\"].display"}]`, wantErr: "mutability"},
		{name: "member value is immutable: replace sub-attribute", rt: "group", ops: `[{"op":"replace","path":"members[value eq \"u1\"].value","value":"u9"}]`, wantErr: "mutability"},
		{name: "member value is immutable: remove sub-attribute", rt: "group", ops: `[{"op":"remove","path":"members[value eq \"u1\"].value"}]`, wantErr: "mutability"},
		{name: "member value is immutable: replace element", rt: "group", ops: `[{"op":"replace","path":"members[value eq \"u1\"]","value":{"value":"u9"}}]`, wantErr: "mutability"},
		{name: "member type is immutable once set", rt: "group", ops: `[{"op":"replace","path":"members[value eq \"u1\"].type","value":"Group"}]`, wantErr: "mutability"},
		{name: "member type may be added", rt: "group", doc: `{"id":"g1","displayName":"G","members":[{"value":"u3"}]}`,
			ops:  `[{"op":"add","path":"members[value eq \"u3\"].type","value":"User"}]`,
			want: map[string]string{"members": `[{"value":"u3","type":"User"}]`}, changed: []string{"members"}},
		{name: "replacing a member element keeps its immutable sub-attributes", rt: "group",
			ops: `[{"op":"replace","path":"members[value eq \"u1\"]","value":{"display":"Someone"}}]`},
		{name: "full member push cannot change a member's type", rt: "group",
			ops: `[{"op":"replace","path":"members","value":[{"value":"u1","type":"Group"}]}]`, wantErr: "mutability"},
		{name: "immutable attribute can be set once", rt: "thing", ops: `[{"op":"add","path":"serial","value":"s1"}]`,
			want: map[string]string{"serial": `"s1"`}, changed: []string{"serial"}},
		{name: "immutable attribute cannot change", rt: "thing", doc: `{"serial":"s1"}`, ops: `[{"op":"replace","path":"serial","value":"s2"}]`, wantErr: "mutability"},
		{name: "required userName cannot be removed", ops: `[{"op":"remove","path":"userName"}]`, wantErr: "mutability", errHas: "required"},
		{name: "required userName cannot be emptied", ops: `[{"op":"replace","path":"userName","value":""}]`, wantErr: "mutability"},
		{name: "required userName cannot be nulled", ops: `[{"op":"replace","value":{"userName":null}}]`, wantErr: "mutability"},
		{name: "required group displayName cannot be removed", rt: "group", ops: `[{"op":"remove","path":"displayName"}]`, wantErr: "mutability"},
	}
}

func pathlessCases() []applyCase {
	return []applyCase{
		{name: "path-less value must be an object", ops: `[{"op":"replace","value":"x"}]`, wantErr: "invalidValue"},
		{name: "path-less value must not be an array", ops: `[{"op":"add","value":[{"displayName":"x"}]}]`, wantErr: "invalidValue"},
		{name: "remove without path", ops: `[{"op":"remove"}]`, wantErr: "noTarget"},
		{name: "add without path merges complex and appends multi-valued", ops: `[{"op":"add","value":{
				"name":{"middleName":"J"},
				"emails":[{"value":"new@example.com","type":"other"}]}}]`,
			want: map[string]string{
				"name": `{"givenName":"Barbara","familyName":"Jensen","middleName":"J"}`,
				"emails": `[{"value":"bjensen@example.com","type":"work","primary":true},
					{"value":"babs@home.example","type":"home"},
					{"value":"new@example.com","type":"other"}]`},
			changed: []string{"name", "emails"}},
		{name: "replace without path keeps unnamed sub-attributes", ops: `[{"op":"replace","value":{"name":{"givenName":"B"}}}]`,
			want: map[string]string{"name": `{"givenName":"B","familyName":"Jensen"}`}, changed: []string{"name"}},
		{name: "replace without path replaces multi-valued attributes", ops: `[{"op":"replace","value":{"emails":[{"value":"only@example.com","type":"work"}]}}]`,
			want: map[string]string{"emails": `[{"value":"only@example.com","type":"work"}]`}, changed: []string{"emails"}},
		{name: "replace without path: null unassigns", ops: `[{"op":"replace","value":{"title":null}}]`,
			want: map[string]string{"title": ""}, changed: []string{"title"}},
		{name: "replace without path: null sub-attribute unassigns it", ops: `[{"op":"replace","value":{"name":{"familyName":null}}}]`,
			want: map[string]string{"name": `{"givenName":"Barbara"}`}, changed: []string{"name"}},
		{name: "add without path: null adds nothing", ops: `[{"op":"add","value":{"title":null}}]`},
		{name: "whole attribute applies before its sub-attribute", ops: `[{"op":"replace","value":{"name.givenName":"Z","name":{"givenName":"Y","familyName":"F"}}}]`,
			want: map[string]string{"name": `{"givenName":"Z","familyName":"F"}`}, changed: []string{"name"}},
		{name: "value-filter key (Entra)", ops: `[{"op":"replace","value":{"emails[type eq \"work\"].value":"new@example.com","name.familyName":"J"}}]`,
			want: map[string]string{
				"name": `{"givenName":"Barbara","familyName":"J"}`,
				"emails": `[{"value":"new@example.com","type":"work","primary":true},
					{"value":"babs@home.example","type":"home"}]`},
			changed: []string{"name", "emails"}},
		{name: "extension URI key with null unassigns the extension", ops: `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":null}}]`,
			want:    map[string]string{entURI: ""},
			changed: []string{entURI + ":employeeNumber", entURI + ":department", entURI + ":manager"}},
		{name: "extension URI key must hold an object", ops: `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":"x"}}]`,
			wantErr: "invalidValue"},
		{name: "extension URI key creates the extension", doc: `{"id":"u1","userName":"x"}`,
			ops:     `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m9","division":"d"}}}]`,
			want:    map[string]string{entURI: `{"division":"d","manager":{"value":"m9"}}`},
			changed: []string{entURI + ":division", entURI + ":manager"}},
	}
}

func simpleCases() []applyCase {
	return []applyCase{
		{name: "add sets a simple attribute", ops: `[{"op":"add","path":"title","value":"Boss"}]`,
			want: map[string]string{"title": `"Boss"`}, changed: []string{"title"}},
		{name: "replace sets an absent attribute", ops: `[{"op":"replace","path":"locale","value":"en-GB"}]`,
			want: map[string]string{"locale": `"en-GB"`}, changed: []string{"locale"}},
		{name: "remove deletes", ops: `[{"op":"remove","path":"displayName"}]`,
			want: map[string]string{"displayName": ""}, changed: []string{"displayName"}},
		{name: "remove an absent attribute is a no-op", ops: `[{"op":"remove","path":"nickName"}]`},
		{name: "externalId is writable", ops: `[{"op":"replace","path":"externalId","value":"ext-1"}]`,
			want: map[string]string{"externalId": `"ext-1"`}, changed: []string{"externalId"}},
		{name: "replace with null unassigns", ops: `[{"op":"replace","path":"title","value":null}]`,
			want: map[string]string{"title": ""}, changed: []string{"title"}},
		{name: "replace with empty string unassigns", ops: `[{"op":"replace","path":"title","value":""}]`,
			want: map[string]string{"title": ""}, changed: []string{"title"}},
		{name: "add needs a value", raw: []Operation{{Op: "add", Path: "title"}}, wantErr: "invalidValue"},
		{name: "same value changes nothing", ops: `[{"op":"replace","path":"displayName","value":"Babs"}]`},
		{name: "one-element array unwrapped", ops: `[{"op":"replace","path":"displayName","value":["B"]}]`,
			want: map[string]string{"displayName": `"B"`}, changed: []string{"displayName"}},
		{name: "several values for a single-valued attribute", ops: `[{"op":"replace","path":"displayName","value":["B","C"]}]`, wantErr: "invalidValue"},
		{name: "string attribute given a number", ops: `[{"op":"replace","path":"displayName","value":5}]`, wantErr: "invalidValue", errHas: "displayName"},
		{name: "string attribute given an object", ops: `[{"op":"replace","path":"displayName","value":{"a":1}}]`, wantErr: "invalidValue", errHas: "displayName"},
		{name: "boolean as string in any case", ops: `[{"op":"replace","path":"active","value":"fALSE"}]`,
			want: map[string]string{"active": `false`}, changed: []string{"active"}},
		{name: "boolean TRUE string, already true", ops: `[{"op":"replace","path":"active","value":"TRUE"}]`},
		{name: "boolean given another string", ops: `[{"op":"replace","path":"active","value":"yes"}]`, wantErr: "invalidValue", errHas: "active"},
		{name: "boolean given a number", ops: `[{"op":"replace","path":"active","value":0}]`, wantErr: "invalidValue"},
		{name: "sub-attribute type checked", ops: `[{"op":"replace","path":"name.givenName","value":true}]`, wantErr: "invalidValue", errHas: "name.givenName"},
		{name: "element sub-attribute type checked", ops: `[{"op":"add","path":"emails","value":{"value":"x@example.com","primary":"sometimes"}}]`, wantErr: "invalidValue", errHas: "emails.primary"},
	}
}

func typeCases() []applyCase {
	return []applyCase{
		{name: "integer", rt: "thing", ops: `[{"op":"add","path":"count","value":5}]`, want: map[string]string{"count": `5`}, changed: []string{"count"}},
		{name: "integer written as 2.0", rt: "thing", ops: `[{"op":"add","path":"count","value":2.0}]`, want: map[string]string{"count": `2`}, changed: []string{"count"}},
		{name: "integer given a fraction", rt: "thing", ops: `[{"op":"add","path":"count","value":1.5}]`, wantErr: "invalidValue", errHas: "count"},
		{name: "integer given a string", rt: "thing", ops: `[{"op":"add","path":"count","value":"5"}]`, wantErr: "invalidValue"},
		{name: "integer same value is no change", rt: "thing", doc: `{"count":5}`, ops: `[{"op":"replace","path":"count","value":5.0}]`},
		{name: "decimal", rt: "thing", ops: `[{"op":"add","path":"ratio","value":0.25}]`, want: map[string]string{"ratio": `0.25`}, changed: []string{"ratio"}},
		{name: "decimal given a string", rt: "thing", ops: `[{"op":"add","path":"ratio","value":"0.25"}]`, wantErr: "invalidValue"},
		{name: "dateTime", rt: "thing", ops: `[{"op":"add","path":"born","value":"2024-05-06T07:08:09Z"}]`,
			want: map[string]string{"born": `"2024-05-06T07:08:09Z"`}, changed: []string{"born"}},
		{name: "dateTime with offset and fraction", rt: "thing", ops: `[{"op":"add","path":"born","value":"2024-05-06T07:08:09.123+02:00"}]`,
			want: map[string]string{"born": `"2024-05-06T07:08:09.123+02:00"`}, changed: []string{"born"}},
		{name: "dateTime without zone", rt: "thing", ops: `[{"op":"add","path":"born","value":"2024-05-06T07:08:09"}]`,
			want: map[string]string{"born": `"2024-05-06T07:08:09"`}, changed: []string{"born"}},
		{name: "dateTime malformed", rt: "thing", ops: `[{"op":"add","path":"born","value":"yesterday"}]`, wantErr: "invalidValue", errHas: "born"},
		{name: "dateTime given a number", rt: "thing", ops: `[{"op":"add","path":"born","value":1700000000}]`, wantErr: "invalidValue"},
		{name: "binary", rt: "thing", ops: `[{"op":"add","path":"blob","value":"aGVsbG8="}]`, want: map[string]string{"blob": `"aGVsbG8="`}, changed: []string{"blob"}},
		{name: "binary not base64", rt: "thing", ops: `[{"op":"add","path":"blob","value":"***"}]`, wantErr: "invalidValue"},
		{name: "reference", rt: "thing", ops: `[{"op":"add","path":"link","value":"https://example.com/x"}]`,
			want: map[string]string{"link": `"https://example.com/x"`}, changed: []string{"link"}},
		{name: "reference given a number", rt: "thing", ops: `[{"op":"add","path":"link","value":7}]`, wantErr: "invalidValue"},
		{name: "boolean", rt: "thing", ops: `[{"op":"add","path":"flag","value":"True"}]`, want: map[string]string{"flag": `true`}, changed: []string{"flag"}},
		{name: "simple multi-valued add", rt: "thing", ops: `[{"op":"add","path":"tags","value":"a"}]`,
			want: map[string]string{"tags": `["a"]`}, changed: []string{"tags"}},
		{name: "simple multi-valued add present value without regard to case", rt: "thing", doc: `{"tags":["a"]}`, ops: `[{"op":"add","path":"tags","value":["A"]}]`},
		{name: "simple caseExact multi-valued add differing in case", rt: "thing", doc: `{"codes":["a"]}`, ops: `[{"op":"add","path":"codes","value":["A","a"]}]`,
			want: map[string]string{"codes": `["a","A"]`}, changed: []string{"codes"}},
		{name: "simple multi-valued element type checked", rt: "thing", ops: `[{"op":"add","path":"tags","value":["a",1]}]`, wantErr: "invalidValue", errHas: "tags"},
		{name: "simple multi-valued remove by value", rt: "thing", doc: `{"tags":["a","b"]}`, ops: `[{"op":"remove","path":"tags","value":["B"]}]`,
			want: map[string]string{"tags": `["a"]`}, changed: []string{"tags"}},
		{name: "simple multi-valued remove by filter", rt: "thing", doc: `{"tags":["a","b"]}`, ops: `[{"op":"remove","path":"tags[value eq \"a\"]"}]`,
			want: map[string]string{"tags": `["b"]`}, changed: []string{"tags"}},
		{name: "simple multi-valued replace by filter", rt: "thing", doc: `{"tags":["a","b"]}`, ops: `[{"op":"replace","path":"tags[value eq \"a\"]","value":"c"}]`,
			want: map[string]string{"tags": `["c","b"]`}, changed: []string{"tags"}},
		{name: "simple multi-valued filter creates", rt: "thing", ops: `[{"op":"replace","path":"tags[value eq \"a\"]","value":"a"}]`,
			want: map[string]string{"tags": `["a"]`}, changed: []string{"tags"}},
		{name: "simple multi-valued has no sub-attributes", rt: "thing", ops: `[{"op":"replace","path":"tags[value eq \"a\"].x","value":"a"}]`, wantErr: "invalidPath"},
	}
}

func complexCases() []applyCase {
	return []applyCase{
		{name: "set a sub-attribute", ops: `[{"op":"add","path":"name.middleName","value":"J"}]`,
			want: map[string]string{"name": `{"givenName":"Barbara","familyName":"Jensen","middleName":"J"}`}, changed: []string{"name"}},
		{name: "set a sub-attribute of an absent complex attribute", doc: `{"id":"u1","userName":"x"}`, ops: `[{"op":"replace","path":"name.givenName","value":"G"}]`,
			want: map[string]string{"name": `{"givenName":"G"}`}, changed: []string{"name"}},
		{name: "remove a sub-attribute", ops: `[{"op":"remove","path":"name.givenName"}]`,
			want: map[string]string{"name": `{"familyName":"Jensen"}`}, changed: []string{"name"}},
		{name: "removing the last sub-attribute drops the complex attribute", ops: `[{"op":"remove","path":"name.givenName"},{"op":"remove","path":"name.familyName"}]`,
			want: map[string]string{"name": ""}, changed: []string{"name"}},
		{name: "emptying every sub-attribute drops the complex attribute", ops: `[{"op":"replace","path":"name","value":{"givenName":"","familyName":null}}]`,
			want: map[string]string{"name": ""}, changed: []string{"name"}},
		{name: "replace complex by path merges", ops: `[{"op":"replace","path":"name","value":{"familyName":"J","formatted":"B J"}}]`,
			want: map[string]string{"name": `{"givenName":"Barbara","familyName":"J","formatted":"B J"}`}, changed: []string{"name"}},
		{name: "complex attribute given a string", ops: `[{"op":"replace","path":"name","value":"Barbara"}]`, wantErr: "invalidValue", errHas: "name"},
		{name: "remove a complex attribute", ops: `[{"op":"remove","path":"name"}]`,
			want: map[string]string{"name": ""}, changed: []string{"name"}},
	}
}

func multiCases() []applyCase {
	return []applyCase{
		{name: "add a single object is wrapped", ops: `[{"op":"add","path":"emails","value":{"value":"x@example.com","type":"other"}}]`,
			want: map[string]string{"emails": `[
				{"value":"bjensen@example.com","type":"work","primary":true},
				{"value":"babs@home.example","type":"home"},
				{"value":"x@example.com","type":"other"}]`},
			changed: []string{"emails"}},
		{name: "add a present email is a no-op (value without regard to case)", ops: `[{"op":"add","path":"emails","value":[{"value":"BJensen@Example.com","type":"WORK"}]}]`},
		{name: "add an email with the same value but another type", ops: `[{"op":"add","path":"emails","value":[{"value":"bjensen@example.com","type":"home"}]}]`,
			want: map[string]string{"emails": `[
				{"value":"bjensen@example.com","type":"work","primary":true},
				{"value":"babs@home.example","type":"home"},
				{"value":"bjensen@example.com","type":"home"}]`},
			changed: []string{"emails"}},
		{name: "add to an absent multi-valued attribute", ops: `[{"op":"add","path":"phoneNumbers","value":[{"value":"555","type":"work"}]}]`,
			want: map[string]string{"phoneNumbers": `[{"value":"555","type":"work"}]`}, changed: []string{"phoneNumbers"}},
		{name: "add a present member is a no-op", rt: "group", ops: `[{"op":"add","path":"members","value":[{"value":"u1"}]}]`},
		{name: "add members de-duplicates within the value", rt: "group", ops: `[{"op":"add","path":"members","value":[{"value":"u3"},{"value":"U3"},{"value":"u1"}]}]`,
			want:    map[string]string{"members": `[{"value":"u1","type":"User"},{"value":"u2","type":"User"},{"value":"u3"}]`},
			changed: []string{"members"}},
		{name: "add a member as a bare id", rt: "group", ops: `[{"op":"add","path":"members","value":"u3"}]`,
			want:    map[string]string{"members": `[{"value":"u1","type":"User"},{"value":"u2","type":"User"},{"value":"u3"}]`},
			changed: []string{"members"}},
		{name: "replace the whole list", ops: `[{"op":"replace","path":"emails","value":[{"value":"a@example.com","type":"work"}]}]`,
			want: map[string]string{"emails": `[{"value":"a@example.com","type":"work"}]`}, changed: []string{"emails"}},
		{name: "replace with an empty list unassigns", ops: `[{"op":"replace","path":"emails","value":[]}]`,
			want: map[string]string{"emails": ""}, changed: []string{"emails"}},
		{name: "replace members with the same set in another order changes nothing", rt: "group",
			ops: `[{"op":"replace","path":"members","value":[{"value":"u2"},{"value":"u1","display":"One"}]}]`},
		{name: "remove without value removes the attribute", ops: `[{"op":"remove","path":"emails"}]`,
			want: map[string]string{"emails": ""}, changed: []string{"emails"}},
		{name: "remove with a value removes only those elements", rt: "group", ops: `[{"op":"remove","path":"members","value":[{"value":"u1"}]}]`,
			want: map[string]string{"members": `[{"value":"u2","type":"User"}]`}, changed: []string{"members"}},
		{name: "remove with a single object value", rt: "group", ops: `[{"op":"remove","path":"members","value":{"value":"U2"}}]`,
			want: map[string]string{"members": `[{"value":"u1","type":"User"}]`}, changed: []string{"members"}},
		{name: "remove absent members is fine", rt: "group", ops: `[{"op":"remove","path":"members","value":[{"value":"u9"}]}]`},
		{name: "remove with a value naming nothing removes nothing", rt: "group", ops: `[{"op":"remove","path":"members","value":[{"$ref":null}]}]`},
		{name: "removing every member unassigns members", rt: "group", ops: `[{"op":"remove","path":"members","value":[{"value":"u1"},{"value":"u2"}]}]`,
			want: map[string]string{"members": ""}, changed: []string{"members"}},
		{name: "remove emails by value alone matches any type", ops: `[{"op":"remove","path":"emails","value":[{"value":"BABS@home.example"}]}]`,
			want: map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work","primary":true}]`}, changed: []string{"emails"}},
		{name: "remove emails by value and type needs both to match", ops: `[{"op":"remove","path":"emails","value":[{"value":"babs@home.example","type":"work"}]}]`},
		{name: "multi-valued element must not be an array", ops: `[{"op":"add","path":"emails","value":[["x"]]}]`, wantErr: "invalidValue"},
	}
}

func filterCases() []applyCase {
	return []applyCase{
		{name: "remove elements matching a filter", ops: `[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
			want: map[string]string{"emails": `[{"value":"babs@home.example","type":"home"}]`}, changed: []string{"emails"}},
		{name: "remove with a filter matching nothing is a no-op", ops: `[{"op":"remove","path":"emails[type eq \"other\"]"}]`},
		{name: "remove the sub-attribute of matching elements", ops: `[{"op":"remove","path":"emails[type eq \"home\"].type"}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@home.example"}]`},
			changed: []string{"emails"}},
		{name: "removing the last sub-attribute drops the element", doc: `{"id":"u1","userName":"x","emails":[{"value":"a@example.com"},{"value":"b@example.com"}]}`,
			ops:     `[{"op":"remove","path":"emails[value eq \"a@example.com\"].value"}]`,
			want:    map[string]string{"emails": `[{"value":"b@example.com"}]`},
			changed: []string{"emails"}},
		{name: "removing the last element unassigns the attribute", doc: `{"id":"u1","userName":"x","emails":[{"value":"a@example.com"}]}`,
			ops:     `[{"op":"remove","path":"emails[value eq \"a@example.com\"].value"}]`,
			want:    map[string]string{"emails": ""},
			changed: []string{"emails"}},
		{name: "replace a sub-attribute of matching elements", ops: `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}]`,
			want:    map[string]string{"emails": `[{"value":"new@example.com","type":"work","primary":true},{"value":"babs@home.example","type":"home"}]`},
			changed: []string{"emails"}},
		{name: "replace matching elements", ops: `[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"new@example.com","type":"work"}}]`,
			want:    map[string]string{"emails": `[{"value":"new@example.com","type":"work"},{"value":"babs@home.example","type":"home"}]`},
			changed: []string{"emails"}},
		{name: "replace matching elements: several values", ops: `[{"op":"replace","path":"emails[type eq \"work\"]","value":[{"value":"a@x"},{"value":"b@x"}]}]`,
			wantErr: "invalidValue"},
		{name: "add through a filter merges into matching elements", ops: `[{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@home.example","type":"home","display":"Home"}]`},
			changed: []string{"emails"}},
		{name: "add through a filter sets the sub-attribute", ops: `[{"op":"add","path":"emails[type eq \"home\"].display","value":"Home"}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@home.example","type":"home","display":"Home"}]`},
			changed: []string{"emails"}},
		{name: "replace through a filter that matches nothing creates the element (Entra)", ops: `[{"op":"replace","path":"emails[type eq \"other\"].value","value":"o@example.com"}]`,
			want: map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work","primary":true},
				{"value":"babs@home.example","type":"home"},{"type":"other","value":"o@example.com"}]`},
			changed: []string{"emails"}},
		{name: "addresses[type eq work].locality creates the address", ops: `[{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Oslo"}]`,
			want: map[string]string{"addresses": `[{"type":"work","locality":"Oslo"}]`}, changed: []string{"addresses"}},
		{name: "addresses[type eq work].locality updates the address", doc: `{"id":"u1","userName":"x","addresses":[{"type":"work","locality":"Bergen","country":"NO"},{"type":"home","locality":"Bergen"}]}`,
			ops:     `[{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Oslo"}]`,
			want:    map[string]string{"addresses": `[{"type":"work","locality":"Oslo","country":"NO"},{"type":"home","locality":"Bergen"}]`},
			changed: []string{"addresses"}},
		{name: "creation from a conjunction of eq", ops: `[{"op":"add","path":"phoneNumbers[type eq \"mobile\" and primary eq true].value","value":"555"}]`,
			want: map[string]string{"phoneNumbers": `[{"type":"mobile","primary":true,"value":"555"}]`}, changed: []string{"phoneNumbers"}},
		{name: "creation of a whole element", ops: `[{"op":"replace","path":"phoneNumbers[type eq \"mobile\"]","value":{"value":"555"}}]`,
			want: map[string]string{"phoneNumbers": `[{"type":"mobile","value":"555"}]`}, changed: []string{"phoneNumbers"}},
		{name: "no creation from an empty value", ops: `[{"op":"replace","path":"phoneNumbers[type eq \"mobile\"].value","value":""}]`},
		{name: "no match and a non-eq filter is noTarget", ops: `[{"op":"replace","path":"emails[type co \"oth\"].value","value":"x@example.com"}]`, wantErr: "noTarget"},
		{name: "no match and an or filter is noTarget", ops: `[{"op":"replace","path":"emails[type eq \"a\" or type eq \"b\"].value","value":"x@example.com"}]`, wantErr: "noTarget"},
		{name: "no match and a not filter is noTarget", ops: `[{"op":"add","path":"emails[not (type eq \"work\") and not (type eq \"home\")]","value":{"value":"x@example.com"}}]`, wantErr: "noTarget"},
		{name: "filter naming an unknown sub-attribute", ops: `[{"op":"remove","path":"emails[colour eq \"x\"]"}]`, wantErr: "invalidFilter"},
		{name: "filter with a wrongly typed value", ops: `[{"op":"remove","path":"emails[primary eq \"sometimes\"]"}]`, wantErr: "invalidFilter"},
		{name: "filter on a single-valued attribute", ops: `[{"op":"replace","path":"name[givenName eq \"x\"]","value":{"givenName":"y"}}]`, wantErr: "invalidPath"},
		{name: "filter after a sub-attribute", ops: `[{"op":"replace","path":"name.givenName[value eq \"x\"]","value":"y"}]`, wantErr: "invalidPath"},
		{name: "unknown sub-attribute after a filter", ops: `[{"op":"replace","path":"emails[type eq \"work\"].colour","value":"y"}]`, wantErr: "invalidPath"},
		{name: "sub-attribute without filter applies to every element", ops: `[{"op":"replace","path":"emails.display","value":"E"}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work","primary":true,"display":"E"},{"value":"babs@home.example","type":"home","display":"E"}]`},
			changed: []string{"emails"}},
		{name: "sub-attribute without filter creates an element when there is none", ops: `[{"op":"replace","path":"phoneNumbers.value","value":"555"}]`,
			want: map[string]string{"phoneNumbers": `[{"value":"555"}]`}, changed: []string{"phoneNumbers"}},
		{name: "remove a sub-attribute of every element", ops: `[{"op":"remove","path":"emails.type"}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","primary":true},{"value":"babs@home.example"}]`},
			changed: []string{"emails"}},
		{name: "filter values compare without regard to case", ops: `[{"op":"remove","path":"emails[type EQ \"WORK\"]"}]`,
			want: map[string]string{"emails": `[{"value":"babs@home.example","type":"home"}]`}, changed: []string{"emails"}},
		{name: "filter on the enterprise manager is invalid", ops: `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager[value eq \"m1\"]"}]`, wantErr: "invalidPath"},
	}
}

func primaryCases() []applyCase {
	return []applyCase{
		{name: "a new primary email clears the old one", ops: `[{"op":"add","path":"emails","value":[{"value":"new@example.com","type":"other","primary":true}]}]`,
			want: map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work"},{"value":"babs@home.example","type":"home"},
				{"value":"new@example.com","type":"other","primary":true}]`},
			changed: []string{"emails"}},
		{name: "primary set through a filter clears the others", ops: `[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work"},{"value":"babs@home.example","type":"home","primary":true}]`},
			changed: []string{"emails"}},
		{name: "primary given on a present value is merged in", ops: `[{"op":"add","path":"emails","value":[{"value":"babs@home.example","type":"home","primary":"True"}]}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work"},{"value":"babs@home.example","type":"home","primary":true}]`},
			changed: []string{"emails"}},
		{name: "at most one primary in a replaced list: the last wins", ops: `[{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}]`,
			want: map[string]string{"emails": `[{"value":"a@x"},{"value":"b@x","primary":true}]`}, changed: []string{"emails"}},
		{name: "primary false is dropped", ops: `[{"op":"replace","path":"emails[type eq \"work\"].primary","value":false}]`,
			want:    map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work"},{"value":"babs@home.example","type":"home"}]`},
			changed: []string{"emails"}},
		{name: "primary on a created element clears the others", ops: `[{"op":"replace","path":"emails[type eq \"other\" and primary eq true].value","value":"o@x"}]`,
			want: map[string]string{"emails": `[{"value":"bjensen@example.com","type":"work"},{"value":"babs@home.example","type":"home"},
				{"type":"other","primary":true,"value":"o@x"}]`},
			changed: []string{"emails"}},
	}
}

func changedCases() []applyCase {
	return []applyCase{
		{name: "set and set back changes nothing", ops: `[{"op":"replace","path":"displayName","value":"X"},{"op":"replace","path":"displayName","value":"Babs"}]`},
		{name: "changed is de-duplicated in first-touch order", ops: `[
				{"op":"replace","path":"title","value":"T"},
				{"op":"replace","path":"displayName","value":"D"},
				{"op":"replace","path":"title","value":"T2"},
				{"op":"add","path":"emails","value":{"value":"bjensen@example.com","type":"work"}}]`,
			want: map[string]string{"title": `"T2"`, "displayName": `"D"`}, changed: []string{"title", "displayName"}},
		{name: "an extension attribute is reported by its URN path", ops: `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Tour Operations","division":"D"}}}]`,
			want:    map[string]string{entURI: `{"department":"Tour Operations","division":"D","employeeNumber":"701984","manager":{"value":"m1"}}`},
			changed: []string{entURI + ":division"}},
		{name: "a failing operation undoes the earlier ones", ops: `[{"op":"replace","path":"displayName","value":"X"},{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division","value":"D"},{"op":"replace","path":"colour","value":"x"}]`,
			wantErr: "invalidPath", errHas: "Operations[2]"},
		{name: "a failing operation undoes a created extension", doc: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"x"}`,
			ops:     `[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division","value":"D"},{"op":"remove","path":"userName"}]`,
			wantErr: "mutability"},
	}
}

// idpCases are the exact bodies of /work/shared/reference/scim-clients.md.
func idpCases() []applyCase {
	return []applyCase{
		{name: "Entra: disable with a string boolean",
			ops:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`,
			want: map[string]string{"active": `false`}, changed: []string{"active"}},
		{name: "Entra: manager as a plain string",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"123"}]}`,
			want:    map[string]string{entURI: `{"department":"Tour Operations","employeeNumber":"701984","manager":{"value":"123"}}`},
			changed: []string{entURI + ":manager"}},
		{name: "Entra: path-less replace with dotted and URN keys",
			ops: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"displayName":"x","name.givenName":"y","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"z"}}]}`,
			want: map[string]string{
				"displayName": `"x"`,
				"name":        `{"givenName":"y","familyName":"Jensen"}`,
				entURI:        `{"department":"Tour Operations","employeeNumber":"z","manager":{"value":"m1"}}`},
			changed: []string{"name", "displayName", entURI + ":employeeNumber"}},
		{name: "Entra: nested extension form",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}}]}`,
			want:    map[string]string{entURI: `{"department":"d","employeeNumber":"701984","manager":{"value":"m1"}}`},
			changed: []string{entURI + ":department"}},
		{name: "Entra: add members", rt: "group",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u3"}]}]}`,
			want:    map[string]string{"members": `[{"value":"u1","type":"User"},{"value":"u2","type":"User"},{"value":"u3"}]`},
			changed: []string{"members"}},
		{name: "Entra: add a present member", rt: "group",
			ops: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]}`},
		{name: "Entra: remove these members only", rt: "group",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]}`,
			want:    map[string]string{"members": `[{"value":"u2","type":"User"}]`},
			changed: []string{"members"}},
		{name: "Entra: remove an absent member", rt: "group",
			ops: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u9"}]}]}`},
		{name: "Entra: remove members[value eq]", rt: "group",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"u2\"]"}]}`,
			want:    map[string]string{"members": `[{"value":"u1","type":"User"}]`},
			changed: []string{"members"}},
		{name: "Okta: deactivate",
			ops:  `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
			want: map[string]string{"active": `false`}, changed: []string{"active"}},
		{name: "Okta: deactivate without schemas",
			ops:  `{"Operations":[{"op":"replace","value":{"active":false}}]}`,
			want: map[string]string{"active": `false`}, changed: []string{"active"}},
		{name: "Okta: rename with id in value and a membership change", rt: "group",
			ops: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
				{"op":"replace","value":{"id":"g1","displayName":"Guides"}},
				{"op":"remove","path":"members[value eq \"u1\"]"}]}`,
			want:    map[string]string{"displayName": `"Guides"`, "members": `[{"value":"u2","type":"User"}]`},
			changed: []string{"displayName", "members"}},
		{name: "Okta: rename to the same name", rt: "group",
			ops: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"id":"g1","displayName":"Tour Guides"}}]}`},
		{name: "Okta: full member push", rt: "group",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"value":"u2","display":"Bob"},{"value":"u3","display":"Carol"}]}]}`,
			want:    map[string]string{"members": `[{"value":"u2","type":"User"},{"value":"u3"}]`},
			changed: []string{"members"}},
		{name: "Okta: full push of the same members", rt: "group",
			ops: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[{"value":"u1","display":"Al"},{"value":"u2","display":"Bob"}]}]}`},
		{name: "Okta: empty full push", rt: "group",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members","value":[]}]}`,
			want:    map[string]string{"members": ""},
			changed: []string{"members"}},
		{name: "Okta: add member with display", rt: "group",
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u3","display":"Carol"}]}]}`,
			want:    map[string]string{"members": `[{"value":"u1","type":"User"},{"value":"u2","type":"User"},{"value":"u3"}]`},
			changed: []string{"members"}},
		{name: "Okta: add members to an empty group", rt: "group", doc: `{"id":"g1","displayName":"G"}`,
			ops:     `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u3","display":"Carol"}]}]}`,
			want:    map[string]string{"members": `[{"value":"u3"}]`},
			changed: []string{"members"}},
	}
}

// TestApplyLeavesFoundValuesAlone checks that Apply rebuilds what it
// changes instead of modifying the maps and slices it found: the caller may
// share them (a cached resource), and the before/after comparison relies on
// it.
func TestApplyLeavesFoundValuesAlone(t *testing.T) {
	cat := schemas.MustLoad()
	d := decodeDoc(t, baseUser)
	found := map[string]any{}
	for k, v := range d {
		found[k] = v
	}
	snapshot := canon(t, found)
	ops, err := Decode(body(`[
		{"op":"replace","path":"emails[type eq \"home\"].primary","value":true},
		{"op":"add","path":"emails","value":{"value":"x@example.com","type":"other"}},
		{"op":"remove","path":"emails[type eq \"work\"].type"},
		{"op":"replace","path":"name.givenName","value":"B"},
		{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"},
		{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"d"}}},
		{"op":"remove","path":"roles","value":[{"value":"admin","type":"app"}]}]`))
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Apply(cat.Users, d, ops)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"emails", "name", entURI + ":manager", entURI + ":department", "roles"}
	if !sameStrings(changed, want) {
		t.Errorf("changed = %q, want %q", changed, want)
	}
	if got := canon(t, found); got != snapshot {
		t.Errorf("values found in the document were modified:\n got %s\nwant %s", got, snapshot)
	}
}

// TestApplyLargeGroup keeps member operations on a large group linear.
func TestApplyLargeGroup(t *testing.T) {
	cat := schemas.MustLoad()
	const n = 20000
	members := make([]any, n)
	push := make([]any, n)
	for i := range members {
		id := "user-" + strconv.Itoa(i)
		members[i] = map[string]any{"value": id, "type": "User"}
		push[n-1-i] = map[string]any{"value": id, "display": "User " + strconv.Itoa(i)}
	}
	doc := map[string]any{"id": "g1", "displayName": "big", "members": members}
	start := time.Now()
	changed, err := Apply(cat.Groups, doc, []Operation{
		{Op: "add", Path: "members", Value: []any{map[string]any{"value": "user-7"}}},
		{Op: "replace", Path: "members", Value: push},
		{Op: "remove", Path: "members", Value: []any{map[string]any{"value": "nobody"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(changed) != 0 {
		t.Errorf("changed = %q, want none", changed)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestErrorMessages(t *testing.T) {
	cat := schemas.MustLoad()
	tests := []struct {
		ops  []Operation
		want string
	}{
		{[]Operation{{Op: "Replace", Path: "active", Value: "maybe"}},
			`Operations[0] (replace "active"): active must be a boolean`},
		{[]Operation{{Op: "add", Path: "title", Value: "x"}, {Op: "replace", Value: map[string]any{"name.givenName": 1}}},
			`Operations[1] (replace, no path): name.givenName must be a string`},
		{[]Operation{{Op: "remove", Path: "userName"}},
			`Operations[0] (remove "userName"): userName is required: it cannot be removed or emptied`},
		{[]Operation{{Op: "replace", Path: "emails[type co \"x\"].value", Value: "v"}},
			`Operations[0] (replace "emails[type co \"x\"].value"): no value of emails matches the filter, and the filter does not describe a value to create`},
	}
	for _, tt := range tests {
		_, err := Apply(cat.Users, decodeDoc(t, baseUser), tt.ops)
		if err == nil || err.Error() != tt.want {
			t.Errorf("error = %v\nwant    %s", err, tt.want)
		}
	}
}
