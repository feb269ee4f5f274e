package engine

import (
	"fmt"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// The one compiler of Hasura's boolean expressions: a request's where and
// a permission's filter or check (tables.BoolExp) become the same SQL.
// Values are always parameters, each cast to its type for PostgreSQL to
// read; relationships become EXISTS subqueries.

// compile writes e over the row alias of the rows it filters; root is the
// alias of the row of the table the expression is on, which a permission's
// ["$", "col"] names (alias itself at the top).
func (c *compiler) compile(b *sqlbuild.Builder, e tables.BoolExp, alias, root string) error {
	switch x := e.(type) {
	case nil:
		b.S("true")
	case tables.And:
		return c.connect(b, x, " AND ", "true", alias, root)
	case tables.Or:
		return c.connect(b, x, " OR ", "false", alias, root)
	case tables.Not:
		b.S("NOT (")
		if err := c.compile(b, x.Exp, alias, root); err != nil {
			return err
		}
		b.S(")")
	case tables.Compare:
		value := func(b *sqlbuild.Builder) { b.Col(alias, x.Column.SQLName) }
		if x.Computed != nil {
			value = func(b *sqlbuild.Builder) { c.computedCall(b, x.Computed, alias) }
		}
		column := value
		if x.AsText {
			column = func(b *sqlbuild.Builder) { b.S("("); value(b); b.S(")::text") }
		}
		return c.comparison(b, column, x.Comparison)
	case tables.ComputedRows:
		inner := c.alias()
		b.S("EXISTS (SELECT 1 FROM ")
		c.computedCall(b, x.Field, alias)
		c.read(x.Field.Returns)
		b.S(" " + inner + " WHERE ")
		if err := c.compile(b, x.Where, inner, root); err != nil {
			return err
		}
		b.S(")")
	case tables.CompareColumns:
		other := alias
		if x.Root {
			other = root
		}
		b.S("(").Col(alias, x.Column.SQLName).S(x.Op.SQL()).Col(other, x.Other.SQLName).S(")")
	case tables.Related:
		inner := c.alias()
		c.table(b.S("EXISTS (SELECT 1 FROM "), x.Rel.Target).S(" " + inner + " WHERE ")
		if err := c.joinWhere(b, x.Rel, alias, inner, x.Where, root); err != nil {
			return err
		}
		b.S(")")
	case tables.Exists:
		inner := c.alias()
		c.table(b.S("EXISTS (SELECT 1 FROM "), x.Table).S(" " + inner + " WHERE ")
		if err := c.compile(b, x.Where, inner, root); err != nil {
			return err
		}
		b.S(")")
	case tables.Count:
		return c.countPredicate(b, x, alias, root)
	default:
		return fmt.Errorf("engine: no SQL for the expression %T", e)
	}
	return nil
}

// connect writes the expressions joined by op; empty, it writes none.
func (c *compiler) connect(b *sqlbuild.Builder, exps []tables.BoolExp, op, none, alias, root string) error {
	switch len(exps) {
	case 0:
		b.S(none)
		return nil
	case 1:
		return c.compile(b, exps[0], alias, root)
	}
	b.S("(")
	for i, e := range exps {
		if i > 0 {
			b.S(op)
		}
		if err := c.compile(b, e, alias, root); err != nil {
			return err
		}
	}
	b.S(")")
	return nil
}

// countPredicate writes a predicate on the number of related rows: EXISTS over the
// one row of the count, the predicate its filter.
func (c *compiler) countPredicate(b *sqlbuild.Builder, x tables.Count, alias, root string) error {
	inner, counted := c.alias(), c.alias()
	b.S("EXISTS (SELECT 1 FROM (SELECT ")
	countOf(b, inner, x.Columns, x.Distinct)
	c.table(b.S(" AS n FROM "), x.Rel.Target).S(" " + inner + " WHERE ")
	if err := c.joinWhere(b, x.Rel, alias, inner, x.Filter, root); err != nil {
		return err
	}
	b.S(") " + counted + " WHERE ")
	if len(x.Predicate) == 0 {
		b.S("true")
	}
	for i, cmp := range x.Predicate {
		if i > 0 {
			b.S(" AND ")
		}
		if err := c.comparison(b, func(b *sqlbuild.Builder) { b.S(counted + ".n") }, cmp); err != nil {
			return err
		}
	}
	b.S(")")
	return nil
}

// countOf writes count(*), or count([DISTINCT] columns) over the row alias.
func countOf(b *sqlbuild.Builder, alias string, cols []tables.Column, distinct bool) {
	if len(cols) == 0 {
		b.S("count(*)")
		return
	}
	b.S("count(")
	if distinct {
		b.S("DISTINCT ")
	}
	if len(cols) > 1 {
		b.S("(")
	}
	for i, col := range cols {
		if i > 0 {
			b.S(", ")
		}
		b.Col(alias, col.SQLName)
	}
	if len(cols) > 1 {
		b.S(")")
	}
	b.S(")")
}

// comparison writes the comparison cmp of the value left writes.
func (c *compiler) comparison(b *sqlbuild.Builder, left func(*sqlbuild.Builder), cmp tables.Comparison) error {
	if cmp.Type.Class == tables.ClassJSON && !cmp.Type.List && cmp.Op != tables.OpIsNull {
		// json has no = or <: its values compare as jsonb's, as equal
		// JSON is equal whatever its spaces and keys' order.
		column := left
		left = func(b *sqlbuild.Builder) { b.S("("); column(b); b.S(")::jsonb") }
		cmp.Type = jsonb
	}
	typ := cmp.Op.OperandType(cmp.Type)
	switch cmp.Op {
	case tables.OpIsNull:
		left(b)
		if lit, _ := cmp.Operand.(tables.Literal); lit.Text == "true" {
			b.S(" IS NULL")
		} else {
			b.S(" IS NOT NULL")
		}
		return nil
	case tables.OpIn, tables.OpNin:
		if cmp.Op == tables.OpNin {
			b.S("NOT ")
		}
		b.S("(")
		err := c.in(b, left, typ, cmp.Operand)
		b.S(")")
		return err
	case tables.OpHasKeysAny, tables.OpHasKeysAll:
		b.S("(")
		left(b)
		b.S(cmp.Op.SQL())
		switch x := cmp.Operand.(type) {
		case tables.Literals:
			b.Arg(texts(x)).S("::text[]")
		case tables.SessionVariable:
			if err := c.sessionValue(b, x.Name, "text[]"); err != nil {
				return err
			}
		}
		b.S(")")
		return nil
	}
	if lit, ok := cmp.Operand.(tables.Literal); ok && lit.Null && cmp.NullAware {
		// A permission's {col: null}: Hasura's NullableComparison.
		left(b)
		if cmp.Op == tables.OpEq {
			b.S(" IS NULL")
		} else {
			b.S(" IS NOT NULL")
		}
		return nil
	}
	b.S("(")
	left(b)
	b.S(cmp.Op.SQL())
	if err := c.operand(b, typ, cmp.Operand); err != nil {
		return err
	}
	b.S(")")
	return nil
}

// jsonb is the type a json value compares as.
var jsonb = tables.Type{GraphQL: "jsonb", SQL: "jsonb", Class: tables.ClassJSONB}

// in writes left = ANY(list): one parameter however long the list, whose
// items PostgreSQL reads as typ. The items of an array column's list are
// arrays, which ANY would flatten: each is a parameter of its own.
func (c *compiler) in(b *sqlbuild.Builder, left func(*sqlbuild.Builder), typ tables.Type, operand tables.Operand) error {
	switch x := operand.(type) {
	case tables.SessionVariable:
		left(b)
		b.S(" = ANY(")
		if err := c.sessionValue(b, x.Name, typ.ArrayOf()); err != nil {
			return err
		}
		b.S(")")
	case tables.Literals:
		if !typ.List {
			left(b)
			b.S(" = ANY(").Arg(texts(x)).S("::text[]::" + typ.ArrayOf() + ")")
			return nil
		}
		if len(x) == 0 {
			b.S("false")
			return nil
		}
		left(b)
		b.S(" IN (")
		for i, v := range x {
			if i > 0 {
				b.S(", ")
			}
			bind(b, v, typ)
		}
		b.S(")")
	}
	return nil
}

// texts are the texts of scalar values.
func texts(values tables.Literals) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = v.Text
	}
	return out
}

// operand writes a comparison's operand, or a column preset, as a value of
// typ.
func (c *compiler) operand(b *sqlbuild.Builder, typ tables.Type, operand tables.Operand) error {
	switch x := operand.(type) {
	case tables.Literal:
		bind(b, tables.Value(x), typ)
	case tables.SessionVariable:
		return c.sessionValue(b, x.Name, typ.SQL)
	default:
		return fmt.Errorf("engine: operand %T of a scalar comparison", operand)
	}
	return nil
}

// sessionValue writes the caller's session variable name cast to typ, as
// Hasura casts its text. A cookie caller's X-Hasura-User-Id is the user of
// its live session, read in the same statement; a variable the caller
// lacks fails the request, in Hasura's words.
func (c *compiler) sessionValue(b *sqlbuild.Builder, name, typ string) error {
	if name == "x-hasura-user-id" && c.caller.UserID == "" && c.caller.SessionToken != "" {
		authjs.UserOfSession(b, c.caller.SessionToken)
		b.S("::text::" + typ)
		return nil
	}
	value, ok := c.caller.Var(name)
	if !ok {
		return &hasura.Error{Code: hasura.CodeNotFound, Message: fmt.Sprintf("missing session variable: %q", name)}
	}
	b.TypedArg(value, "text").S("::" + typ)
	return nil
}

// joinWhere writes the condition of a related row's subquery: the join to
// the outer row, and where, unless it holds for every row.
func (c *compiler) joinWhere(b *sqlbuild.Builder, rel tables.Relationship, outer, inner string, where tables.BoolExp, root string) error {
	join(b, rel, outer, inner)
	if tables.IsTrue(where) {
		return nil
	}
	b.S(" AND ")
	return c.compile(b, where, inner, root)
}

// join writes the join condition of rel between the rows outer and inner.
func join(b *sqlbuild.Builder, rel tables.Relationship, outer, inner string) {
	for i, m := range rel.Mapping {
		if i > 0 {
			b.S(" AND ")
		}
		b.Col(inner, m.To).S(" = ").Col(outer, m.From)
	}
}

// readable is the role's select filter on t: which of its rows the role
// reads wherever they show (true for the session API's own user row).
func (c *compiler) readable(t *tables.Table, path string) (tables.BoolExp, error) {
	p := c.view.Of(t).Select
	if p == nil {
		if c.wholeUserRow(t) {
			return tables.True, nil
		}
		return nil, invalid(path, "no permission to read table '%s'", t.Name)
	}
	return p.Filter, nil
}

// visible ANDs the role's select filter on t over the row alias.
func (c *compiler) visible(b *sqlbuild.Builder, t *tables.Table, alias, path string) error {
	filter, err := c.readable(t, path)
	if err != nil || tables.IsTrue(filter) {
		return err
	}
	b.S(" AND ")
	return c.compile(b, filter, alias, alias)
}

// wholeUserRow reports whether t is the session's own user row, read whole
// (tables.View.WholeUserRow), in what is being compiled.
func (c *compiler) wholeUserRow(t *tables.Table) bool {
	return c.ownUser && c.view.WholeUserRow(t)
}

// selects reports whether the role reads column name of t.
func (c *compiler) selects(t *tables.Table, name string) bool {
	if c.wholeUserRow(t) {
		_, ok := t.Column(name)
		return ok
	}
	return c.view.Of(t).Selects(name)
}

// follows reports whether the role follows relationship name of t.
func (c *compiler) follows(t *tables.Table, name string) (tables.Relationship, bool) {
	rel, ok := t.Relationship(name)
	if !ok || (c.view.Of(t).Select == nil && !c.wholeUserRow(t)) || !c.view.Selectable(rel.Target) {
		return tables.Relationship{}, false
	}
	return rel, true
}
