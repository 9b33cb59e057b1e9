package patch

import (
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/schemas"
)

// SCIM error keywords this package produces (RFC 7644 §3.12).
const (
	scimInvalidSyntax = "invalidSyntax"
	scimInvalidPath   = "invalidPath"
	scimInvalidValue  = "invalidValue"
	scimNoTarget      = "noTarget"
	scimMutability    = "mutability"
)

// failure is an error found while applying one operation. Apply turns it
// into a *schemas.Error whose message names the operation.
type failure struct {
	code     string
	scimType string
	msg      string
	// unknown marks a path naming no attribute of the resource type; inside
	// a path-less value such a key is ignored (RFC 7644 §3.3).
	unknown bool
}

func (f *failure) Error() string { return f.msg }

func failf(code, scimType, format string, args ...any) *failure {
	return &failure{code: code, scimType: scimType, msg: fmt.Sprintf(format, args...)}
}

func invalidValue(format string, args ...any) error {
	return failf(schemas.EINVALID, scimInvalidValue, format, args...)
}

func invalidPath(format string, args ...any) *failure {
	return failf(schemas.EINVALID, scimInvalidPath, format, args...)
}

func noTarget(format string, args ...any) error {
	return failf(schemas.EINVALID, scimNoTarget, format, args...)
}

func mutability(format string, args ...any) error {
	return failf(schemas.EMUTABILITY, scimMutability, format, args...)
}

func syntaxError(format string, args ...any) *schemas.Error {
	return &schemas.Error{Code: schemas.EINVALID, ScimType: scimInvalidSyntax, Message: fmt.Sprintf(format, args...)}
}

// opError returns err as a *schemas.Error whose message starts with the
// operation's index and path, e.g. `Operations[1] (replace "active"): …`.
func opError(i int, kind string, op Operation, err error) *schemas.Error {
	if kind == "" {
		kind = op.Op
	}
	where := fmt.Sprintf("Operations[%d] (%s %q)", i, kind, op.Path)
	if op.Path == "" {
		where = fmt.Sprintf("Operations[%d] (%s, no path)", i, kind)
	}
	var f *failure
	var se *schemas.Error
	switch {
	case errors.As(err, &f):
		return &schemas.Error{Code: f.code, ScimType: f.scimType, Message: where + ": " + f.msg}
	case errors.As(err, &se):
		return &schemas.Error{Code: se.Code, ScimType: se.ScimType, Message: where + ": " + se.Message}
	}
	return &schemas.Error{Code: schemas.EINVALID, ScimType: scimInvalidValue, Message: where + ": " + err.Error()}
}
