package scim

import (
	"net/http"

	"github.com/scimbridge/scimbridge/schemas"
)

// Mount is an HTTP API served beside the SCIM endpoints under Pattern
// (e.g. the admin API under /admin/v1), behind the same request ids,
// access log, metrics, authentication and per-client rate limit. Every
// request needs Scope. The front never knows what is mounted: cmd wires
// it.
type Mount struct {
	Pattern string
	Scope   string
	Handler http.Handler
}

// WriteError answers err as a SCIM error (RFC 7644 §3.12) with the status
// its code maps to; an error without a code is a 500 naming the request id,
// never its text.
func WriteError(w http.ResponseWriter, r *http.Request, err error) { writeError(w, r, err) }

// WriteJSON answers v as application/json with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, "application/json", v)
}

// Error is an error WriteError answers with status, scimType (may be
// empty) and detail as they are.
func Error(status int, scimType, detail string) error { return newError(status, scimType, detail) }

// RequestActor names the authenticated caller of a request, and the
// request id, for the audit trail.
func RequestActor(r *http.Request) schemas.Actor { return actor(r) }
