package otdsrest

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrAuth is matched (errors.Is) by an *Error that means OTDS refused the
// credentials: a refused login, or a request refused again after logging
// in again.
var ErrAuth = errors.New("otdsrest: credentials refused")

// ErrClosed is returned by a Source used after Close.
var ErrClosed = errors.New("otdsrest: source is closed")

// Error is an error answer from OTDS.
type Error struct {
	// Op is the request, e.g. "GET /users" (path below the base URL).
	Op string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is OTDS's own status in the body ({"status":1034,…}), or 0.
	Code int
	// Message is OTDS's error text (or the OAuth2 error and description),
	// shortened, with any secret the driver knows replaced.
	Message string

	login bool // a refused login
}

// codeExpiredTicket is OTDS's status for an expired SSO ticket, answered
// with HTTP 400 (pyxecm's otds.py, do_request).
const codeExpiredTicket = 1034

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "otdsrest: %s: %d %s", e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Code != 0 {
		fmt.Fprintf(&b, " (OTDS status %d)", e.Code)
	}
	if e.Message != "" && !strings.EqualFold(e.Message, http.StatusText(e.StatusCode)) {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrAuth) true for refused credentials.
func (e *Error) Is(target error) bool { return target == ErrAuth && e.credentialRefused() }

// credentialRefused tells whether logging in again may help: 401, or 400
// with OTDS's expired-ticket status or text.
func (e *Error) credentialRefused() bool {
	if e.StatusCode == http.StatusUnauthorized || e.login && e.StatusCode == http.StatusBadRequest {
		return true
	}
	return e.StatusCode == http.StatusBadRequest &&
		(e.Code == codeExpiredTicket || strings.EqualFold(e.Message, "Expired OTDS SSO ticket"))
}
