package hasura

import (
	"errors"

	"github.com/jackc/pgx/v5/pgconn"
)

// FromPostgres maps a PostgreSQL error onto the error Hasura reports for it
// (HGE Backends/Postgres/Execute/Types.hs, mkTxErrorHandler). It reports false
// for errors that are not PostgreSQL's, and for PostgreSQL errors whose text
// could reveal internals: those become CodeUnexpected in the presenter.
func FromPostgres(err error) (*Error, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil, false
	}
	prefixed := func(code Code, prefix string) (*Error, bool) {
		return &Error{Code: code, Message: prefix + pgErr.Message}, true
	}
	switch pgErr.Code {
	case "23001":
		return prefixed(CodeConstraintViolation, "Can not delete or update due to data being referred. ")
	case "23502":
		return prefixed(CodeConstraintViolation, "Not-NULL violation. ")
	case "23503":
		return prefixed(CodeConstraintViolation, "Foreign key violation. ")
	case "23505":
		return prefixed(CodeConstraintViolation, "Uniqueness violation. ")
	case "23514":
		return prefixed(CodePermissionError, "Check constraint violation. ")
	case "23P01":
		return prefixed(CodeConstraintViolation, "Exclusion violation. ")
	case "22025": // invalid_escape_sequence
		return prefixed(CodeBadRequest, "")
	case "42501": // insufficient_privilege
		if pgErr.Hint == "freshgraph-permission-check" { // migration 00007
			return &Error{Code: CodePermissionError, Message: pgErr.Message}, true
		}
	case "42P10":
		return &Error{Code: CodeConstraintError, Message: "there is no unique or exclusion constraint on target column(s)"}, true
	}
	if len(pgErr.Code) == 5 && pgErr.Code[:2] == "22" { // class 22: data exception
		return prefixed(CodeDataException, "")
	}
	return nil, false
}
