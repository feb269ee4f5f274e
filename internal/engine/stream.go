package engine

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// A stream's statement answers {"rows": [...], "next": [cursor, key...]}:
// the next batch, and where the batch after it starts (null when the
// batch is empty). Unlike Hasura's (col > last value), the position is the
// cursor column and then the primary key, so rows whose cursor values tie
// across a batch boundary are neither skipped nor repeated; and a batch
// stops before the first row written by a transaction that is not older
// than every transaction still running (settled below), so a row committed
// late with an earlier cursor value than rows already sent cannot be
// skipped.

// streamCursor is what a <t>_stream's cursor argument asks for.
type streamCursor struct {
	col  tables.Column
	desc bool
	from tables.Value
}

// readStreamCursor reads cursor: [<t>_stream_cursor_input]!, in Hasura's
// words (Schema/SubscriptionStream.hs).
func (c *compiler) readStreamCursor(t *tables.Table, v any, path string) (streamCursor, error) {
	items := list(v)
	if v == nil || len(items) == 0 || items[0] == nil {
		return streamCursor{}, invalid(path, "one streaming column field is expected")
	}
	if len(items) > 1 {
		return streamCursor{}, invalid(path, "multiple column cursors are not supported yet")
	}
	in, err := object(items[0], path+".cursor[0]", t.Name+"_stream_cursor_input")
	if err != nil {
		return streamCursor{}, err
	}
	var sc streamCursor
	if o, ok := in["ordering"]; ok && o != nil {
		s, _ := enumValue(o)
		sc.desc = s == "DESC"
	}
	initial, err := object(in["initial_value"], path+".cursor[0].initial_value", t.Name+"_stream_cursor_value_input")
	if err != nil {
		return streamCursor{}, err
	}
	if len(initial) == 0 {
		return streamCursor{}, invalid(path, "one streaming column field is expected")
	}
	if len(initial) > 1 {
		return streamCursor{}, invalid(path, "multiple column cursors are not supported yet")
	}
	for name, value := range initial {
		col, ok := t.Column(name)
		if !ok || !c.selects(t, name) {
			return streamCursor{}, notFound(path+".cursor[0].initial_value", name, t.Name+"_stream_cursor_value_input")
		}
		sc.col = col
		if sc.from, err = read(col.Type, value, path+".cursor[0].initial_value."+name); err != nil {
			return streamCursor{}, err
		}
		if sc.from.IsItems {
			return streamCursor{}, invalid(path+".cursor[0].initial_value."+name, "an array column's cursor value is written as a string")
		}
	}
	return sc, nil
}

// selectStream answers <t>_stream(batch_size, cursor, where). It returns
// the indexes of the arguments that hold the position: the cursor's value,
// then the primary key's columns (NULL until a batch has been sent).
func (c *compiler) selectStream(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, path string) ([]int, error) {
	args := c.args(f)
	p := path + ".args"
	batch, err := intValue(args["batch_size"], p+".batch_size")
	if err != nil {
		return nil, err
	}
	if batch < 0 {
		return nil, invalid(p+".batch_size", `expected a non-negative 32-bit integer for type "Int", but found an integer`)
	}
	if limit := c.rowLimit(t); limit >= 0 && limit < batch {
		batch = limit
	}
	cur, err := c.readStreamCursor(t, args["cursor"], p)
	if err != nil {
		return nil, err
	}
	var keys []tables.Column
	for _, name := range t.PrimaryKey {
		if name == cur.col.Name {
			continue
		}
		col, _ := t.Column(name)
		keys = append(keys, col)
	}
	alias := c.alias()
	order, cmp := " ASC", " > "
	if cur.desc {
		order, cmp = " DESC", " < "
	}
	orderBy := func(b *sqlbuild.Builder) {
		b.Col(alias, cur.col.SQLName).S(order)
		for _, k := range keys {
			b.S(", ").Col(alias, k.SQLName).S(order)
		}
	}

	// The rows, their position in the stream, and whether they have settled.
	b.S("SELECT json_build_object('rows', coalesce(json_agg(")
	if err := c.row(b, t, alias, f.SelectionSet, path); err != nil {
		return nil, err
	}
	b.S(" ORDER BY " + alias + ".fg_n) FILTER (WHERE " + alias + ".fg_ready), '[]'::json), 'next', (array_agg(json_build_array(")
	b.Col(alias, cur.col.SQLName).S("::text")
	for _, k := range keys {
		b.S(", ").Col(alias, k.SQLName).S("::text")
	}
	b.S(") ORDER BY "+alias+".fg_n DESC) FILTER (WHERE "+alias+".fg_ready))[1], 'full', count(*) > 0 AND count(*) = ").
		TypedArg(batch, "bigint").S(" AND bool_and(" + alias + ".fg_ready), 'held', NOT coalesce(bool_and(" + alias + ".fg_ready), true)) FROM (SELECT " + alias + ".*, row_number() OVER (ORDER BY ")
	orderBy(b)
	b.S(") AS fg_n, bool_and(" + alias + ".fg_settled) OVER (ORDER BY ")
	orderBy(b)
	b.S(" ROWS UNBOUNDED PRECEDING) AS fg_ready FROM (SELECT " + alias + ".*, age(" + alias + ".xmin) > " + settledHorizon)
	if clocked := clockCursor(cur.col.Type.SQL); clocked != "" && !cur.desc {
		// A time cursor is most often the writer's now(): the start of
		// its transaction, which may have begun before rows already sent
		// were written, and not yet have written anything.
		b.S(" AND ").Col(alias, cur.col.SQLName).S(" < " + fmt.Sprintf(oldestTransaction, clocked))
	}
	b.S(" AS fg_settled")
	c.table(b.S(" FROM "), t).S(" " + alias + " WHERE ")
	// From the position on: the cursor's value, then the key's, which tie
	// breaks; the key is NULL before the first batch, so that the stream
	// starts after the initial value, as Hasura's does.
	var at []int
	from := func() {
		at = append(at, len(b.Args()))
		var v any
		if !cur.from.Null {
			v = cur.from.Text
		}
		b.TypedArg(v, cur.col.Type.SQL)
	}
	b.Col(alias, cur.col.SQLName).S(strings.TrimSpace(cmp) + "= ")
	from()
	b.S(" AND (").Col(alias, cur.col.SQLName).S(cmp)
	from()
	if len(keys) > 0 {
		b.S(" OR (")
		for i, k := range keys {
			if i > 0 {
				b.S(", ")
			}
			b.Col(alias, k.SQLName)
		}
		b.S(")" + cmp + "(")
		for i, k := range keys {
			if i > 0 {
				b.S(", ")
			}
			at = append(at, len(b.Args()))
			b.TypedArg(nil, k.Type.SQL)
		}
		b.S(")")
	}
	b.S(")")
	if err := c.visible(b, t, alias, path); err != nil {
		return nil, err
	}
	if v, ok := args["where"]; ok && v != nil {
		where, err := c.where(t, v, p+".where")
		if err != nil {
			return nil, err
		}
		if !tables.IsTrue(where) {
			b.S(" AND ")
			if err := c.compile(b, where, alias, alias); err != nil {
				return nil, err
			}
		}
	}
	b.S(" ORDER BY ")
	orderBy(b)
	b.S(" LIMIT ").Arg(batch)
	b.S(") " + alias + ") " + alias)
	// The first argument of each position is bound twice (>= and >):
	// both are the cursor's value.
	return at, nil
}

// clockCursor is the type a time cursor's values compare with
// transactions' start times as: "" for other types.
func clockCursor(sqlType string) string {
	switch {
	case strings.HasPrefix(sqlType, "timestamp") && strings.HasSuffix(sqlType, "with time zone"):
		return "timestamptz"
	case strings.HasPrefix(sqlType, "timestamp"):
		return "timestamp"
	case sqlType == "date":
		return "date"
	}
	return ""
}

// oldestTransaction is when the oldest transaction of another client
// began (%s: the cursor's type), or infinity.
const oldestTransaction = `coalesce((SELECT min(a.xact_start) FROM pg_stat_activity a ` +
	`WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend')::%[1]s, 'infinity'::%[1]s)`

// settledHorizon is the age of the oldest transaction that may still
// commit: of the snapshot's running transactions, and of every other
// backend's snapshot (a transaction that has taken a sequence value or
// its now() but not yet its transaction id holds one). A row written
// by an older transaction can no longer be overtaken by one that commits
// later.
const settledHorizon = `(SELECT greatest(age(pg_snapshot_xmin(pg_current_snapshot())::text::xid), ` +
	`coalesce(max(greatest(age(a.backend_xmin), age(a.backend_xid))), 0)) ` +
	`FROM pg_stat_activity a WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend')`

// streamPosition is the position after a batch: the arguments at the
// indexes selectStream returned, from the statement's "next".
func streamPosition(next []string, at []int) (map[int]string, error) {
	if len(next) == 0 || len(at) != len(next)+1 {
		return nil, fmt.Errorf("engine: a stream's position has %d values for %d arguments", len(next), len(at))
	}
	out := map[int]string{at[0]: next[0], at[1]: next[0]}
	for i, v := range next[1:] {
		out[at[i+2]] = v
	}
	return out, nil
}
