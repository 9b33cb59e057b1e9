package reconcile

import (
	"context"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/directory"
	"github.com/scimbridge/scimbridge/schemas"
)

// sourceRead runs one directory read, giving the directory's own errors
// their cause (directory.Classify) and passing fn's errors through as they
// are: those are the bridge's, not the directory's.
func sourceRead(ctx context.Context, read func(context.Context, func(directory.Entry) error) error, fn func(directory.Entry) error) error {
	var fnErr error
	err := read(ctx, func(e directory.Entry) error {
		fnErr = fn(e)
		return fnErr
	})
	if err == nil || (fnErr != nil && errors.Is(err, fnErr)) {
		return err
	}
	return directory.Classify(err)
}

// directoryError gives a run that failed reading the directory the error
// code the admin API answers with: the directory answered with an error
// (a missing base DN, a refused bind, anything else) is EUPSTREAM (502),
// no connection is EUNAVAILABLE (503), no answer in time is ETIMEOUT
// (504). The message names the cause. Other errors are returned as they
// are.
func directoryError(err error) error {
	var de *directory.Error
	if !errors.As(err, &de) {
		return err
	}
	code := schemas.EUPSTREAM
	switch de.Cause {
	case directory.CauseUnreachable:
		code = schemas.EUNAVAILABLE
	case directory.CauseTimeout:
		code = schemas.ETIMEOUT
	}
	return &schemas.Error{Code: code, Message: fmt.Sprintf("The directory read failed (cause %s): %v", de.Cause, err)}
}
