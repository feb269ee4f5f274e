package engine

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// A permission's filter or check is a Hasura boolean expression written in
// the metadata: over SQL column names and relationship names, with values
// that may be session variables. It is compiled here, into the statement
// that reads or writes the rows, for every table a row shows from — root
// fields, relationships, aggregates, returning, on_conflict. Relationships
// in it are followed without the role's own permissions on their targets,
// as in Hasura.

// permission writes exp over the row alias of t; {} is true.
func (c *compiler) permission(b *sqlbuild.Builder, t *tables.Table, alias string, exp metadata.BoolExp) error {
	if len(exp) == 0 {
		b.S("true")
		return nil
	}
	b.S("(")
	for i, key := range sortedKeys(exp) {
		if i > 0 {
			b.S(" AND ")
		}
		v := exp[key]
		switch key {
		case "_and", "_or":
			items, _ := v.([]any)
			if len(items) == 0 {
				b.S(map[string]string{"_and": "true", "_or": "false"}[key])
				continue
			}
			b.S("(")
			for j, item := range items {
				if j > 0 {
					b.S(map[string]string{"_and": " AND ", "_or": " OR "}[key])
				}
				m, err := permissionObject(t, item)
				if err != nil {
					return err
				}
				if err := c.permission(b, t, alias, m); err != nil {
					return err
				}
			}
			b.S(")")
		case "_not":
			m, err := permissionObject(t, v)
			if err != nil {
				return err
			}
			b.S("NOT ")
			if err := c.permission(b, t, alias, m); err != nil {
				return err
			}
		case "_exists":
			if err := c.exists(b, v, t); err != nil {
				return err
			}
		default:
			if col, ok := t.ColumnBySQL(key); ok {
				if err := c.permissionCompare(b, t, alias, col, v); err != nil {
					return err
				}
				continue
			}
			rel, ok := t.Relationship(key)
			if !ok {
				return permissionBug(t, "%q is neither a column nor a relationship", key)
			}
			m, err := permissionObject(t, v)
			if err != nil {
				return err
			}
			inner := c.alias()
			b.S("EXISTS (SELECT 1 FROM ")
			tableName(b, rel.Target).S(" " + inner + " WHERE ")
			join(b, rel, alias, inner)
			b.S(" AND ")
			if err := c.permission(b, rel.Target, inner, m); err != nil {
				return err
			}
			b.S(")")
		}
	}
	b.S(")")
	return nil
}

// exists writes _exists: {_table, _where}: some row of another table
// matches, uncorrelated with the row being checked.
func (c *compiler) exists(b *sqlbuild.Builder, v any, from *tables.Table) error {
	m, err := permissionObject(from, v)
	if err != nil {
		return err
	}
	var name catalog.Name
	switch tbl := m["_table"].(type) {
	case string:
		name = catalog.Name{Schema: "public", Table: tbl}
	case map[string]any:
		name.Schema, _ = tbl["schema"].(string)
		name.Table, _ = tbl["name"].(string)
		if name.Schema == "" {
			name.Schema = "public"
		}
	}
	target, ok := c.cat().BySQL(name)
	if !ok {
		return permissionBug(from, "_exists: table %s is not tracked", name)
	}
	where, err := permissionObject(target, m["_where"])
	if err != nil {
		return err
	}
	inner := c.alias()
	b.S("EXISTS (SELECT 1 FROM ")
	tableName(b, target).S(" " + inner + " WHERE ")
	if err := c.permission(b, target, inner, where); err != nil {
		return err
	}
	b.S(")")
	return nil
}

func permissionObject(t *tables.Table, v any) (map[string]any, error) {
	if v == nil {
		return map[string]any{}, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, permissionBug(t, "expected an object, got %T", v)
	}
	return m, nil
}

// permissionBug reports a permission the metadata check let through but
// the engine cannot compile: the server's fault, logged, never the client's.
func permissionBug(t *tables.Table, format string, args ...any) error {
	return fmt.Errorf("permission on %s: %s", t.SQL, fmt.Sprintf(format, args...))
}

// columnComparisons are Hasura's column comparison operators.
var columnComparisons = map[string]string{"_ceq": " = ", "_cne": " <> ", "_cgt": " > ", "_clt": " < ", "_cgte": " >= ", "_clte": " <= "}

// permissionCompare writes the comparisons v on column col of the row alias.
func (c *compiler) permissionCompare(b *sqlbuild.Builder, t *tables.Table, alias string, col tables.Column, v any) error {
	ops, ok := v.(map[string]any)
	if !ok {
		// {col: value} is short for {col: {_eq: value}}.
		ops = map[string]any{"_eq": v}
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
		b.Col(alias, col.SQLName)
		if sqlOp, ok := columnComparisons[op]; ok {
			other, err := columnOperand(t, operand)
			if err != nil {
				return err
			}
			b.S(sqlOp).Col(alias, other)
			continue
		}
		switch op {
		case "_is_null":
			if isNull, _ := operand.(bool); isNull {
				b.S(" IS NULL")
			} else {
				b.S(" IS NOT NULL")
			}
		case "_in", "_nin":
			if op == "_nin" {
				b.S(" <> ALL(")
			} else {
				b.S(" = ANY(")
			}
			if err := c.permissionList(b, col.Type, operand); err != nil {
				return err
			}
			b.S(")")
		default:
			sqlOp, ok := comparisons[op]
			if !ok {
				sqlOp, ok = jsonbComparisons[op]
			}
			if !ok {
				return permissionBug(t, "operator %s on column %s", op, col.SQLName)
			}
			b.S(sqlOp)
			typ := col.Type
			switch op {
			case "_has_key":
				typ = tables.Type{SQL: "text"}
			case "_has_keys_any", "_has_keys_all":
				typ = tables.Type{SQL: "text[]"}
			}
			if err := c.permissionValue(b, typ, operand); err != nil {
				return err
			}
		}
	}
	b.S(")")
	return nil
}

// columnOperand reads the other column of _ceq and the like: "col", or
// ["$", "col"] (the row the permission is on, which is this one here).
func columnOperand(t *tables.Table, v any) (string, error) {
	var name string
	switch x := v.(type) {
	case string:
		name = x
	case []any:
		if len(x) > 0 {
			name, _ = x[len(x)-1].(string)
		}
	}
	if _, ok := t.ColumnBySQL(name); !ok {
		return "", permissionBug(t, "column comparison with %v", v)
	}
	return name, nil
}

// permissionValue writes a value of a permission: a session variable, cast
// to the column's type as Hasura casts its text, or a literal.
func (c *compiler) permissionValue(b *sqlbuild.Builder, typ tables.Type, v any) error {
	if name, ok := sessionVariable(v); ok {
		return c.sessionValue(b, name, typ.SQL)
	}
	return literal(b, typ, v)
}

// permissionList writes the array of _in/_nin: a session variable holding
// a PostgreSQL array literal ('{1,2}'), or a list of values.
func (c *compiler) permissionList(b *sqlbuild.Builder, typ tables.Type, v any) error {
	if name, ok := sessionVariable(v); ok {
		return c.sessionValue(b, name, typ.SQL+"[]")
	}
	items, _ := v.([]any)
	b.S("ARRAY[")
	for i, item := range items {
		if i > 0 {
			b.S(", ")
		}
		if err := c.permissionValue(b, typ, item); err != nil {
			return err
		}
	}
	b.S("]::" + typ.SQL + "[]")
	return nil
}

// literal writes a value written in the metadata as a parameter of the
// column's type; PostgreSQL parses its text.
func literal(b *sqlbuild.Builder, typ tables.Type, v any) error {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case nil:
		b.S("NULL")
		return nil
	default:
		raw, err := json.Marshal(x)
		if err != nil {
			return err
		}
		text = string(raw)
	}
	b.TypedArg(text, "text").S("::" + typ.SQL)
	return nil
}

// sessionVariable reports whether v names a session variable (a string
// starting with x-hasura-, any case) and returns its name in lower case.
func sessionVariable(v any) (string, bool) {
	s, ok := v.(string)
	if !ok || len(s) < len("x-hasura-") || !strings.EqualFold(s[:len("x-hasura-")], "x-hasura-") {
		return "", false
	}
	return strings.ToLower(s), true
}

// sessionValue writes the caller's session variable name cast to typ. A
// cookie caller's X-Hasura-User-Id is the user of its live session, read in
// the same statement; a variable the caller lacks fails the request.
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

// visible ANDs the role's select filter on t over the row alias.
func (c *compiler) visible(b *sqlbuild.Builder, t *tables.Table, alias, path string) error {
	p := c.view.Of(t).Select
	if p == nil {
		if c.wholeUserRow(t) {
			return nil
		}
		return invalid(path, "no permission to read table '%s'", t.Name)
	}
	if len(p.Filter) == 0 {
		return nil
	}
	b.S(" AND ")
	return c.permission(b, t, alias, p.Filter)
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
