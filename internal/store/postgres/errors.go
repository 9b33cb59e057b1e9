package postgres

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// PostgreSQL error codes the driver acts on (Appendix A of its manual).
const (
	codeUniqueViolation      = "23505"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// uniqueViolation returns the name of the unique constraint or index err
// violates, or "" when err is something else.
func uniqueViolation(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) && e.Code == codeUniqueViolation {
		return e.ConstraintName
	}
	return ""
}

// retryable reports whether err ends a transaction that may succeed when
// run again: it lost a deadlock or a serialization conflict.
func retryable(err error) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && (e.Code == codeSerializationFailure || e.Code == codeDeadlockDetected)
}
