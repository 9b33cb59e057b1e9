package hubspot

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Error is an error answer from HubSpot:
// {status:"error", message, correlationId, category, subCategory?, errors?, context?}.
// Some answers carry another JSON error envelope inside message; the
// client unwraps it into Message/Category when it finds one.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode    int                 `json:"-"`
	Status        string              `json:"status"`
	Message       string              `json:"message"`
	CorrelationID string              `json:"correlationId"`
	Category      string              `json:"category"`
	SubCategory   string              `json:"subCategory,omitempty"`
	Errors        []ErrorDetail       `json:"errors,omitempty"`
	Context       map[string][]string `json:"context,omitempty"`
	// Method and Path of the request, for messages and logs.
	Method string `json:"-"`
	Path   string `json:"-"`
}

// ErrorDetail is one entry of Error.Errors.
type ErrorDetail struct {
	Message     string              `json:"message"`
	Code        string              `json:"code,omitempty"`
	In          string              `json:"in,omitempty"`
	SubCategory string              `json:"subCategory,omitempty"`
	Context     map[string][]string `json:"context,omitempty"`
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("hubspot: %s %s: %d", e.Method, e.Path, e.StatusCode)
	if e.Category != "" {
		msg += " " + e.Category
	}
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.CorrelationID != "" {
		msg += " (correlationId " + e.CorrelationID + ")"
	}
	return msg
}

// MissingScopes lists the scopes a 403 names in context.missingScopes.
func (e *Error) MissingScopes() []string { return e.Context["missingScopes"] }

// Temporary reports whether retrying the same request may succeed: 5xx and
// 429 answers are temporary; other 4xx answers are permanent refusals.
func (e *Error) Temporary() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// Rate limit policies named in 429 answers.
const (
	PolicyTenSecondly = "TEN_SECONDLY_ROLLING"
	PolicyDaily       = "DAILY"
)

// RateLimitError is a 429 answer:
// {status:"error", message, errorType:"RATE_LIMIT", correlationId, policyName}.
type RateLimitError struct {
	Err        *Error
	PolicyName string
	// RetryAfter is when to try again: the Retry-After header when sent,
	// the next 10-second window otherwise, the daily reset for DAILY.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s (rate limit %s, retry after %s)", e.Err.Error(), e.PolicyName, e.RetryAfter)
}

func (e *RateLimitError) Unwrap() error { return e.Err }

// ErrDailyLimit is returned without calling HubSpot while the daily request
// budget is spent; writes resume after the reset.
var ErrDailyLimit = errors.New("hubspot: daily request limit reached; writes paused until the daily reset")

// ErrExists is wrapped by CreateUser and CreateTeam when HubSpot's answer
// says the email (or team name) exists. The existing object is returned
// next to the error, when HubSpot lets us read it, so callers can adopt it
// after checking it (never adopt a super admin blindly).
var ErrExists = errors.New("hubspot: already exists")

// ErrDeletePending is returned by WaitDeleted when the user can still be
// read after the timeout (HubSpot's deletion is eventually consistent).
var ErrDeletePending = errors.New("hubspot: deleted user still readable")

// IsNotFound reports whether err is HubSpot's 404.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsConflict reports whether err is HubSpot's 409 (an email that exists).
func IsConflict(err error) bool { return statusOf(err) == http.StatusConflict }

// IsValidation reports whether err is HubSpot's 400 (VALIDATION_ERROR and
// other bad requests, e.g. a paid-seat role without settings.billing.write).
func IsValidation(err error) bool { return statusOf(err) == http.StatusBadRequest }

// CodeUserNotOnAnyHubs is the error HubSpot gives an update that names a
// user who has not accepted the invitation yet (recorded live by
// jackemcpherson/terraform-provider-hubspot: "An exact name no-op returned
// 400 USER_NOT_ON_ANY_HUBS"; undocumented).
const CodeUserNotOnAnyHubs = "USER_NOT_ON_ANY_HUBS"

// IsInvitationPending reports whether err is HubSpot's 400 for a user who
// has not accepted the invitation: names cannot change until they do.
// The code may be the subcategory, an error detail's code, or the message
// (the answer sometimes nests an envelope in message, which the client
// unwraps).
func IsInvitationPending(err error) bool {
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusBadRequest {
		return false
	}
	if strings.Contains(e.SubCategory, CodeUserNotOnAnyHubs) || strings.Contains(e.Message, CodeUserNotOnAnyHubs) {
		return true
	}
	for _, d := range e.Errors {
		if d.Code == CodeUserNotOnAnyHubs || d.SubCategory == CodeUserNotOnAnyHubs || strings.Contains(d.Message, CodeUserNotOnAnyHubs) {
			return true
		}
	}
	return false
}

// IsForbidden reports whether err is a 401 or 403: a bad token or missing
// scopes (see (*Error).MissingScopes).
func IsForbidden(err error) bool {
	s := statusOf(err)
	return s == http.StatusUnauthorized || s == http.StatusForbidden
}

// IsRateLimited returns the 429 in err's chain, if any.
func IsRateLimited(err error) (*RateLimitError, bool) {
	var e *RateLimitError
	ok := errors.As(err, &e)
	return e, ok
}

// IsPermanent reports whether err is a refusal that retrying will not fix
// (a 4xx other than 429), as opposed to transient
// trouble (5xx, 429, ErrDailyLimit, network errors).
func IsPermanent(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return !e.Temporary()
	}
	return false
}

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}
