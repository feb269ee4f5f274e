package engine

import "github.com/freshgraph/freshgraph/internal/hasura"

// databaseError points a PostgreSQL error Hasura reports to the client at
// path; other errors pass through (and are logged, not shown).
func databaseError(err error, path string) error {
	he, ok := hasura.FromPostgres(err)
	if !ok {
		return err
	}
	if (he.Code == hasura.CodeConstraintViolation || he.Code == hasura.CodePermissionError) && path != "" {
		return he.AtPath(path)
	}
	return he
}
