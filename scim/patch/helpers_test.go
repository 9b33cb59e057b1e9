package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/schemas"
)

const (
	entURI = schemas.EnterpriseURI
	hubURI = schemas.HubSpotURI
)

// baseUser is the user most cases start from.
const baseUser = `{
  "id": "u1",
  "userName": "bjensen",
  "name": {"givenName": "Barbara", "familyName": "Jensen"},
  "displayName": "Babs",
  "title": "Tour Guide",
  "active": true,
  "emails": [
    {"value": "bjensen@example.com", "type": "work", "primary": true},
    {"value": "babs@home.example", "type": "home"}
  ],
  "roles": [{"value": "admin", "type": "app"}],
  "groups": [{"value": "g1", "display": "Staff"}],
  "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
    "department": "Tour Operations", "employeeNumber": "701984", "manager": {"value": "m1"}
  },
  "urn:scimbridge:params:scim:schemas:extension:hubspot:2.0:User": {"hubspotUserId": "123", "role": "admin"}
}`

// baseGroup is the group most group cases start from.
const baseGroup = `{
  "id": "g1",
  "displayName": "Tour Guides",
  "members": [
    {"value": "u1", "type": "User"},
    {"value": "u2", "type": "User"}
  ]
}`

// thingRT is a resource type with one writable attribute of every type, to
// test value checking beyond what User and Group offer.
func thingRT() *schemas.ResourceType {
	rw := func(name, typ string) *schemas.Attribute {
		return &schemas.Attribute{Name: name, Type: typ, Mutability: schemas.ReadWrite}
	}
	tags := rw("tags", schemas.TypeString)
	tags.MultiValued = true
	codes := rw("codes", schemas.TypeString)
	codes.MultiValued, codes.CaseExact = true, true
	imm := rw("serial", schemas.TypeString)
	imm.Mutability = schemas.Immutable
	return &schemas.ResourceType{Name: "Thing", Endpoint: "/Things", Core: &schemas.Schema{
		ID: "urn:test:Thing",
		Attributes: []*schemas.Attribute{
			rw("count", schemas.TypeInteger),
			rw("ratio", schemas.TypeDecimal),
			rw("born", schemas.TypeDateTime),
			rw("blob", schemas.TypeBinary),
			rw("flag", schemas.TypeBoolean),
			rw("link", schemas.TypeReference),
			tags, codes, imm,
		},
	}}
}

func decodeDoc(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return m
}

func canon(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func canonJSON(t testing.TB, s string) string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("bad expected JSON %s: %v", s, err)
	}
	return canon(t, v)
}

// body wraps a JSON array of operations into a PatchOp message; a full
// message is returned as is.
func body(ops string) []byte {
	if strings.HasPrefix(strings.TrimSpace(ops), "[") {
		return []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":` + ops + `}`)
	}
	return []byte(ops)
}

// scimType returns the scimType of err, failing unless it is a
// *schemas.Error.
func scimType(t testing.TB, err error) string {
	t.Helper()
	var se *schemas.Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *schemas.Error", err, err)
	}
	switch se.Code {
	case schemas.EINVALID, schemas.EMUTABILITY:
	default:
		t.Errorf("error code %q, want %q or %q", se.Code, schemas.EINVALID, schemas.EMUTABILITY)
	}
	if (se.Code == schemas.EMUTABILITY) != (se.ScimType == scimMutability) {
		t.Errorf("code %q does not fit scimType %q", se.Code, se.ScimType)
	}
	return se.ScimType
}

func sameStrings(a, b []string) bool {
	return len(a) == len(b) && (len(a) == 0 || slices.Equal(a, b))
}

func compactJSON(s string) string {
	var b bytes.Buffer
	if json.Compact(&b, []byte(s)) != nil {
		return s
	}
	return b.String()
}
