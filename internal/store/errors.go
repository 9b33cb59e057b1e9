package store

import (
	"errors"
	"fmt"
)

// Error codes, mapped once to HTTP and SCIM errors at the edge.
const (
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EINVALID      = "invalid"
	EPRECONDITION = "precondition"
)

// Error is a store error with a code callers branch on.
type Error struct {
	Code    string
	Message string
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

// NotFound reports a missing resource.
func NotFound(kind, id string) *Error {
	return Errorf(ENOTFOUND, "%s %q not found", kind, id)
}
