package store

import (
	"fmt"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/schemas"
)

// Rules every driver applies the same way.

// Page sizes of the provisioning and audit listings: a limit of 0 or less
// means DefaultListLimit, one above MaxListLimit means MaxListLimit.
const (
	DefaultListLimit = 100
	MaxListLimit     = 1000
)

// ListLimit is n clamped as the listings clamp it.
func ListLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

// CheckOrigin is the origin a write stores: o when it names one, keep
// (the resource's current origin, or OriginSCIM for a create) when it is
// empty; an unknown origin is EINVALID.
func CheckOrigin(o, keep string) (string, error) {
	switch o {
	case "":
		return keep, nil
	case schemas.OriginSCIM, schemas.OriginDirectory:
		return o, nil
	}
	return "", Errorf(EINVALID, "unknown origin %q", o)
}

// AssignID gives a resource being created its id, a UUIDv7 (time-ordered,
// so new rows land at the end of indexes), when the caller brought none.
// undo takes an assigned id back, for a create that failed; it does
// nothing when the id was the caller's.
func AssignID(id *string) (undo func(), err error) {
	if *id != "" {
		return func() {}, nil
	}
	v, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("store: new id: %w", err)
	}
	*id = v.String()
	return func() { *id = "" }, nil
}
