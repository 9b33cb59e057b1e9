package sqlite

import (
	"database/sql/driver"
	"fmt"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/scimbridge/scimbridge/schemas"
)

// SQL functions the compiled filters use. modernc.org/sqlite registers
// functions on the driver for every connection it opens afterwards, so the
// registration is process-wide and must happen exactly once: this OnceValue
// is the package's only mutable state.
const (
	// fnFold is schemas.Fold, so caseExact=false comparisons made in SQL agree
	// with the keys written by Go (RFC 7643 §2.2: caseExact).
	fnFold = "scim_fold"
	// fnNameKey is schemas.UsernameFold: the comparison key of a userName
	// (users.user_name_cmp), for migrations to fill it as Go writes it.
	fnNameKey = "scim_name_key"
	// fnTime turns an RFC 3339 dateTime string into unix microseconds so
	// that dateTime attributes kept as JSON text compare as instants
	// (RFC 7644 §3.4.2.2: dateTime comparisons are chronological).
	fnTime = "scim_time"
)

var registerFuncs = sync.OnceValue(func() error {
	if err := sqlite.RegisterDeterministicScalarFunction(fnFold, 1, foldFunc); err != nil {
		return fmt.Errorf("sqlite: register %s: %w", fnFold, err)
	}
	if err := sqlite.RegisterDeterministicScalarFunction(fnNameKey, 1, nameKeyFunc); err != nil {
		return fmt.Errorf("sqlite: register %s: %w", fnNameKey, err)
	}
	if err := sqlite.RegisterDeterministicScalarFunction(fnTime, 1, timeFunc); err != nil {
		return fmt.Errorf("sqlite: register %s: %w", fnTime, err)
	}
	return nil
})

func foldFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch v := args[0].(type) {
	case string:
		return schemas.Fold(v), nil
	case []byte:
		return schemas.Fold(string(v)), nil
	default:
		// NULL stays NULL (an absent attribute); numbers have no case.
		return v, nil
	}
}

func nameKeyFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	switch v := args[0].(type) {
	case string:
		return schemas.UsernameFold(v), nil
	case []byte:
		return schemas.UsernameFold(string(v)), nil
	}
	return args[0], nil // NULL stays NULL
}

func timeFunc(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
	var s string
	switch v := args[0].(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Not a dateTime: it cannot match any instant, as if absent.
		return nil, nil
	}
	return t.UnixMicro(), nil
}
