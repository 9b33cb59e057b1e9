package store

import "github.com/scimbridge/scimbridge/schemas"

// Error codes; they are the engine-wide codes of package schemas.
const (
	ENOTFOUND     = schemas.ENOTFOUND
	ECONFLICT     = schemas.ECONFLICT
	EINVALID      = schemas.EINVALID
	EPRECONDITION = schemas.EPRECONDITION
)

// Error is a store error with a code callers branch on.
type Error = schemas.Error

// Errorf builds an Error with the given code.
func Errorf(code, format string, args ...any) *Error { return schemas.Errorf(code, format, args...) }

// ErrorCode returns the code of the first *Error in err's chain, or "".
func ErrorCode(err error) string { return schemas.ErrorCode(err) }

// NotFound reports a missing resource.
func NotFound(kind, id string) *Error {
	return Errorf(ENOTFOUND, "%s %q not found", kind, id)
}
