// Package engine answers Hasura's generated root fields for the tables of the
// catalogue (internal/tables). It compiles one root field — its selection set
// with every nested relationship, its where, order_by, limit, offset and
// distinct_on — into one SQL statement that returns the field's JSON, built
// by PostgreSQL as Hasura builds it. The JSON goes to the client as it is:
// no rows are decoded into Go values and encoded again, and timestamps come
// out exactly as PostgreSQL renders them.
//
// gqlgen has parsed and validated the operation and coerced its variables by
// then; the engine still checks what depends on the caller's role (which
// columns, relationships and rows it may use).
package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// compiler writes the SQL of one root field.
type compiler struct {
	op      *graphql.OperationContext
	view    *tables.View
	caller  auth.Caller
	aliases int
	// ownUser is set for the session API's user: the caller's own row,
	// which it reads whole (every column, no row filter).
	ownUser bool
	// maxBytes is what the answer may have: the rest of the request's
	// response size budget.
	maxBytes int64
	// reads are the tables the statement reads, however it reaches them
	// (the root, relationships, permissions' filters, _exists): what a
	// live query must be re-run for when they change.
	reads map[*tables.Table]int
	// source, when set, writes where the root's rows come from instead
	// of its table: a function's call.
	source func(*sqlbuild.Builder)
	// calls: the statement calls a function (a computed field's), whose
	// body may read any table.
	calls bool
}

func newCompiler(op *graphql.OperationContext, v *tables.View, c auth.Caller) *compiler {
	return &compiler{op: op, view: v, caller: c}
}

func (c *compiler) cat() *tables.Catalogue { return c.view.Cat }

// alias returns a fresh table alias: t1, t2, …
func (c *compiler) alias() string {
	c.aliases++
	return fmt.Sprintf("t%d", c.aliases)
}

// collect resolves fragments and @skip/@include in a selection set.
func (c *compiler) collect(sel ast.SelectionSet, typeName string) []graphql.CollectedField {
	return graphql.CollectFields(c.op, sel, []string{typeName})
}

// table writes t's name where the statement reads it.
func (c *compiler) table(b *sqlbuild.Builder, t *tables.Table) *sqlbuild.Builder {
	c.read(t)
	return tableName(b, t)
}

// read notes that the statement reads t (by its name, or through a
// function that returns its rows): its writes re-run the live queries.
func (c *compiler) read(t *tables.Table) {
	if c.reads == nil {
		c.reads = map[*tables.Table]int{}
	}
	c.reads[t]++
}

// tableName writes t's schema-qualified name.
func tableName(b *sqlbuild.Builder, t *tables.Table) *sqlbuild.Builder {
	return b.Ident(t.SQL.Schema).S(".").Ident(t.SQL.Table)
}

// Execute runs the root field rf, f in the operation, for caller, whose
// role's view is v, and returns its JSON value.
func Execute(ctx context.Context, db database.Conn, op *graphql.OperationContext, rf tables.RootField, f graphql.CollectedField, v *tables.View, caller auth.Caller) ([]byte, error) {
	if IsQuery(rf.Kind) {
		st, err := CompileQuery(op, rf, f, v, caller, limits.Remaining(ctx))
		if err != nil {
			return nil, err
		}
		return st.Run(ctx, db)
	}
	c := newCompiler(op, v, caller)
	c.maxBytes = limits.Remaining(ctx)
	path := "$.selectionSet." + f.Name
	f.Field = merged(f)
	if rf.Kind == tables.UpdateMany {
		return c.updateMany(ctx, db, rf.Table, f.Field, path)
	}
	var objects []map[string]any
	var paths []string
	if rf.Kind == tables.Insert || rf.Kind == tables.InsertOne {
		var nested bool
		var err error
		objects, paths, nested, err = c.insertArgs(rf.Table, f.Field, rf.Kind == tables.InsertOne, path)
		if err != nil {
			return nil, err
		}
		if nested {
			return c.insertNested(ctx, db, rf.Table, f.Field, rf.Kind == tables.InsertOne, objects, paths, path)
		}
	}
	b := &sqlbuild.Builder{}
	var err error
	switch rf.Kind {
	case tables.Insert, tables.InsertOne:
		err = c.insert(b, rf.Table, f.Field, rf.Kind == tables.InsertOne, objects, paths, path)
	case tables.Update, tables.UpdateByPK:
		err = c.update(b, rf.Table, f.Field, c.args(f.Field), rf.Kind == tables.UpdateByPK, path, path+".args")
	case tables.Delete, tables.DeleteByPK:
		err = c.delete(b, rf.Table, f.Field, rf.Kind == tables.DeleteByPK, path)
	}
	if err != nil {
		return nil, err
	}
	return run(ctx, db, b, mutationPath(rf, path))
}

// IsQuery reports whether a root field of kind only reads: one statement,
// the same for every caller of a role but for its arguments.
func IsQuery(kind tables.Kind) bool {
	switch kind {
	case tables.Select, tables.SelectByPK, tables.SelectAggregate, tables.FunctionSelect, tables.FunctionAggregate:
		return true
	}
	return false
}

// A Statement is a query root field compiled: its SQL and arguments.
type Statement struct {
	SQL  string
	Args []any
}

// CompileQuery compiles the query root field rf (IsQuery), f in the
// operation, for caller, whose role's view is v, into one statement whose
// answer has at most maxBytes.
func CompileQuery(op *graphql.OperationContext, rf tables.RootField, f graphql.CollectedField, v *tables.View, caller auth.Caller, maxBytes int64) (Statement, error) {
	if !IsQuery(rf.Kind) {
		return Statement{}, fmt.Errorf("engine: %s is not a query", f.Name)
	}
	b, _, _, _, err := compileRead(op, rf, f, v, caller, maxBytes)
	if err != nil {
		return Statement{}, err
	}
	capped(b)
	return Statement{SQL: b.SQL(), Args: b.Args()}, nil
}

// A Live is a subscription_root field compiled, for the live query hub:
// its statement without the byte budget's check (one row: the answer j,
// the budget max, and for a Keyed one k, the keys of the root rows it
// shows), for the hub to check the budget of each subscriber apart.
type Live struct {
	Query sqlbuild.Fragment
	// Reads are the tables the statement reads: the root, relationships,
	// the permissions' filters.
	Reads []*tables.Table
	// Position are, for a stream, the indexes of the arguments that hold
	// the position the next batch starts after, then the one it may send
	// up to (StreamPosition).
	Position []int
	// Keyed is set when a write to Root's rows can change the answer only
	// if the row was in it (k) or the Probe finds it now: Root is read by
	// its key alone, and nowhere else in the statement.
	Keyed bool
	Root  *tables.Table
	// Probe is a condition that holds if a row of Root whose key is among
	// the text array $2 is one the query would show now (before its
	// ordering and limit); its parameters are its own.
	Probe sqlbuild.Fragment
	// Polled: what it reads cannot all be known (a function's body may
	// read any table), so it is run on a timer too.
	Polled bool
}

// CompileLive compiles the subscription_root field rf, f in the operation,
// for caller, whose role's view is v.
func CompileLive(op *graphql.OperationContext, rf tables.RootField, f graphql.CollectedField, v *tables.View, caller auth.Caller, maxBytes int64) (Live, error) {
	b, reads, position, calls, err := compileRead(op, rf, f, v, caller, maxBytes)
	if err != nil {
		return Live{}, err
	}
	live := Live{Query: b.Fragment(), Position: position, Root: rf.Table, Polled: rf.Function != nil || calls}
	for t := range reads {
		live.Reads = append(live.Reads, t)
	}
	field := merged(f)
	_, offset := argumentMap(field, op.Variables)["offset"]
	if rf.Kind != tables.Select || len(rf.Table.PrimaryKey) != 1 || reads[rf.Table] != 1 || offset || live.Polled {
		return live, nil
	}
	// A list of a table read once, by a one-column key, without an offset
	// (a row deleted before the offset would move the answer): keyed.
	path := "$.selectionSet." + f.Name
	c := newCompiler(op, v, caller)
	keyed := &sqlbuild.Builder{}
	if err := c.keyedList(keyed, rf.Table, field, path, maxBytes); err != nil {
		return Live{}, err
	}
	c = newCompiler(op, v, caller)
	probe := &sqlbuild.Builder{}
	if err := c.probe(probe, rf.Table, field, path); err != nil {
		return Live{}, err
	}
	live.Keyed, live.Query, live.Probe = true, keyed.Fragment(), probe.Fragment()
	return live, nil
}

// compileRead writes the statement of a field that reads: one row of its
// answer j and the byte budget max; with the tables it reads and, for a
// stream, its position's arguments.
func compileRead(op *graphql.OperationContext, rf tables.RootField, f graphql.CollectedField, v *tables.View, caller auth.Caller, maxBytes int64) (*sqlbuild.Builder, map[*tables.Table]int, []int, bool, error) {
	c := newCompiler(op, v, caller)
	path := "$.selectionSet." + f.Name
	field := merged(f)
	b := &sqlbuild.Builder{}
	var position []int
	var err error
	switch rf.Kind {
	case tables.Select:
		err = c.selectList(b, rf.Table, field, path)
	case tables.SelectByPK:
		err = c.selectByPK(b, rf.Table, field, path, maxBytes)
	case tables.SelectAggregate:
		err = c.selectAggregate(b, rf.Table, field, path)
	case tables.SelectStream:
		position, err = c.selectStream(b, rf.Table, field, path)
	case tables.FunctionSelect, tables.FunctionAggregate:
		if c.source, err = c.functionSource(rf.Function, field, path); err != nil {
			break
		}
		c.read(rf.Table)
		if rf.Kind == tables.FunctionAggregate {
			err = c.selectAggregate(b, rf.Table, field, path)
			break
		}
		err = c.selectList(b, rf.Table, field, path)
		if !rf.Function.ReturnsSet {
			b.Wrap("SELECT (", ") -> 0") // one row: the object, or null
		}
	default:
		return nil, nil, nil, false, fmt.Errorf("engine: %s does not read", f.Name)
	}
	if err != nil {
		return nil, nil, nil, false, err
	}
	if rf.Kind != tables.SelectByPK { // which writes j and max itself
		b.Wrap("SELECT (", ") AS j, ").TypedArg(maxBytes, "bigint").S(" AS max OFFSET 0")
	}
	return b, c.reads, position, c.calls, nil
}

// StreamPosition is a stream's arguments with its position moved: from
// to next (unless nil), until to until (nil: up to nothing).
func StreamPosition(args []any, position []int, next, until []string) ([]any, error) {
	out := append([]any(nil), args...)
	if err := streamPosition(out, position, next, until); err != nil {
		return nil, err
	}
	return out, nil
}

// capped wraps b, a query of one row of the answer j and the byte budget
// max, into the answer checked against the budget: an answer over it is
// an error before any of it is sent (migration 00008). OFFSET 0 in the
// query keeps PostgreSQL from copying j's expression into each use.
func capped(b *sqlbuild.Builder) {
	b.Wrap("SELECT CASE WHEN octet_length(q.j::text) <= q.max THEN q.j "+
		"ELSE freshgraph_response_too_large(octet_length(q.j::text), q.max) END FROM (", ") q")
}

// Run executes the statement and returns its one JSON value.
func (st Statement) Run(ctx context.Context, db database.Conn) ([]byte, error) {
	return runSQL(ctx, db, st.SQL, st.Args, "")
}

// mutationPath is where Hasura points a database error of the field: the
// input rows of an insert, the field itself otherwise.
func mutationPath(rf tables.RootField, path string) string {
	switch rf.Kind {
	case tables.Insert:
		return path + ".args.objects"
	case tables.InsertOne:
		return path + ".args.object"
	}
	return ""
}

// run executes a compiled statement and returns its one JSON value: null
// when it returns no row (a _by_pk of no row).
func run(ctx context.Context, db database.Conn, b *sqlbuild.Builder, errPath string) ([]byte, error) {
	return runSQL(ctx, db, b.SQL(), b.Args(), errPath)
}

func runSQL(ctx context.Context, db database.Conn, sql string, args []any, errPath string) ([]byte, error) {
	var out []byte
	if err := db.QueryRow(ctx, sql, args...).Scan(&out); errors.Is(err, pgx.ErrNoRows) {
		return []byte("null"), nil
	} else if err != nil {
		return nil, databaseError(err, errPath)
	}
	if out == nil {
		return []byte("null"), nil
	}
	return out, nil
}

// UserJSON writes the JSON of a users row for the selection sel (e.g. the
// user of session { user { … } }), over the alias authjs.UserAlias, for the
// session API's statements to embed. The row is the caller's own, so it is
// read whole where the role has no select permission on users of its own;
// relationships follow the role's permissions, as they do through
// users_by_pk.
func UserJSON(op *graphql.OperationContext, sel ast.SelectionSet, v *tables.View, caller auth.Caller, path string) (sqlbuild.Fragment, error) {
	c := newCompiler(op, v, caller)
	c.ownUser = true
	b := &sqlbuild.Builder{}
	err := c.row(b, v.Cat.Users(), authjs.UserAlias, sel, path)
	return b.Fragment(), err
}
