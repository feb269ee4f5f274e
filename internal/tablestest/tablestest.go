// Package tablestest gives tests the catalogue freshgraph serves with its
// built-in metadata, read from a migrated test database (internal/pgtest) as
// the server reads it at start. A test binary using it runs pgtest.Main.
package tablestest

import (
	"testing"

	"github.com/freshgraph/freshgraph/internal/builtin"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/project"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Builtin returns the catalogue of the built-in tables.
func Builtin(tb testing.TB) *tables.Catalogue {
	tb.Helper()
	md, err := builtin.Metadata()
	if err != nil {
		tb.Fatal(err)
	}
	pool := pgtest.NewPool(tb)
	p, err := project.Resolve(tb.Context(), pool, md)
	if err != nil {
		tb.Fatal(err)
	}
	c, err := tables.Build(tb.Context(), pool, p, tables.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return c
}
