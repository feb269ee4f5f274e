package engine

import (
	"bytes"
	"context"
	"fmt"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Mutations write a data-modifying CTE, "m", whose RETURNING rows the answer
// is built from: {affected_rows, returning} for the plain fields, the one
// row (or null) for *_one and *_by_pk.

// mutationResult writes the SELECT over the CTE m for the field's selection.
func (c *compiler) mutationResult(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, single bool, path string) error {
	alias := c.alias()
	if single {
		b.S("SELECT (SELECT ")
		if err := c.row(b, t, alias, f.SelectionSet, path); err != nil {
			return err
		}
		b.S(" FROM m " + alias + " LIMIT 1)")
		return nil
	}
	b.S("SELECT ")
	return c.object(b, f.SelectionSet, t.Name+"_mutation_response", path, func(b *sqlbuild.Builder, name string, rf *ast.Field, p string) error {
		switch name {
		case "affected_rows":
			b.S("(SELECT count(*) FROM m)")
			return nil
		case "returning":
			b.S("(SELECT coalesce(json_agg(")
			if err := c.row(b, t, alias, rf.SelectionSet, p); err != nil {
				return err
			}
			b.S("), '[]'::json) FROM m " + alias + ")")
			return nil
		}
		return notFound(p, name, t.Name+"_mutation_response")
	})
}

// insert answers insert_<t>(objects, on_conflict) and insert_<t>_one(object,
// on_conflict). Columns an object leaves out get their DEFAULT; rows go in
// one INSERT.
func (c *compiler) insert(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, one bool, path string) error {
	args := c.args(f)
	argName := "objects"
	if one {
		argName = "object"
	}
	p := path + ".args." + argName
	var objects []map[string]any
	for i, o := range list(args[argName]) {
		op := p
		if !one {
			op = fmt.Sprintf("%s[%d]", p, i)
		}
		m, err := object(o, op, t.Name+"_insert_input")
		if err != nil {
			return err
		}
		objects = append(objects, m)
	}
	if len(objects) == 0 {
		// Nothing to insert: Hasura answers with no rows.
		b.S("WITH m AS (SELECT * FROM ").Ident(t.Name).S(" WHERE false) ")
		return c.mutationResult(b, t, f, one, path)
	}
	// The union of the columns the objects name, in catalogue order.
	var cols []tables.Column
	for _, col := range t.Columns {
		for _, o := range objects {
			if _, ok := o[col.Name]; ok {
				cols = append(cols, col)
				break
			}
		}
	}
	for i, o := range objects {
		for k := range o {
			if _, ok := t.Column(k); !ok {
				op := p
				if !one {
					op = fmt.Sprintf("%s[%d]", p, i)
				}
				return notFound(op+"."+k, k, t.Name+"_insert_input")
			}
		}
	}
	b.S("WITH m AS (INSERT INTO ").Ident(t.Name).S(" AS t0 ")
	if len(cols) == 0 {
		b.S("DEFAULT VALUES")
		if len(objects) > 1 {
			return invalid(p, "rows that name no column can only be inserted one at a time")
		}
	} else {
		b.S("(")
		for i, col := range cols {
			if i > 0 {
				b.S(", ")
			}
			b.Ident(col.Name)
		}
		b.S(") VALUES ")
		for i, o := range objects {
			if i > 0 {
				b.S(", ")
			}
			b.S("(")
			for j, col := range cols {
				if j > 0 {
					b.S(", ")
				}
				v, ok := o[col.Name]
				switch {
				case !ok:
					b.S("DEFAULT")
				case v == nil:
					b.S("NULL")
				default:
					x, err := scalar(v, col.Type, p+"."+col.Name)
					if err != nil {
						return err
					}
					b.TypedArg(x, col.Type.SQL)
				}
			}
			b.S(")")
		}
	}
	if oc, ok := args["on_conflict"]; ok && oc != nil {
		if err := c.onConflict(b, t, oc, path+".args.on_conflict"); err != nil {
			return err
		}
	}
	b.S(" RETURNING t0.*) ")
	return c.mutationResult(b, t, f, one, path)
}

// onConflict writes ON CONFLICT ON CONSTRAINT … DO UPDATE SET … [WHERE …],
// or DO NOTHING when update_columns is empty ("ignore the request").
func (c *compiler) onConflict(b *sqlbuild.Builder, t *tables.Table, v any, path string) error {
	m, err := object(v, path, t.Name+"_on_conflict")
	if err != nil {
		return err
	}
	name, _ := m["constraint"].(string)
	constraint, ok := t.Constraint(name)
	if !ok {
		return invalid(path+".constraint", "unexpected value '%s' for enum: '%s_constraint'", name, t.Name)
	}
	update, err := stringsOf(m["update_columns"], path+".update_columns")
	if err != nil {
		return err
	}
	b.S(" ON CONFLICT ON CONSTRAINT ").Ident(constraint.Name)
	if len(update) == 0 {
		b.S(" DO NOTHING")
		return nil
	}
	b.S(" DO UPDATE SET ")
	for i, name := range update {
		if _, ok := t.Column(name); !ok {
			return notFound(path+".update_columns", name, t.Name+"_update_column")
		}
		if i > 0 {
			b.S(", ")
		}
		b.Ident(name).S(" = EXCLUDED.").Ident(name)
	}
	if w, ok := m["where"]; ok && w != nil {
		b.S(" WHERE ")
		return c.where(b, t, "t0", w, path+".where")
	}
	return nil
}

// setClause writes SET col = value, … from _set and _inc; it reports false
// when they change nothing.
func (c *compiler) setClause(b *sqlbuild.Builder, t *tables.Table, args map[string]any, path string) error {
	perm := c.perms.table(t.Name).updateRows
	n := 0
	for _, op := range []string{"_set", "_inc"} {
		v, ok := args[op]
		if !ok || v == nil {
			continue
		}
		typ := t.Name + map[string]string{"_set": "_set_input", "_inc": "_inc_input"}[op]
		m, err := object(v, path+"."+op, typ)
		if err != nil {
			return err
		}
		for _, k := range sortedKeys(m) {
			col, ok := t.Column(k)
			if !ok || !perm.column(k) || (op == "_inc" && !col.Type.Numeric) {
				return notFound(path+"."+op+"."+k, k, typ)
			}
			if n == 0 {
				b.S(" SET ")
			} else {
				b.S(", ")
			}
			n++
			b.Ident(k).S(" = ")
			if op == "_inc" {
				x, err := scalar(m[k], col.Type, path+"."+op+"."+k)
				if err != nil {
					return err
				}
				b.Col("t0", k).S(" + ").TypedArg(x, col.Type.SQL)
				continue
			}
			if m[k] == nil {
				b.S("NULL")
				continue
			}
			x, err := scalar(m[k], col.Type, path+"."+op+"."+k)
			if err != nil {
				return err
			}
			b.TypedArg(x, col.Type.SQL)
		}
	}
	if n == 0 {
		return invalid(path, "at least any one of _set, _inc is expected")
	}
	return nil
}

// update answers update_<t>(_set, _inc, where) and update_<t>_by_pk(_set,
// _inc, pk_columns). The caller's update filter ANDs into the WHERE, so rows
// it may not change are simply not matched.
func (c *compiler) update(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, args map[string]any, byPK bool, path string) error {
	p := path + ".args"
	b.S("WITH m AS (UPDATE ").Ident(t.Name).S(" AS t0")
	if err := c.setClause(b, t, args, p); err != nil {
		return err
	}
	b.S(" WHERE ")
	if byPK {
		pk, err := object(args["pk_columns"], p+".pk_columns", t.Name+"_pk_columns_input")
		if err != nil {
			return err
		}
		if err := c.pkFilter(b, t, "t0", pk, p+".pk_columns"); err != nil {
			return err
		}
	} else if err := c.requiredWhere(b, t, args, p); err != nil {
		return err
	}
	c.perms.filterRows(b, c.perms.table(t.Name).updateRows, "t0")
	b.S(" RETURNING t0.*) ")
	return c.mutationResult(b, t, f, byPK, path)
}

// updateMany answers update_<t>_many(updates): each update runs in turn, one
// statement each, and the answer is the list of their responses.
func (c *compiler) updateMany(ctx context.Context, db database.Conn, t *tables.Table, f *ast.Field, path string) ([]byte, error) {
	updates := list(c.args(f)["updates"])
	var out bytes.Buffer
	out.WriteByte('[')
	for i, u := range updates {
		p := fmt.Sprintf("%s.args.updates[%d]", path, i)
		m, err := object(u, p, t.Name+"_updates")
		if err != nil {
			return nil, err
		}
		b := &sqlbuild.Builder{}
		if err := c.update(b, t, f, m, false, p); err != nil {
			return nil, err
		}
		res, err := run(ctx, db, b, "")
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(res)
	}
	out.WriteByte(']')
	return out.Bytes(), nil
}

// delete answers delete_<t>(where) and delete_<t>_by_pk(pk…).
func (c *compiler) delete(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, byPK bool, path string) error {
	args := c.args(f)
	p := path + ".args"
	b.S("WITH m AS (DELETE FROM ").Ident(t.Name).S(" AS t0 WHERE ")
	if byPK {
		if err := c.pkFilter(b, t, "t0", args, p); err != nil {
			return err
		}
	} else if err := c.requiredWhere(b, t, args, p); err != nil {
		return err
	}
	b.S(" RETURNING t0.*) ")
	return c.mutationResult(b, t, f, byPK, path)
}

// requiredWhere writes the where argument that update_<t> and delete_<t>
// require (where: <t>_bool_exp!) over the row t0.
func (c *compiler) requiredWhere(b *sqlbuild.Builder, t *tables.Table, args map[string]any, path string) error {
	w, ok := args["where"]
	if !ok || w == nil {
		return invalid(path+".where", "unexpected null value for type '%s_bool_exp'", t.Name)
	}
	return c.where(b, t, "t0", w, path+".where")
}
