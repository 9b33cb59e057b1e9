package directory

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
)

// Cause says why a directory operation failed, in terms an operator acts
// on. The admin API turns it into an HTTP status (502, 503 or 504) and
// scimbridge_directory_read_errors_total counts by it.
type Cause string

// Causes.
const (
	// CauseUnreachable: no connection (refused, reset, host or network
	// unreachable, DNS failure, closed by the server mid-read).
	CauseUnreachable Cause = "unreachable"
	// CauseTimeout: the directory accepted the connection but did not
	// answer in time (a frozen or overloaded server, a network black hole).
	CauseTimeout Cause = "timeout"
	// CauseBaseMissing: a configured search base does not exist (LDAP
	// resultCode 32 noSuchObject on the base).
	CauseBaseMissing Cause = "base_dn_missing"
	// CauseBindRefused: the directory refused the credentials (LDAP
	// resultCode 49 invalidCredentials, or another refused bind).
	CauseBindRefused Cause = "bind_refused"
	// CauseOther: the directory answered with another error (a referral
	// the configuration refuses, a size limit, a malformed answer).
	CauseOther Cause = "other"
)

// Causes lists every cause, for metrics that start each series at zero.
func Causes() []Cause {
	return []Cause{CauseUnreachable, CauseTimeout, CauseBaseMissing, CauseBindRefused, CauseOther}
}

// Error is a failed directory operation with its cause. Drivers return it
// (wrapped) from reads; its message is the driver's.
type Error struct {
	Cause Cause
	Err   error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// Classify returns err as an *Error with its cause (CauseOf). It returns
// nil for nil, and err unchanged when it is a cancellation (the caller went
// away: not a directory failure) or already carries a cause.
func Classify(err error) error {
	var de *Error
	if err == nil || errors.As(err, &de) {
		return err
	}
	c := CauseOf(err)
	if c == "" {
		return err
	}
	return &Error{Cause: c, Err: err}
}

// CauseOf returns the cause of a failed directory operation: the Cause of
// the first *Error in err's chain, otherwise what the error is (a timeout, a
// network failure), otherwise CauseOther. It returns "" for nil and for a
// cancelled context, which is the caller's doing.
func CauseOf(err error) Cause {
	if err == nil {
		return ""
	}
	var de *Error
	if errors.As(err, &de) {
		return de.Cause
	}
	if errors.Is(err, context.Canceled) {
		return ""
	}
	if IsTimeout(err) {
		return CauseTimeout
	}
	if isUnreachable(err) {
		return CauseUnreachable
	}
	return CauseOther
}

// IsTimeout reports whether err is a deadline passing: a context deadline,
// a socket deadline, or a net.Error that says it timed out.
func IsTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func isUnreachable(err error) bool {
	for _, target := range []error{
		syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EHOSTUNREACH,
		syscall.ENETUNREACH, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF, net.ErrClosed,
	} {
		if errors.Is(err, target) {
			return true
		}
	}
	var dns *net.DNSError
	var op *net.OpError
	return errors.As(err, &dns) || (errors.As(err, &op) && op.Op == "dial")
}
