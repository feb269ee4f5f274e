package engine

import (
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// maxObjectFields bounds the fields of one selection set: json_build_object
// takes at most 100 arguments, a key and a value per field.
const maxObjectFields = 50

// object writes json_build_object(key, value, …) for the fields of a
// selection set; value writes one field's value.
func (c *compiler) object(b *sqlbuild.Builder, sel ast.SelectionSet, typeName, path string,
	value func(b *sqlbuild.Builder, name string, f *ast.Field, path string) error) error {
	fields := c.collect(sel, typeName)
	if len(fields) > maxObjectFields {
		return invalid(path, "a selection set may have at most %d fields", maxObjectFields)
	}
	b.S("json_build_object(")
	for i, f := range fields {
		if i > 0 {
			b.S(", ")
		}
		b.Name(f.Alias).S(", ")
		p := path + ".selectionSet." + f.Name
		if f.Name == "__typename" {
			b.Name(typeName)
			continue
		}
		if err := value(b, f.Name, merged(f), p); err != nil {
			return err
		}
	}
	b.S(")")
	return nil
}

// merged is the field f stands for: its selection set is that of every
// field of its response name, which GraphQL merges (a field asked for
// twice, once through a fragment, has the selections of both).
func merged(f graphql.CollectedField) *ast.Field {
	if len(f.Selections) == len(f.Field.SelectionSet) {
		return f.Field
	}
	field := *f.Field
	field.SelectionSet = f.Selections
	return &field
}

// row writes the JSON of the row alias of t, as the selection set asks.
func (c *compiler) row(b *sqlbuild.Builder, t *tables.Table, alias string, sel ast.SelectionSet, path string) error {
	return c.object(b, sel, t.Name, path, func(b *sqlbuild.Builder, name string, f *ast.Field, p string) error {
		if col, ok := t.Column(name); ok && c.selects(t, name) {
			return c.columnValue(b, alias, col, f, p)
		}
		if cf, ok := t.ComputedField(name); ok && c.view.ReadsComputedField(t, cf) {
			return c.computedValue(b, t, alias, cf, f, p)
		}
		relName, aggregate := strings.CutSuffix(name, "_aggregate")
		if !aggregate {
			relName = name
		}
		rel, ok := c.follows(t, relName)
		if !ok || (aggregate && (!rel.Array || !c.aggregates(rel.Target))) {
			return notFound(p, name, t.Name)
		}
		target := rel.Target
		inner := c.alias()
		correlate := func(b *sqlbuild.Builder) { join(b, rel, alias, inner) }
		switch {
		case aggregate:
			b.S("(")
			err := c.aggregate(b, target, inner, f, correlate, p)
			b.S(")")
			return err
		case rel.Array:
			b.S("(")
			err := c.list(b, target, inner, f, correlate, p)
			b.S(")")
			return err
		}
		b.S("(SELECT ")
		if err := c.row(b, target, inner, f.SelectionSet, p); err != nil {
			return err
		}
		c.table(b.S(" FROM "), target).S(" " + inner + " WHERE ")
		correlate(b)
		if err := c.visible(b, target, inner, p); err != nil {
			return err
		}
		b.S(")")
		return nil
	})
}

// orderItem is one ORDER BY expression and its direction.
type orderItem struct {
	expr   func(b *sqlbuild.Builder)
	dir    string
	column string // set when expr is a plain column, for distinct_on
}

var directions = map[string]string{
	"asc": "ASC NULLS LAST", "asc_nulls_first": "ASC NULLS FIRST", "asc_nulls_last": "ASC NULLS LAST",
	"desc": "DESC NULLS FIRST", "desc_nulls_first": "DESC NULLS FIRST", "desc_nulls_last": "DESC NULLS LAST",
}

// orderBy reads order_by (one object or a list) into ORDER BY items over the
// row alias of t.
func (c *compiler) orderBy(t *tables.Table, alias string, v any, path string) ([]orderItem, error) {
	var items []orderItem
	for i, o := range list(v) {
		p := fmt.Sprintf("%s[%d]", path, i)
		if _, ok := v.([]any); !ok {
			p = path
		}
		more, err := c.orderObject(t, alias, o, p)
		if err != nil {
			return nil, err
		}
		items = append(items, more...)
	}
	return items, nil
}

func (c *compiler) orderObject(t *tables.Table, alias string, v any, path string) ([]orderItem, error) {
	m, err := object(v, path, t.Name+"_order_by")
	if err != nil {
		return nil, err
	}
	var items []orderItem
	for _, key := range sortedKeys(m) {
		val := m[key]
		p := path + "." + key
		if val == nil {
			continue
		}
		if col, ok := t.Column(key); ok && c.selects(t, key) {
			dir, err := direction(val, p)
			if err != nil {
				return nil, err
			}
			items = append(items, orderItem{expr: func(b *sqlbuild.Builder) { ordered(b, alias, col) }, dir: dir, column: col.Name})
			continue
		}
		if cf, ok := c.filterable(t, key); ok && cf.Returns == nil && cf.Scalar.Ordered {
			dir, err := direction(val, p)
			if err != nil {
				return nil, err
			}
			items = append(items, orderItem{expr: func(b *sqlbuild.Builder) { c.computedCall(b, cf, alias) }, dir: dir})
			continue
		}
		relName, aggregate := strings.CutSuffix(key, "_aggregate")
		if !aggregate {
			relName = key
		}
		if cf, ok := c.filterable(t, relName); ok && aggregate && cf.Returns != nil && c.aggregates(cf.Returns) {
			// A table computed field's rows, by an aggregate of them.
			target, inner := cf.Returns, c.alias()
			agg, err := c.aggregateOrder(target, inner, val, p, func(value func(b *sqlbuild.Builder)) func(b *sqlbuild.Builder) {
				return func(b *sqlbuild.Builder) {
					b.S("(SELECT ")
					value(b)
					b.S(" FROM ")
					c.computedCall(b, cf, alias)
					b.S(" " + inner + " WHERE true")
					_ = c.visible(b, target, inner, p)
					b.S(")")
				}
			})
			if err != nil {
				return nil, err
			}
			items = append(items, agg...)
			continue
		}
		rel, ok := c.follows(t, relName)
		if !ok || aggregate != rel.Array || (aggregate && !c.aggregates(rel.Target)) {
			return nil, notFound(p, key, t.Name+"_order_by")
		}
		target := rel.Target
		inner := c.alias()
		// Each item reads one value of the related rows in a subquery.
		sub := func(value func(b *sqlbuild.Builder)) func(b *sqlbuild.Builder) {
			return func(b *sqlbuild.Builder) {
				b.S("(SELECT ")
				value(b)
				c.table(b.S(" FROM "), target).S(" " + inner + " WHERE ")
				join(b, rel, alias, inner)
				_ = c.visible(b, target, inner, p)
				b.S(")")
			}
		}
		if !aggregate {
			nested, err := c.orderObject(target, inner, val, p)
			if err != nil {
				return nil, err
			}
			for _, n := range nested {
				items = append(items, orderItem{expr: sub(n.expr), dir: n.dir})
			}
			continue
		}
		agg, err := c.aggregateOrder(target, inner, val, p, sub)
		if err != nil {
			return nil, err
		}
		items = append(items, agg...)
	}
	return items, nil
}

// aggregateOrder reads a <target>_aggregate_order_by: each aggregate of the
// rows of target (as inner) that sub reads in a subquery.
func (c *compiler) aggregateOrder(target *tables.Table, inner string, val any, p string,
	sub func(value func(b *sqlbuild.Builder)) func(b *sqlbuild.Builder)) ([]orderItem, error) {
	var items []orderItem
	agg, err := object(val, p, target.Name+"_aggregate_order_by")
	if err != nil {
		return nil, err
	}
	for _, fn := range sortedKeys(agg) {
		av, ap := agg[fn], p+"."+fn
		if av == nil {
			continue
		}
		if fn == "count" {
			dir, err := direction(av, ap)
			if err != nil {
				return nil, err
			}
			items = append(items, orderItem{expr: sub(func(b *sqlbuild.Builder) { b.S("count(*)") }), dir: dir})
			continue
		}
		cols, err := object(av, ap, target.Name+"_"+fn+"_order_by")
		if err != nil || !slices.Contains(target.AggregateFunctions(), fn) {
			return nil, notFound(ap, fn, target.Name+"_aggregate_order_by")
		}
		for _, cn := range sortedKeys(cols) {
			col, ok := target.Column(cn)
			if !ok || !c.selects(target, cn) || !aggregates(fn, col) || cols[cn] == nil {
				continue
			}
			dir, err := direction(cols[cn], ap+"."+cn)
			if err != nil {
				return nil, err
			}
			items = append(items, orderItem{expr: sub(func(b *sqlbuild.Builder) { aggregateOf(b, fn, inner, col) }), dir: dir})
		}
	}
	return items, nil
}

// ordered writes the column col of the row alias as it orders and
// compares: a json column as jsonb, json having no order of its own.
func ordered(b *sqlbuild.Builder, alias string, col tables.Column) {
	if col.Type.Class == tables.ClassJSON {
		b.S("(").Col(alias, col.SQLName).S(")::jsonb")
		return
	}
	b.Col(alias, col.SQLName)
}

func direction(v any, path string) (string, error) {
	s, _ := enumValue(v)
	dir, ok := directions[s]
	if !ok {
		return "", invalid(path, "expected a value of type 'order_by'")
	}
	return dir, nil
}

// aggregates reports whether the aggregate fn applies to col.
func aggregates(fn string, col tables.Column) bool { return tables.AggregateApplies(fn, col.Type) }

// aggregateOf writes fn(col), fn one of the aggregates that apply to col
// (its name is PostgreSQL's too); uuid has no max or min in PostgreSQL, so
// it goes through text, which orders uuids the same way.
func aggregateOf(b *sqlbuild.Builder, fn, alias string, col tables.Column) {
	b.S(fn+"(").Col(alias, col.SQLName)
	if col.Type.SQL == "uuid" {
		b.S("::text)::uuid")
		return
	}
	b.S(")")
}

// columnValue writes the value of the column col of the row alias, as the
// field f asks: a json or jsonb column's field may take a path into it.
func (c *compiler) columnValue(b *sqlbuild.Builder, alias string, col tables.Column, f *ast.Field, path string) error {
	return c.valueOf(b, func(b *sqlbuild.Builder) { b.Col(alias, col.SQLName) }, col.Type, f, path)
}

// valueOf writes the value that expr writes, of type typ, as the field f
// selects it: stringified where the catalogue asks, a json value at its
// path argument.
func (c *compiler) valueOf(b *sqlbuild.Builder, expr func(*sqlbuild.Builder), typ tables.Type, f *ast.Field, path string) error {
	if !typ.IsJSON() {
		expr(b)
		c.stringify(b, typ)
		return nil
	}
	at, ok := c.args(f)["path"]
	if !ok || at == nil {
		expr(b)
		return nil
	}
	text, ok := at.(string)
	if !ok {
		return invalid(path+".args.path", "expected a string for type 'String'")
	}
	keys, err := jsonPath(text)
	if err != nil {
		return invalid(path+".args.path", "parse json path error: %s", err)
	}
	if len(keys) == 0 {
		expr(b)
		return nil
	}
	b.S("(")
	expr(b)
	b.S(" #> ").TypedArg(keys, "text[]").S(")")
	return nil
}

// stringify casts a value of type typ just written to text, so that it
// reaches the client as a JSON string, where the catalogue asks for it.
func (c *compiler) stringify(b *sqlbuild.Builder, typ tables.Type) {
	if typ.BigNumber && c.cat().StringifyNumbers {
		b.S("::text")
	}
}

func writeOrder(b *sqlbuild.Builder, items []orderItem) {
	for i, it := range items {
		if i > 0 {
			b.S(", ")
		}
		it.expr(b)
		b.S(" " + it.dir)
	}
}

// rowsQuery is what a list field's arguments ask for.
type rowsQuery struct {
	args     map[string]any
	order    []orderItem
	distinct []string
}

// parseRows reads a list field's arguments: order_by and distinct_on here,
// the rest as the subquery is written.
func (c *compiler) parseRows(t *tables.Table, alias string, args map[string]any, path string) (*rowsQuery, error) {
	p := path + ".args"
	q := &rowsQuery{args: args}
	if v, ok := args["order_by"]; ok && v != nil {
		var err error
		if q.order, err = c.orderBy(t, alias, v, p+".order_by"); err != nil {
			return nil, err
		}
	}
	if v, ok := args["distinct_on"]; ok && v != nil {
		cols, err := stringsOf(v, p+".distinct_on")
		if err != nil {
			return nil, err
		}
		for _, name := range cols {
			if _, ok := t.Column(name); !ok || !c.selects(t, name) {
				return nil, notFound(p+".distinct_on", name, t.Name+"_select_column")
			}
		}
		if err := distinctMatchesOrder(cols, q.order, p); err != nil {
			return nil, err
		}
		q.distinct = cols
	}
	return q, nil
}

// writeRows writes the subquery that picks the rows of t for a list: where
// (ANDed with the caller's row filter, and correlate for a relationship),
// distinct_on, order_by, limit and offset.
func (c *compiler) writeRows(b *sqlbuild.Builder, t *tables.Table, alias string, q *rowsQuery,
	correlate func(*sqlbuild.Builder), path string) error {
	return c.writeLimitedRows(b, t, alias, q, correlate, path, c.rowLimit(t))
}

// writeLimitedRows is writeRows with the role's select limit given: -1 for
// none, as an aggregate's, whose values count every row the role may read.
func (c *compiler) writeLimitedRows(b *sqlbuild.Builder, t *tables.Table, alias string, q *rowsQuery,
	correlate func(*sqlbuild.Builder), path string, limit int64) error {
	p := path + ".args"
	b.S("SELECT ")
	if len(q.distinct) > 0 {
		b.S("DISTINCT ON (")
		for i, name := range q.distinct {
			if i > 0 {
				b.S(", ")
			}
			col, _ := t.Column(name)
			ordered(b, alias, col)
		}
		b.S(") ")
	}
	b.S(alias + ".* FROM ")
	if c.source != nil && correlate == nil {
		c.source(b) // the root's rows: a function's
	} else {
		c.table(b, t)
	}
	b.S(" " + alias + " WHERE true")
	if correlate != nil {
		b.S(" AND ")
		correlate(b)
	}
	if err := c.visible(b, t, alias, path); err != nil {
		return err
	}
	if v, ok := q.args["where"]; ok {
		if v == nil {
			return invalid(p+".where", "unexpected null value for type '%s_bool_exp'", t.Name)
		}
		where, err := c.where(t, v, p+".where")
		if err != nil {
			return err
		}
		if !tables.IsTrue(where) {
			b.S(" AND ")
			if err := c.compile(b, where, alias, alias); err != nil {
				return err
			}
		}
	}
	if len(q.order) > 0 {
		b.S(" ORDER BY ")
		writeOrder(b, q.order)
	}
	for _, clause := range []string{"limit", "offset"} {
		if v, ok := q.args[clause]; ok && v != nil {
			read := intValue
			if clause == "offset" {
				read = offsetValue
			}
			n, err := read(v, p+"."+clause)
			if err != nil {
				return err
			}
			if clause == "limit" && limit >= 0 && limit < n {
				n = limit
			}
			if clause == "limit" {
				limit = -1
			}
			b.S(" " + strings.ToUpper(clause) + " ").Arg(n)
		}
	}
	if limit >= 0 {
		// The role's select limit, Hasura's min with the caller's.
		b.S(" LIMIT ").Arg(limit)
	}
	return nil
}

// distinctMatchesOrder enforces PostgreSQL's rule, in Hasura's words.
func distinctMatchesOrder(cols []string, order []orderItem, path string) error {
	if len(order) == 0 {
		return nil
	}
	mismatch := invalid(path, `"distinct_on" columns must match initial "order_by" columns`)
	if len(order) < len(cols) {
		return mismatch
	}
	want := map[string]bool{}
	for _, col := range cols {
		want[col] = true
	}
	for _, it := range order[:len(cols)] {
		if !want[it.column] {
			return mismatch
		}
	}
	return nil
}

// list writes a statement (or subquery) giving the JSON array of the rows a
// list field selects, in the order it asks for.
func (c *compiler) list(b *sqlbuild.Builder, t *tables.Table, alias string, f *ast.Field,
	correlate func(*sqlbuild.Builder), path string) error {
	return c.listWith(b, t, alias, f, correlate, path, nil)
}

// listWith is list, with more columns after the array, if more writes any.
func (c *compiler) listWith(b *sqlbuild.Builder, t *tables.Table, alias string, f *ast.Field,
	correlate func(*sqlbuild.Builder), path string, more func(*sqlbuild.Builder)) error {
	q, err := c.parseRows(t, alias, c.args(f), path)
	if err != nil {
		return err
	}
	b.S("SELECT coalesce(json_agg(")
	if err := c.row(b, t, alias, f.SelectionSet, path); err != nil {
		return err
	}
	if len(q.order) > 0 {
		b.S(" ORDER BY ")
		writeOrder(b, q.order)
	}
	b.S("), '[]'::json)")
	if more != nil {
		more(b)
	}
	b.S(" FROM (")
	if err := c.writeRows(b, t, alias, q, correlate, path); err != nil {
		return err
	}
	b.S(") " + alias)
	return nil
}

// aggregate writes a statement (or subquery) giving the JSON of an
// <t>_aggregate field: {aggregate: {count, max, min}, nodes: […]}, computed
// over the rows its arguments pick.
func (c *compiler) aggregate(b *sqlbuild.Builder, t *tables.Table, alias string, f *ast.Field,
	correlate func(*sqlbuild.Builder), path string) error {
	q, err := c.parseRows(t, alias, c.args(f), path)
	if err != nil {
		return err
	}
	b.S("SELECT ")
	err = c.object(b, f.SelectionSet, t.Name+"_aggregate", path, func(b *sqlbuild.Builder, name string, af *ast.Field, p string) error {
		switch name {
		case "nodes":
			b.S("coalesce(json_agg(")
			if err := c.row(b, t, alias, af.SelectionSet, p); err != nil {
				return err
			}
			if len(q.order) > 0 {
				b.S(" ORDER BY ")
				writeOrder(b, q.order)
			}
			b.S("), '[]'::json)")
			return nil
		case "aggregate":
			return c.object(b, af.SelectionSet, t.Name+"_aggregate_fields", p, func(b *sqlbuild.Builder, fn string, ff *ast.Field, fp string) error {
				if fn == "count" {
					args := c.args(ff)
					return c.count(b, t, alias, args["columns"], args["distinct"], fp)
				}
				if !slices.Contains(t.AggregateFunctions(), fn) {
					return notFound(fp, fn, t.Name+"_aggregate_fields")
				}
				return c.object(b, ff.SelectionSet, t.Name+"_"+fn+"_fields", fp, func(b *sqlbuild.Builder, cn string, _ *ast.Field, cp string) error {
					col, ok := t.Column(cn)
					if !ok || !c.selects(t, cn) || !aggregates(fn, col) {
						return notFound(cp, cn, t.Name+"_"+fn+"_fields")
					}
					// Hasura stringifies by the column's type, so the avg of
					// an integer column stays a number.
					aggregateOf(b, fn, alias, col)
					c.stringify(b, col.Type)
					return nil
				})
			})
		}
		return notFound(p, name, t.Name+"_aggregate")
	})
	if err != nil {
		return err
	}
	b.S(" FROM (")
	if err := c.writeLimitedRows(b, t, alias, q, correlate, path, -1); err != nil {
		return err
	}
	b.S(") " + alias)
	return nil
}

// count writes count(*), or count([DISTINCT] columns), of a <t>_aggregate.
func (c *compiler) count(b *sqlbuild.Builder, t *tables.Table, alias string, columns, distinct any, path string) error {
	cols, d, err := c.counted(t, columns, distinct, path+".args.columns", path+".args.distinct")
	if err != nil {
		return err
	}
	countOf(b, alias, cols, d)
	return nil
}

// counted reads what a count counts: columns of t the role selects (at
// columnsPath), and whether distinct ones (at distinctPath).
func (c *compiler) counted(t *tables.Table, columns, distinct any, columnsPath, distinctPath string) ([]tables.Column, bool, error) {
	names, err := stringsOf(columns, columnsPath)
	if err != nil {
		return nil, false, err
	}
	var cols []tables.Column
	for _, name := range names {
		col, ok := t.Column(name)
		if !ok || !c.selects(t, name) {
			return nil, false, notFound(columnsPath, name, t.Name+"_select_column")
		}
		cols = append(cols, col)
	}
	d := false
	if distinct != nil {
		if d, err = boolValue(distinct, distinctPath); err != nil {
			return nil, false, err
		}
	}
	return cols, d, nil
}

// keyedList writes a live list's statement: its answer j, the byte
// budget max, and k, the keys (as text) of the rows it shows.
func (c *compiler) keyedList(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, path string, maxBytes int64) error {
	alias := c.alias()
	key, _ := t.Column(t.PrimaryKey[0])
	return c.listWith(b, t, alias, f, nil, path, func(b *sqlbuild.Builder) {
		b.S(" AS j, ").TypedArg(maxBytes, "bigint").S(" AS max, array_agg(").Col(alias, key.SQLName).S("::text) AS k")
	})
}

// probe writes whether a row of t whose key is among the text array $2
// is one the list f would pick, before its order and limit: the role's
// filter and the list's where.
func (c *compiler) probe(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, path string) error {
	alias := c.alias()
	args := map[string]any{}
	if w, ok := c.args(f)["where"]; ok {
		args["where"] = w
	}
	key, _ := t.Column(t.PrimaryKey[0])
	b.S("EXISTS (")
	err := c.writeLimitedRows(b, t, alias, &rowsQuery{args: args}, func(b *sqlbuild.Builder) {
		b.Col(alias, key.SQLName).S(" = ANY($2::text[]::" + key.Type.SQL + "[])")
	}, path, -1)
	b.S(")")
	return err
}

// selectList answers <t>(where, order_by, …): a JSON array.
func (c *compiler) selectList(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, path string) error {
	return c.list(b, t, c.alias(), f, nil, path)
}

// selectAggregate answers <t>_aggregate.
func (c *compiler) selectAggregate(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, path string) error {
	return c.aggregate(b, t, c.alias(), f, nil, path)
}

// pkFilter writes "alias.pk = $n AND …" for the primary key values in m.
func (c *compiler) pkFilter(b *sqlbuild.Builder, t *tables.Table, alias string, m map[string]any, path string) error {
	for i, k := range t.PrimaryKey {
		col, _ := t.Column(k)
		v, err := read(col.Type, m[k], path+"."+k)
		if err != nil {
			return err
		}
		if i > 0 {
			b.S(" AND ")
		}
		b.Col(alias, col.SQLName).S(" = ")
		bind(b, v, col.Type)
	}
	return nil
}

// selectByPK answers <t>_by_pk(pk…): the row's JSON as j, beside the
// byte budget as max (capped), or no row at all (null). A plain SELECT of
// the row, no subquery around it, is the least work for PostgreSQL.
func (c *compiler) selectByPK(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, path string, maxBytes int64) error {
	alias := c.alias()
	b.S("SELECT ")
	if err := c.row(b, t, alias, f.SelectionSet, path); err != nil {
		return err
	}
	b.S(" AS j, ").TypedArg(maxBytes, "bigint").S(" AS max")
	c.table(b.S(" FROM "), t).S(" " + alias + " WHERE ")
	if err := c.pkFilter(b, t, alias, c.args(f), path+".args"); err != nil {
		return err
	}
	if err := c.visible(b, t, alias, path); err != nil {
		return err
	}
	b.S(" OFFSET 0")
	return nil
}

// aggregates reports whether the role has t's aggregates.
func (c *compiler) aggregates(t *tables.Table) bool {
	p := c.view.Of(t).Select
	return p != nil && p.Aggregations
}

// rowLimit is the role's select limit on t, or -1.
func (c *compiler) rowLimit(t *tables.Table) int64 {
	if p := c.view.Of(t).Select; p != nil && p.Limit != nil {
		return int64(*p.Limit)
	}
	return -1
}
