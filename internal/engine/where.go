package engine

import (
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// comparisons maps Hasura's comparison operators to SQL.
var comparisons = map[string]string{
	"_eq": " = ", "_neq": " <> ", "_gt": " > ", "_lt": " < ", "_gte": " >= ", "_lte": " <= ",
	"_like": " LIKE ", "_nlike": " NOT LIKE ", "_ilike": " ILIKE ", "_nilike": " NOT ILIKE ",
	"_similar": " SIMILAR TO ", "_nsimilar": " NOT SIMILAR TO ",
	"_regex": " ~ ", "_iregex": " ~* ", "_nregex": " !~ ", "_niregex": " !~* ",
}

// textOnly are the operators only text columns have.
var textOnly = func() map[string]bool {
	m := map[string]bool{}
	for _, op := range tables.TextOperators {
		m[op] = true
	}
	return m
}()

// where writes the boolean expression exp over the row alias of t. Keys are
// ANDed; {} is TRUE; relationships become EXISTS subqueries. Values are
// always parameters.
func (c *compiler) where(b *sqlbuild.Builder, t *tables.Table, alias string, exp any, path string) error {
	m, err := object(exp, path, t.Name+"_bool_exp")
	if err != nil {
		return err
	}
	if len(m) == 0 {
		b.S("true")
		return nil
	}
	b.S("(")
	for i, key := range sortedKeys(m) {
		if i > 0 {
			b.S(" AND ")
		}
		v := m[key]
		p := path + "." + key
		if v == nil {
			return invalid(p, "unexpected null value for type '%s'", boolExpKeyType(t, key))
		}
		switch key {
		case "_and", "_or":
			items := list(v)
			if len(items) == 0 {
				// An empty _and is true, an empty _or false (Hasura).
				b.S(map[string]string{"_and": "true", "_or": "false"}[key])
				continue
			}
			b.S("(")
			for j, item := range items {
				if j > 0 {
					b.S(map[string]string{"_and": " AND ", "_or": " OR "}[key])
				}
				if err := c.where(b, t, alias, item, p); err != nil {
					return err
				}
			}
			b.S(")")
		case "_not":
			b.S("NOT ")
			if err := c.where(b, t, alias, v, p); err != nil {
				return err
			}
		default:
			if col, ok := t.Column(key); ok && c.selects(t, key) {
				column := func(b *sqlbuild.Builder) { b.Col(alias, col.SQLName) }
				if err := c.compare(b, col.Type, column, v, p); err != nil {
					return err
				}
				continue
			}
			if err := c.relationshipFilter(b, t, alias, key, v, p); err != nil {
				return err
			}
		}
	}
	b.S(")")
	return nil
}

func boolExpKeyType(t *tables.Table, key string) string {
	if col, ok := t.Column(key); ok {
		return col.Type.Comparison
	}
	return t.Name + "_bool_exp"
}

// compare writes the comparison expression v (e.g. {_eq: 1, _lt: 5}) on the
// value that expr writes, of type typ.
func (c *compiler) compare(b *sqlbuild.Builder, typ tables.Type, expr func(*sqlbuild.Builder), v any, path string) error {
	ops, err := object(v, path, typ.Comparison)
	if err != nil {
		return err
	}
	if len(ops) == 0 {
		b.S("true")
		return nil
	}
	b.S("(")
	for i, op := range sortedKeys(ops) {
		if i > 0 {
			b.S(" AND ")
		}
		operand := ops[op]
		p := path + "." + op
		sqlOp, known := comparisons[op]
		switch {
		case op == "_is_null":
			isNull, err := boolValue(operand, p)
			if operand == nil || err != nil {
				return invalid(p, "unexpected null value for type 'Boolean'")
			}
			expr(b)
			if isNull {
				b.S(" IS NULL")
			} else {
				b.S(" IS NOT NULL")
			}
		case op == "_in" || op == "_nin":
			values, err := scalarList(operand, typ, p)
			if err != nil {
				return err
			}
			if op == "_nin" {
				b.S("NOT ")
			}
			// text[] then the column's array type: one parameter however
			// long the list, and PostgreSQL parses each element.
			b.S("(")
			expr(b)
			b.S(" = ANY(").Arg(values).S("::text[]::" + typ.SQL + "[]))")
		case typ.JSONB && jsonbComparisons[op] != "":
			if err := c.jsonbCompare(b, op, expr, operand, p); err != nil {
				return err
			}
		case typ.JSONB && op == "_cast":
			cast, err := object(operand, p, "jsonb_cast_exp")
			if err != nil {
				return err
			}
			text := func(b *sqlbuild.Builder) { b.S("("); expr(b); b.S(")::text") }
			if err := c.compare(b, tables.String, text, cast["String"], p+".String"); err != nil {
				return err
			}
		case known && (!textOnly[op] || typ.Text):
			value, err := scalar(operand, typ, p)
			if err != nil {
				return err
			}
			expr(b)
			b.S(sqlOp).TypedArg(value, typ.SQL)
		default:
			return notFound(p, op, typ.Comparison)
		}
	}
	b.S(")")
	return nil
}

// relationshipFilter writes a filter through a relationship of t: EXISTS a
// related row matching the expression, or, for <rel>_aggregate, a predicate on
// the count of related rows.
func (c *compiler) relationshipFilter(b *sqlbuild.Builder, t *tables.Table, alias, key string, v any, path string) error {
	name, aggregate := key, false
	if r, ok := t.Relationship(key); !ok || !r.Array {
		if n := len(key) - len("_aggregate"); n > 0 && key[n:] == "_aggregate" {
			name, aggregate = key[:n], true
		}
	}
	rel, ok := c.follows(t, name)
	if !ok || (aggregate && (!rel.Array || !c.aggregates(rel.Target))) {
		return notFound(path, key, t.Name+"_bool_exp")
	}
	target := rel.Target
	inner := c.alias()
	if !aggregate {
		tableName(b.S("EXISTS (SELECT 1 FROM "), target).S(" " + inner + " WHERE ")
		join(b, rel, alias, inner)
		if err := c.visible(b, target, inner, path); err != nil {
			return err
		}
		b.S(" AND ")
		if err := c.where(b, target, inner, v, path); err != nil {
			return err
		}
		b.S(")")
		return nil
	}
	agg, err := object(v, path, target.Name+"_aggregate_bool_exp")
	if err != nil {
		return err
	}
	if len(agg) == 0 {
		b.S("true")
		return nil
	}
	countExp, err := object(agg["count"], path+".count", target.Name+"_aggregate_bool_exp_count")
	if err != nil {
		return err
	}
	predicate, ok := countExp["predicate"]
	if !ok {
		return invalid(path+".count", "missing required field 'predicate'")
	}
	// The count is written once and compared as an Int column: EXISTS over
	// the one row of the count, filtered by the predicate.
	cnt := c.alias()
	b.S("EXISTS (SELECT 1 FROM (SELECT ")
	if err := c.count(b, target, inner, countExp["arguments"], countExp["distinct"], path+".count"); err != nil {
		return err
	}
	tableName(b.S(" AS n FROM "), target).S(" " + inner + " WHERE ")
	join(b, rel, alias, inner)
	if err := c.visible(b, target, inner, path); err != nil {
		return err
	}
	if f, ok := countExp["filter"]; ok && f != nil {
		b.S(" AND ")
		if err := c.where(b, target, inner, f, path+".count.filter"); err != nil {
			return err
		}
	}
	b.S(") " + cnt + " WHERE ")
	counted := func(b *sqlbuild.Builder) { b.S(cnt + ".n") }
	if err := c.compare(b, tables.Int, counted, predicate, path+".count.predicate"); err != nil {
		return err
	}
	b.S(")")
	return nil
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

// jsonbComparisons are jsonb's operators beyond the common ones.
var jsonbComparisons = map[string]string{
	"_contains": " @> ", "_contained_in": " <@ ", "_has_key": " ? ", "_has_keys_any": " ?| ", "_has_keys_all": " ?& ",
}

// jsonbCompare writes one of jsonb's own comparisons on expr.
func (c *compiler) jsonbCompare(b *sqlbuild.Builder, op string, expr func(*sqlbuild.Builder), v any, path string) error {
	if v == nil {
		return invalid(path, "unexpected null value for type '%s'", tables.JSONBOperators[op])
	}
	expr(b)
	b.S(jsonbComparisons[op])
	switch op {
	case "_has_key":
		s, ok := v.(string)
		if !ok {
			return invalid(path, "expected a string for type 'String'")
		}
		b.TypedArg(s, "text")
	case "_has_keys_any", "_has_keys_all":
		keys, err := scalarList(v, tables.String, path)
		if err != nil {
			return err
		}
		b.Arg(keys).S("::text[]")
	default:
		raw, err := jsonText(v)
		if err != nil {
			return invalid(path, "expected a JSON value for type 'jsonb'")
		}
		b.TypedArg(raw, "jsonb")
	}
	return nil
}
