package schemas

import (
	"errors"
	"fmt"
)

// Error codes shared by the store, the engine and the HTTP front. The HTTP
// front maps them to SCIM errors in one place.
const (
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"     // uniqueness (409)
	EINVALID      = "invalid"      // bad value or filter (400)
	EPRECONDITION = "precondition" // If-Match mismatch (412)
	EMUTABILITY   = "mutability"   // attribute cannot be changed (400)
	EUNAVAILABLE  = "unavailable"  // a dependency is down; retry later (503)
	EUPSTREAM     = "upstream"     // a dependency answered with an error (502)
	ETIMEOUT      = "timeout"      // a dependency did not answer in time (504)
	EREFUSED      = "refused"      // HubSpot permanently refused the change (400)
)

// Error is an error with a code callers branch on. ScimType, when set,
// refines the SCIM error keyword (RFC 7644 §3.12), e.g. "invalidFilter".
type Error struct {
	Code     string
	Message  string
	ScimType string
}

func (e *Error) Error() string { return e.Message }

// Errorf builds an Error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or "".
func ErrorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
