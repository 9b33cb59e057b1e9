package hubspotsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/hubspot"
)

// Error categories HubSpot sends in the category field.
const (
	catValidation   = "VALIDATION_ERROR"
	catNotFound     = "OBJECT_NOT_FOUND"
	catConflict     = "CONFLICT"
	catAuth         = "INVALID_AUTHENTICATION"
	catScopes       = "MISSING_SCOPES"
	catForbidden    = "FORBIDDEN"
	catInternal     = "INTERNAL_ERROR"
	catUnavailable  = "SERVICE_UNAVAILABLE"
	catTimeout      = "GATEWAY_TIMEOUT"
	errorTypeLimits = "RATE_LIMIT"
)

// errorBody is HubSpot's error envelope, the Error schema of every spec:
// {status:"error", message, correlationId (uuid), category, subCategory?,
// errors?:[{message, code?, in?, context?}], context?, links?}. The
// hubspot.Error type reads the same fields (links aside).
type errorBody struct {
	Status        string                `json:"status"`
	Message       string                `json:"message"`
	CorrelationID string                `json:"correlationId"`
	Category      string                `json:"category"`
	SubCategory   string                `json:"subCategory,omitempty"`
	Errors        []hubspot.ErrorDetail `json:"errors,omitempty"`
	Context       map[string][]string   `json:"context,omitempty"`
	Links         map[string]string     `json:"links,omitempty"`
}

// rateLimitBody is the 429 answer as HubSpot documents it (API usage
// guidelines; example in the developer forum):
// {status, message, errorType:"RATE_LIMIT", correlationId, policyName, requestId}.
type rateLimitBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	ErrorType     string `json:"errorType"`
	CorrelationID string `json:"correlationId"`
	PolicyName    string `json:"policyName"`
	RequestID     string `json:"requestId"`
}

// apiError is an error answer under construction.
type apiError struct {
	status int
	body   errorBody
	// nested wraps the envelope inside message, as HubSpot does for some
	// validation failures (USER_NOT_ON_ANY_HUBS among them).
	nested bool
}

func newError(status int, category, msg string) *apiError {
	return &apiError{status: status, body: errorBody{Status: "error", Message: msg, Category: category}}
}

func (e *apiError) detail(d hubspot.ErrorDetail) *apiError {
	e.body.Errors = append(e.body.Errors, d)
	return e
}

func (e *apiError) sub(s string) *apiError {
	e.body.SubCategory = s
	return e
}

func (e *apiError) ctx(key string, values ...string) *apiError {
	if e.body.Context == nil {
		e.body.Context = map[string][]string{}
	}
	e.body.Context[key] = append(e.body.Context[key], values...)
	return e
}

// invalidField is a 400 VALIDATION_ERROR naming the field (errors[].in)
// and, when there is one, the offending value (context.invalidValue).
func invalidField(field, code, msg string, values ...string) *apiError {
	d := hubspot.ErrorDetail{Message: msg, Code: code, In: field}
	if len(values) > 0 {
		d.Context = map[string][]string{"invalidValue": values}
	}
	e := newError(http.StatusBadRequest, catValidation, msg).detail(d)
	if len(values) > 0 {
		e.ctx("invalidValue", values...)
	}
	return e
}

func notFound(msg string) *apiError { return newError(http.StatusNotFound, catNotFound, msg) }

// unauthenticated is HubSpot's 401 for a missing or unknown token.
func unauthenticated(msg string) *apiError {
	return newError(http.StatusUnauthorized, catAuth, msg)
}

// missingScopes is HubSpot's 403: category MISSING_SCOPES with
// context.missingScopes (the Error schema's own example), and the scopes
// that would do in errors[0].context.requiredGranularScopes.
func missingScopes(anyOf []string) *apiError {
	return newError(http.StatusForbidden, catScopes,
		"This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.").
		ctx("missingScopes", anyOf[0]).
		detail(hubspot.ErrorDetail{
			Message: "One or more of the following scopes are required.",
			Context: map[string][]string{"requiredGranularScopes": append([]string(nil), anyOf...)},
		})
}

// superAdminRefused answers any attempt to create, change or delete a
// super admin through the API.
//
// Assumption: HubSpot documents no error for this (the specs list only a
// default error response). Super admins cannot be granted through the API
// and HubSpot only lets super admins edit super admins, so an app token is
// refused like an unprivileged actor: 403 with category FORBIDDEN (not
// MISSING_SCOPES, since no scope grants it).
func superAdminRefused(what string) *apiError {
	return newError(http.StatusForbidden, catForbidden,
		"Super admin users cannot be "+what+" through the API; manage super admins in HubSpot's settings.").
		sub("UserProvisioning.SUPER_ADMIN_PROTECTED")
}

func badJSON(err error) *apiError {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		msg := fmt.Sprintf("%s must be a %s, not a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		return newError(http.StatusBadRequest, catValidation, "Invalid input JSON: "+msg).
			detail(hubspot.ErrorDetail{Message: msg, Code: "INVALID_TYPE", In: te.Field})
	}
	return newError(http.StatusBadRequest, catValidation, "Invalid input JSON: "+strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(goKind string) string {
	switch goKind {
	case "bool":
		return "boolean"
	case "slice":
		return "array"
	case "int", "int32", "int64":
		return "integer"
	}
	return goKind
}

// writeError writes e with a fresh correlation id; nested (or e.nested)
// puts the whole envelope, as a JSON string, in message.
func writeError(w http.ResponseWriter, e *apiError, nested bool) {
	b := e.body
	b.CorrelationID = uuid.NewString()
	if nested || e.nested {
		inner, _ := json.Marshal(b)
		b = errorBody{Status: "error", Message: string(inner), CorrelationID: b.CorrelationID, Category: b.Category, SubCategory: b.SubCategory}
	}
	writeJSON(w, e.status, b)
}

// writeRateLimited writes HubSpot's 429 body for policy TEN_SECONDLY_ROLLING
// or DAILY.
func writeRateLimited(w http.ResponseWriter, policy string) {
	msg := "You have reached your ten_secondly_rolling limit."
	if policy == hubspot.PolicyDaily {
		msg = "You have reached your daily limit."
	}
	writeJSON(w, http.StatusTooManyRequests, rateLimitBody{
		Status: "error", Message: msg, ErrorType: errorTypeLimits,
		CorrelationID: uuid.NewString(), PolicyName: policy, RequestID: uuid.NewString(),
	})
}

// writeJSON writes v with HubSpot's content type (and, like HubSpot,
// without escaping &, < and > in strings).
func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	b := buf.Bytes()
	if err := enc.Encode(v); err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"status":"error","message":"simulator: encode answer","category":"INTERNAL_ERROR"}`)
	} else {
		b = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}
