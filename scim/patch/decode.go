package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/schemas"
)

// MaxOperations bounds the operations of one PATCH request. Identity
// providers send a few (Entra ID batches group members by the hundred);
// thousands would hold the store's writer for seconds. The SCIM front
// refuses a longer PATCH before anything else reads it.
const MaxOperations = 1000

// Decode reads a PatchOp message (RFC 7644 §3.5.2):
//
//	{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
//	 "Operations": [{"op": "add", "path": "members", "value": [...]}, ...]}
//
// "schemas", when present, must list the PatchOp URI (a missing "schemas"
// is tolerated). Keys are matched without regard to case (RFC 7643 §2.1;
// clients send "operations" and "Op"), the op name too; it is returned as
// sent. Numbers are decoded as json.Number. add and replace need a "value"
// member (null is accepted: it unassigns, for replace). Errors are
// *schemas.Error with scimType invalidSyntax, or invalidValue for a
// missing value.
func Decode(body []byte) ([]Operation, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, syntaxError("the request body is not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, syntaxError("the request body holds more than one JSON value")
	}
	return DecodeValue(raw)
}

// DecodeValue is Decode for a message already decoded from JSON (with
// UseNumber): the SCIM front decodes a request body once, fixes the
// quirks of identity providers on the decoded value, and reads the
// operations from it.
func DecodeValue(raw any) ([]Operation, error) {
	msg, ok := raw.(map[string]any)
	if !ok {
		return nil, syntaxError("a PatchOp message must be a JSON object")
	}
	v, found, err := field(msg, "schemas", "")
	if err != nil {
		return nil, err
	}
	if found && v != nil && !listsPatchOp(v) {
		return nil, syntaxError("schemas must be [%q]", schemas.PatchOpURI)
	}
	v, found, err = field(msg, "Operations", "")
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	switch {
	case !found:
		return nil, syntaxError("the PatchOp message has no Operations")
	case !ok:
		return nil, syntaxError("Operations must be an array")
	case len(list) == 0:
		return nil, syntaxError("Operations must hold at least one operation")
	}
	ops := make([]Operation, 0, len(list))
	for i, o := range list {
		op, err := decodeOp(i, o)
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func decodeOp(i int, o any) (Operation, error) {
	m, ok := o.(map[string]any)
	if !ok {
		return Operation{}, syntaxError("Operations[%d] must be an object", i)
	}
	where := "Operations[" + strconv.Itoa(i) + "]"
	v, found, err := field(m, "op", where)
	if err != nil {
		return Operation{}, err
	}
	name, _ := v.(string)
	kind := opKind(name)
	switch {
	case !found:
		return Operation{}, syntaxError("%s has no op", where)
	case kind == "":
		return Operation{}, syntaxError("%s: op must be add, remove or replace", where)
	}
	op := Operation{Op: name}
	v, _, err = field(m, "path", where)
	if err != nil {
		return Operation{}, err
	}
	switch p := v.(type) {
	case nil:
	case string:
		op.Path = p
	default:
		return Operation{}, syntaxError("%s: path must be a string", where)
	}
	op.Value, found, err = field(m, "value", where)
	if err != nil {
		return Operation{}, err
	}
	if !found && kind != opRemove {
		// RFC 7644 §3.5.2.1, §3.5.2.3: add and replace MUST carry a value.
		return Operation{}, &schemas.Error{Code: schemas.EINVALID, ScimType: scimInvalidValue,
			Message: where + ": " + kind + " needs a value"}
	}
	return op, nil
}

// field returns the member of m whose key is name without regard to case;
// two such members make the message ambiguous.
func field(m map[string]any, name, where string) (v any, found bool, err error) {
	for k, x := range m {
		if !strings.EqualFold(k, name) {
			continue
		}
		if found {
			if where != "" {
				where += ": "
			}
			return nil, false, syntaxError("%s%q is given twice", where, name)
		}
		v, found = x, true
	}
	return v, found, nil
}

// listsPatchOp reports whether a "schemas" value names the PatchOp message.
func listsPatchOp(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.EqualFold(v, schemas.PatchOpURI)
	case []any:
		for _, s := range v {
			if s, ok := s.(string); ok && strings.EqualFold(s, schemas.PatchOpURI) {
				return true
			}
		}
	}
	return false
}
