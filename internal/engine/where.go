package engine

import (
	"fmt"
	"strings"

	"github.com/freshgraph/freshgraph/internal/tables"
)

// A request's where is read here into the typed expression a permission is
// read into when the metadata loads (tables.BoolExp), checked against the
// role's view — the columns it may select, the relationships it may
// follow, each with the role's own filter on the rows it reaches — and
// every value read as its column's type; compile writes both.

// where reads the boolean expression v (a <t>_bool_exp) over the rows of
// t. Keys are ANDed; {} is true.
func (c *compiler) where(t *tables.Table, v any, path string) (tables.BoolExp, error) {
	m, err := object(v, path, t.Name+"_bool_exp")
	if err != nil {
		return nil, err
	}
	out := tables.And{}
	for _, key := range sortedKeys(m) {
		value := m[key]
		p := path + "." + key
		if value == nil {
			return nil, invalid(p, "unexpected null value for type '%s'", boolExpKeyType(t, key))
		}
		switch key {
		case "_and", "_or":
			var exps []tables.BoolExp
			for i, item := range list(value) {
				ip := p
				if _, isList := value.([]any); isList {
					ip = fmt.Sprintf("%s[%d]", p, i)
				}
				e, err := c.where(t, item, ip)
				if err != nil {
					return nil, err
				}
				exps = append(exps, e)
			}
			if key == "_and" {
				out = append(out, tables.And(exps))
			} else {
				out = append(out, tables.Or(exps))
			}
		case "_not":
			e, err := c.where(t, value, p)
			if err != nil {
				return nil, err
			}
			out = append(out, tables.Not{Exp: e})
		default:
			if col, ok := t.Column(key); ok && c.selects(t, key) {
				e, err := c.comparisons(col, value, p)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
				continue
			}
			if cf, ok := c.filterable(t, key); ok {
				e, err := c.computedFilter(t, cf, value, p)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
				continue
			}
			e, err := c.relationshipFilter(t, key, value, p)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

func boolExpKeyType(t *tables.Table, key string) string {
	if col, ok := t.Column(key); ok {
		return col.Type.Comparison
	}
	return t.Name + "_bool_exp"
}

// comparisons reads a <type>_comparison_exp on col: {_eq: 1, _lt: 5}.
func (c *compiler) comparisons(col tables.Column, v any, path string) (tables.BoolExp, error) {
	typ := col.Type
	ops, err := object(v, path, typ.Comparison)
	if err != nil {
		return nil, err
	}
	out := tables.And{}
	for _, name := range sortedKeys(ops) {
		operand := ops[name]
		p := path + "." + name
		if name == "_cast" && typ.JSONB {
			cast, err := object(operand, p, "jsonb_cast_exp")
			if err != nil {
				return nil, err
			}
			for _, to := range sortedKeys(cast) {
				if to != "String" {
					return nil, notFound(p+"."+to, to, "jsonb_cast_exp")
				}
				asText := col
				asText.Type = tables.String
				e, err := c.comparisons(asText, cast[to], p+"."+to)
				if err != nil {
					return nil, err
				}
				out = append(out, tables.AsText(e))
			}
			continue
		}
		op, known := tables.Operators[name]
		if !known || !offers(typ, op) {
			return nil, notFound(p, name, typ.Comparison)
		}
		cmp, err := c.operandOf(typ, op, operand, p)
		if err != nil {
			return nil, err
		}
		out = append(out, tables.Compare{Column: col, Comparison: cmp})
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// offers reports whether typ's comparison_exp has the operator op
// (tables.WriteSDL writes the same).
func offers(typ tables.Type, op tables.Op) bool {
	switch {
	case op.Pattern():
		return typ.Text && !typ.List
	case op == tables.OpGt || op == tables.OpLt || op == tables.OpGte || op == tables.OpLte:
		return typ.Enum == nil
	case op == tables.OpContains || op == tables.OpContainedIn:
		return typ.JSONB || typ.List
	case op == tables.OpHasKey || op == tables.OpHasKeysAny || op == tables.OpHasKeysAll:
		return typ.JSONB
	}
	return true
}

// operandOf reads the operand v of op on a value of typ.
func (c *compiler) operandOf(typ tables.Type, op tables.Op, v any, path string) (tables.Comparison, error) {
	cmp := tables.Comparison{Type: typ, Op: op}
	if op == tables.OpIsNull {
		isNull, err := boolValue(v, path)
		if v == nil || err != nil {
			return cmp, invalid(path, "unexpected null value for type 'Boolean'")
		}
		cmp.Operand = tables.Literal{Text: fmt.Sprint(isNull)}
		return cmp, nil
	}
	typ = op.OperandType(typ)
	if !op.TakesList() {
		value, err := read(typ, v, path)
		cmp.Operand = tables.Literal(value)
		return cmp, err
	}
	if v == nil {
		return cmp, invalid(path, "unexpected null value for type '[%s!]'", typ.GraphQLType())
	}
	items := list(v)
	values := make(tables.Literals, len(items))
	for i, item := range items {
		var err error
		if values[i], err = read(typ, item, fmt.Sprintf("%s[%d]", path, i)); err != nil {
			return cmp, err
		}
	}
	cmp.Operand = values
	return cmp, nil
}

// relationshipFilter reads a filter through a relationship of t: a
// related row, one the role may read, matches; or, for <rel>_aggregate,
// a predicate on the count of those rows.
func (c *compiler) relationshipFilter(t *tables.Table, key string, v any, path string) (tables.BoolExp, error) {
	name, aggregate := key, false
	if r, ok := t.Relationship(key); !ok || !r.Array {
		if n, isAggregate := strings.CutSuffix(key, "_aggregate"); isAggregate {
			name, aggregate = n, true
		}
	}
	rel, ok := c.follows(t, name)
	if !ok || (aggregate && (!rel.Array || !c.aggregates(rel.Target))) {
		return nil, notFound(path, key, t.Name+"_bool_exp")
	}
	target := rel.Target
	visible, err := c.readable(target, path)
	if err != nil {
		return nil, err
	}
	if !aggregate {
		where, err := c.where(target, v, path)
		if err != nil {
			return nil, err
		}
		return tables.Related{Rel: rel, Where: both(visible, where)}, nil
	}
	agg, err := object(v, path, target.Name+"_aggregate_bool_exp")
	if err != nil {
		return nil, err
	}
	if len(agg) == 0 {
		return tables.True, nil
	}
	p := path + ".count"
	countExp, err := object(agg["count"], p, target.Name+"_aggregate_bool_exp_count")
	if err != nil {
		return nil, err
	}
	predicate, ok := countExp["predicate"]
	if !ok {
		return nil, invalid(p, "missing required field 'predicate'")
	}
	count := tables.Count{Rel: rel, Filter: visible}
	if count.Columns, count.Distinct, err = c.counted(target, countExp["arguments"], countExp["distinct"], p+".arguments", p+".distinct"); err != nil {
		return nil, err
	}
	if f, ok := countExp["filter"]; ok && f != nil {
		filter, err := c.where(target, f, p+".filter")
		if err != nil {
			return nil, err
		}
		count.Filter = both(visible, filter)
	}
	ops, err := object(predicate, p+".predicate", tables.Int.Comparison)
	if err != nil {
		return nil, err
	}
	for _, name := range sortedKeys(ops) {
		op, known := tables.Operators[name]
		if !known || !offers(tables.Int, op) {
			return nil, notFound(p+".predicate."+name, name, tables.Int.Comparison)
		}
		cmp, err := c.operandOf(tables.Int, op, ops[name], p+".predicate."+name)
		if err != nil {
			return nil, err
		}
		count.Predicate = append(count.Predicate, cmp)
	}
	return count, nil
}

// both is a AND b, either of which may be true.
func both(a, b tables.BoolExp) tables.BoolExp {
	switch {
	case tables.IsTrue(a):
		return b
	case tables.IsTrue(b):
		return a
	}
	return tables.And{a, b}
}

// filterable finds t's computed field name, if the role may filter and
// order by it: it reads it, and it takes no arguments (as Hasura offers).
func (c *compiler) filterable(t *tables.Table, name string) (*tables.ComputedField, bool) {
	cf, ok := t.ComputedField(name)
	if !ok || len(cf.Args.Inputs()) > 0 || !c.view.ReadsComputedField(t, cf) {
		return nil, false
	}
	return cf, true
}

// computedFilter reads a filter on t's computed field cf: comparisons of
// a scalar one, or a filter on the rows of a table one (of those the role
// reads).
func (c *compiler) computedFilter(t *tables.Table, cf *tables.ComputedField, v any, path string) (tables.BoolExp, error) {
	if cf.Returns == nil {
		e, err := c.comparisons(tables.Column{Name: cf.Name, Type: cf.Scalar}, v, path)
		return tables.OnComputed(e, cf), err
	}
	where, err := c.where(cf.Returns, v, path)
	if err != nil {
		return nil, err
	}
	visible, err := c.readable(cf.Returns, path)
	if err != nil {
		return nil, err
	}
	return tables.ComputedRows{Field: cf, Where: both(visible, where)}, nil
}
