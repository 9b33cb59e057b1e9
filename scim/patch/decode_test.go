package patch

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Operation
		wantErr string // scimType
	}{
		{name: "minimal", in: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"title","value":"x"}]}`,
			want: []Operation{{Op: "add", Path: "title", Value: "x"}}},
		{name: "schemas missing is tolerated", in: `{"Operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}}},
		{name: "schemas null is tolerated", in: `{"schemas":null,"Operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}}},
		{name: "schemas as a single string", in: `{"schemas":"urn:ietf:params:scim:api:messages:2.0:PatchOp","Operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}}},
		{name: "schemas among others, any case", in: `{"Schemas":["x","URN:IETF:PARAMS:SCIM:API:MESSAGES:2.0:PATCHOP"],"Operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}}},
		{name: "schemas without PatchOp", in: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[{"op":"remove","path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "schemas of the wrong type", in: `{"schemas":5,"Operations":[{"op":"remove","path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "operations key in lower case", in: `{"operations":[{"op":"remove","path":"title"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}}},
		{name: "op keys in any case, op kept as sent", in: `{"OPERATIONS":[{"OP":"Replace","Path":"active","VALUE":"False"}]}`,
			want: []Operation{{Op: "Replace", Path: "active", Value: "False"}}},
		{name: "numbers are json.Number", in: `{"Operations":[{"op":"add","value":{"n":1.50}}]}`,
			want: []Operation{{Op: "add", Value: map[string]any{"n": json.Number("1.50")}}}},
		{name: "path null", in: `{"Operations":[{"op":"replace","path":null,"value":{"title":"x"}}]}`,
			want: []Operation{{Op: "replace", Value: map[string]any{"title": "x"}}}},
		{name: "replace with a null value", in: `{"Operations":[{"op":"replace","path":"title","value":null}]}`,
			want: []Operation{{Op: "replace", Path: "title"}}},
		{name: "unknown op keys ignored", in: `{"Operations":[{"op":"remove","path":"title","note":"x"}]}`,
			want: []Operation{{Op: "remove", Path: "title"}}},
		{name: "several operations in order", in: `{"Operations":[{"op":"remove","path":"a"},{"op":"add","path":"b","value":true}]}`,
			want: []Operation{{Op: "remove", Path: "a"}, {Op: "add", Path: "b", Value: true}}},
		{name: "add without value", in: `{"Operations":[{"op":"add","path":"title"}]}`, wantErr: "invalidValue"},
		{name: "replace without value", in: `{"Operations":[{"op":"replace","path":"title"}]}`, wantErr: "invalidValue"},
		{name: "no Operations", in: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`, wantErr: "invalidSyntax"},
		{name: "Operations not an array", in: `{"Operations":{"op":"remove","path":"title"}}`, wantErr: "invalidSyntax"},
		{name: "Operations empty", in: `{"Operations":[]}`, wantErr: "invalidSyntax"},
		{name: "Operations twice in different case", in: `{"Operations":[{"op":"remove","path":"a"}],"operations":[{"op":"remove","path":"b"}]}`, wantErr: "invalidSyntax"},
		{name: "op twice in different case", in: `{"Operations":[{"op":"remove","Op":"add","path":"a"}]}`, wantErr: "invalidSyntax"},
		{name: "operation not an object", in: `{"Operations":["remove"]}`, wantErr: "invalidSyntax"},
		{name: "op missing", in: `{"Operations":[{"path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "op unknown", in: `{"Operations":[{"op":"move","path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "op not a string", in: `{"Operations":[{"op":1,"path":"title"}]}`, wantErr: "invalidSyntax"},
		{name: "path not a string", in: `{"Operations":[{"op":"remove","path":["title"]}]}`, wantErr: "invalidSyntax"},
		{name: "not JSON", in: `{"Operations":`, wantErr: "invalidSyntax"},
		{name: "empty body", in: ``, wantErr: "invalidSyntax"},
		{name: "null body", in: `null`, wantErr: "invalidSyntax"},
		{name: "array body", in: `[{"op":"remove","path":"title"}]`, wantErr: "invalidSyntax"},
		{name: "trailing data", in: `{"Operations":[{"op":"remove","path":"title"}]} {}`, wantErr: "invalidSyntax"},
		{name: "trailing garbage", in: `{"Operations":[{"op":"remove","path":"title"}]} x`, wantErr: "invalidSyntax"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("Decode = %#v, want %s error", got, tt.wantErr)
				}
				if st := scimType(t, err); st != tt.wantErr {
					t.Errorf("scimType %q, want %q (%v)", st, tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Decode =\n %#v\nwant\n %#v", got, tt.want)
			}
		})
	}
}
