package engine

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Related answers a relationship from objects that are no table's rows
// (an action's output objects) to the table rel.Target: for each of
// sources, the JSON object holding the fields rel.Mapping names (From: a
// field, To: the target's column), the value of the field f — the row or
// null, the list, or with aggregate the _aggregate — as the role v reads
// them. One statement answers every source, in order.
func Related(ctx context.Context, db database.Conn, op *graphql.OperationContext, v *tables.View, caller auth.Caller,
	rel tables.Relationship, aggregate bool, f *ast.Field, sources []json.RawMessage, path string) ([]json.RawMessage, error) {
	target := rel.Target
	if !v.Selectable(target) {
		return nil, notFound(path, f.Name, target.Name)
	}
	c := newCompiler(op, v, caller)
	c.maxBytes = limits.Remaining(ctx)
	const source = "s"
	inner := c.alias()
	correlate := func(b *sqlbuild.Builder) {
		for i, m := range rel.Mapping {
			if i > 0 {
				b.S(" AND ")
			}
			col, _ := target.ColumnBySQL(m.To)
			// The field's JSON value as text, cast to the column's type:
			// the comparison can use the column's index.
			b.Col(inner, m.To).S(" = (" + source + ".src ->> ").Literal(m.From).S(")::" + col.Type.SQL)
		}
	}
	b := &sqlbuild.Builder{}
	b.S("SELECT coalesce(json_agg((")
	var err error
	switch {
	case aggregate:
		if !c.aggregates(target) {
			return nil, notFound(path, f.Name, target.Name)
		}
		err = c.aggregate(b, target, inner, f, correlate, path)
	case rel.Array:
		err = c.list(b, target, inner, f, correlate, path)
	default:
		b.S("SELECT ")
		if err = c.row(b, target, inner, f.SelectionSet, path); err == nil {
			c.table(b.S(" FROM "), target).S(" " + inner + " WHERE ")
			correlate(b)
			err = c.visible(b, target, inner, path)
		}
	}
	if err != nil {
		return nil, err
	}
	b.S(") ORDER BY "+source+".n), '[]'::json) FROM json_array_elements(").TypedArg(sourcesJSON(sources), "json").
		S(") WITH ORDINALITY AS " + source + "(src, n)")
	b.Wrap("SELECT (", ") AS j, ").TypedArg(c.maxBytes, "bigint").S(" AS max OFFSET 0")
	capped(b)
	out, err := run(ctx, db, b, "")
	if err != nil {
		return nil, err
	}
	var values []json.RawMessage
	if err := json.Unmarshal(out, &values); err != nil || len(values) != len(sources) {
		return nil, fmt.Errorf("engine: relationship %s answered %d values for %d objects", f.Name, len(values), len(sources))
	}
	return values, nil
}

// sourcesJSON is the JSON array of sources.
func sourcesJSON(sources []json.RawMessage) string {
	raw, _ := json.Marshal(sources)
	return string(raw)
}
