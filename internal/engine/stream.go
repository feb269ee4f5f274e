package engine

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// A stream's statement answers {"rows": [...], "next": [cursor, key...],
// "last": [cursor, key...], "full": bool}: the rows after the position
// "from" up to the position "until", at most batch_size, in the stream's
// order, and the position after them (null if none); and the position of
// the last row of the batch after "from" the statement sees, whether or
// not it sends it. The position is the cursor column and then the primary
// key: rows whose cursor values tie across a batch boundary are neither
// skipped nor repeated (Hasura's is the cursor's value alone, and skips
// them). The live query hub sends only up to a position it has seen once
// every transaction that was open when it saw it has ended: none of them
// can then still commit a row before it (a sequence's value or a now()
// taken before it), so a transaction that commits late cannot be skipped.

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
			// The position is text (the hub carries it as such): an
			// array's items become its literal.
			sc.from = tables.Value{Text: sqlbuild.ArrayLiteral(sc.from.Items)}
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
	order, after, upTo := " ASC", " > ", " <= "
	if cur.desc {
		order, after, upTo = " DESC", " < ", " >= "
	}
	cols := append([]tables.Column{cur.col}, keys...)
	orderBy := func(b *sqlbuild.Builder) {
		for i, col := range cols {
			if i > 0 {
				b.S(", ")
			}
			ordered(b, alias, col)
			b.S(order)
		}
	}
	columns := func(b *sqlbuild.Builder) {
		b.S("(")
		for i, col := range cols {
			if i > 0 {
				b.S(", ")
			}
			ordered(b, alias, col)
		}
		b.S(")")
	}
	position := func(b *sqlbuild.Builder) {
		b.S("json_build_array(")
		for i, col := range cols {
			if i > 0 {
				b.S(", ")
			}
			b.Col(alias, col.SQLName).S("::text")
		}
		b.S(")")
	}
	// The arguments of a position: the cursor's value (from: the initial
	// value; the keys NULL, so that the stream starts after it, as
	// Hasura's does), then the keys.
	var at []int
	bindPosition := func(b *sqlbuild.Builder, initial bool) {
		b.S("(")
		for i, col := range cols {
			if i > 0 {
				b.S(", ")
			}
			at = append(at, len(b.Args()))
			var v any
			if initial && i == 0 && !cur.from.Null {
				v = cur.from.Text
			}
			typ := col.Type.SQL
			if col.Type.Class == tables.ClassJSON {
				typ = "jsonb" // as ordered compares it
			}
			b.TypedArg(v, typ)
		}
		b.S(")")
	}

	b.S("SELECT json_build_object('rows', coalesce(json_agg(")
	if err := c.row(b, t, alias, f.SelectionSet, path); err != nil {
		return nil, err
	}
	b.S(" ORDER BY " + alias + ".fg_n) FILTER (WHERE " + alias + ".fg_send), '[]'::json), 'next', (array_agg(")
	position(b)
	b.S(" ORDER BY " + alias + ".fg_n DESC) FILTER (WHERE " + alias + ".fg_send))[1], 'last', (array_agg(")
	position(b)
	b.S(" ORDER BY "+alias+".fg_n DESC))[1], 'full', count(*) FILTER (WHERE "+alias+".fg_send) = ").TypedArg(batch, "bigint").
		S(" AND count(*) > 0) FROM (SELECT " + alias + ".*, row_number() OVER (ORDER BY ")
	orderBy(b)
	b.S(") AS fg_n, coalesce(")
	columns(b)
	b.S(upTo)
	untilAt := len(at)
	bindPosition(b, false)
	b.S(", false) AS fg_send FROM (SELECT " + alias + ".*")
	c.table(b.S(" FROM "), t).S(" " + alias + " WHERE ")
	columns(b)
	b.S(after)
	fromAt := len(at)
	bindPosition(b, true)
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
	// From, then until.
	return append(at[fromAt:], at[untilAt:fromAt]...), nil
}

// streamPosition sets the position at (from, then until, as selectStream
// returned their arguments' indexes) in args: from to next, until to until
// (nil: none).
func streamPosition(args []any, at []int, next, until []string) error {
	half := len(at) / 2
	if len(next) != half && next != nil || len(until) != half && until != nil {
		return fmt.Errorf("engine: a stream's position of %d and %d values for %d arguments", len(next), len(until), half)
	}
	for i := range half {
		if next != nil {
			args[at[i]] = next[i]
		}
		if until != nil {
			args[at[half+i]] = until[i]
		} else {
			args[at[half+i]] = nil
		}
	}
	return nil
}
