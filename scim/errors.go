package scim

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/rs/zerolog"

	"github.com/scimbridge/scimbridge/schemas"
)

// apiError is a SCIM error response (RFC 7644 §3.12).
type apiError struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *apiError) Error() string { return e.Detail }

func (e *apiError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Schemas  []string `json:"schemas"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
		Status   string   `json:"status"`
	}{[]string{schemas.ErrorURI}, e.ScimType, e.Detail, strconv.Itoa(e.Status)})
}

func newError(status int, scimType, detail string) *apiError {
	return &apiError{Status: status, ScimType: scimType, Detail: detail}
}

// toAPIError maps any error to the SCIM error the client sees. This is the
// one place engine error codes become HTTP statuses; errors without a code
// become a 500 whose detail names the request id, never internals.
func toAPIError(r *http.Request, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var se *schemas.Error
	if errors.As(err, &se) {
		switch se.Code {
		case schemas.ENOTFOUND:
			return newError(http.StatusNotFound, "", se.Message)
		case schemas.ECONFLICT:
			return newError(http.StatusConflict, "uniqueness", se.Message)
		case schemas.EPRECONDITION:
			return newError(http.StatusPreconditionFailed, "", se.Message)
		case schemas.EMUTABILITY:
			return newError(http.StatusBadRequest, "mutability", se.Message)
		case schemas.EREFUSED:
			return newError(http.StatusBadRequest, "invalidValue", se.Message)
		case schemas.EUNAVAILABLE:
			return newError(http.StatusServiceUnavailable, "", se.Message)
		case schemas.EUPSTREAM:
			return newError(http.StatusBadGateway, "", se.Message)
		case schemas.ETIMEOUT:
			return newError(http.StatusGatewayTimeout, "", se.Message)
		case schemas.EINVALID:
			t := se.ScimType
			if t == "" {
				t = "invalidValue"
			}
			return newError(http.StatusBadRequest, t, se.Message)
		}
	}
	zerolog.Ctx(r.Context()).Error().Err(err).Msg("internal error")
	id := requestID(r.Context())
	return newError(http.StatusInternalServerError, "", "Internal error; quote request id "+id+" when reporting it.")
}

func writeError(w http.ResponseWriter, r *http.Request, err error) {
	ae := toAPIError(r, err)
	if ae.Status == http.StatusUnauthorized && w.Header().Get("WWW-Authenticate") == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge"`)
	}
	body, _ := json.Marshal(ae)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(ae.Status)
	_, _ = w.Write(body)
}

const contentType = "application/scim+json"
