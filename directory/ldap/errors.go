package ldap

import (
	"context"
	"errors"
	"fmt"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimbridge/scimbridge/directory"
)

// Reads return *directory.Error values whose Cause tells an operator what
// to fix: LDAP result codes first (noSuchObject on a search base, a refused
// bind), then what the network said (directory.CauseOf: refused or reset
// connections are unreachable, deadlines are timeouts).

// baseError marks a search answered with noSuchObject (RFC 4511 section
// 4.1.9, resultCode 32): on a search of a configured base, the base itself
// does not exist, since entries below it are simply not returned.
func baseError(err error) error {
	if goldap.IsErrorWithCode(err, goldap.LDAPResultNoSuchObject) {
		return &directory.Error{Cause: directory.CauseBaseMissing, Err: fmt.Errorf("the search base does not exist: %w", err)}
	}
	return err
}

// bindError marks a bind the server answered with an error result
// (invalidCredentials 49, inappropriateAuthentication 48, …); a bind that
// got no answer keeps its network cause.
func bindError(dn string, err error) error {
	err = fmt.Errorf("bind as %s: %w", dn, err)
	var le *goldap.Error
	if errors.As(err, &le) && le.ResultCode != goldap.ErrorNetwork {
		return &directory.Error{Cause: directory.CauseBindRefused, Err: err}
	}
	return err
}

// deadlineError adds ctx's deadline to an error caused by ctx ending: the
// socket was closed under the operation, which alone reads as a dropped
// connection, not as the timeout it is.
func deadlineError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w: %w", ctx.Err(), err)
	}
	return err
}

// dialCause sums up why no server could be used: a refused bind or another
// answered error wins (retrying elsewhere will not fix it); timeouts only
// when every server timed out; otherwise unreachable.
func dialCause(causes []directory.Cause) directory.Cause {
	if len(causes) == 0 {
		return ""
	}
	timeouts := 0
	for _, c := range causes {
		switch c {
		case directory.CauseBindRefused, directory.CauseOther:
			return c
		case directory.CauseTimeout:
			timeouts++
		case "":
			return ""
		}
	}
	if timeouts == len(causes) {
		return directory.CauseTimeout
	}
	return directory.CauseUnreachable
}
