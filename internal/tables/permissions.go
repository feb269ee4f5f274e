package tables

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/metadata"
)

// A permission's filter, check and presets are read here once, when the
// metadata loads, into typed expressions (BoolExp, Operand): every column,
// relationship and operator checked against the catalogue, every literal
// read as its column's type, Hasura's spellings taken as Hasura takes them
// ($eq for _eq, {col: v} for {col: {_eq: v}}, _ne for _neq, …). Metadata
// that does not fit stops the start, naming the file, the line and the
// part of the expression. What remains for a request is the caller's
// session variables, which the expression names with the type each is
// cast to.

// permissionReader reads the expressions of one permission of one table.
type permissionReader struct {
	cat  *Catalogue
	root *Table // the table the permission is on, which ["$", col] names
	file string
	// what names the permission and its part, e.g. "select_permissions of
	// role user: filter".
	what string
	exp  metadata.Expression
	// literals are the permission's literals, for Catalogue.CheckLiterals.
	literals *[]TypedLiteral
}

// TypedLiteral is a literal of a permission and the type it is read as:
// PostgreSQL reads its text when the server starts (CheckLiterals), so
// that no literal fails a request.
type TypedLiteral struct {
	Value Value
	Type  Type
	// at is where it is, for a message.
	at *metadata.Error
}

// fail is a metadata error at path in the expression.
func (r *permissionReader) fail(path []any, format string, args ...any) error {
	line, column := r.exp.Position(path...)
	at := r.what
	for _, step := range path {
		switch s := step.(type) {
		case int:
			at += "[" + strconv.Itoa(s) + "]"
		default:
			at += "." + fmt.Sprint(s)
		}
	}
	return &metadata.Error{File: r.file, Line: line, Column: column, Message: at + ": " + fmt.Sprintf(format, args...)}
}

func appendPath(path []any, step any) []any {
	return append(path[:len(path):len(path)], step)
}

// boolExp reads the expression v over the rows of t.
func (r *permissionReader) boolExp(t *Table, v any, path []any) (BoolExp, error) {
	if v == nil {
		return True, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, r.fail(path, "a boolean expression must be an object, not %s", Describe(v))
	}
	var out And
	for _, key := range sortedKeys(m) {
		p := appendPath(path, key)
		value := m[key]
		switch key {
		case "_and", "$and", "_or", "$or":
			items, ok := value.([]any)
			if !ok {
				return nil, r.fail(p, "%s takes a list of boolean expressions", key)
			}
			var exps []BoolExp
			for i, item := range items {
				e, err := r.boolExp(t, item, appendPath(p, i))
				if err != nil {
					return nil, err
				}
				exps = append(exps, e)
			}
			if key[1:] == "and" {
				out = append(out, And(exps))
			} else {
				out = append(out, Or(exps))
			}
		case "_not", "$not":
			e, err := r.boolExp(t, value, p)
			if err != nil {
				return nil, err
			}
			out = append(out, Not{e})
		case "_exists", "$exists":
			e, err := r.exists(value, p)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		default:
			if col, ok := t.ColumnBySQL(key); ok {
				e, err := r.column(t, col, value, p)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
				continue
			}
			if cf, ok := t.ComputedField(key); ok {
				e, err := r.computedField(cf, value, p)
				if err != nil {
					return nil, err
				}
				out = append(out, e)
				continue
			}
			rel, ok := t.Relationship(key)
			if !ok {
				return nil, r.fail(p, "%q does not exist: table %s has no column, relationship or computed field of that name", key, t.SQL)
			}
			if _, isObject := value.(map[string]any); !isObject && value != nil {
				return nil, r.fail(p, "a relationship takes a boolean expression over table %s, not %s", rel.Target.SQL, Describe(value))
			}
			e, err := r.boolExp(rel.Target, value, p)
			if err != nil {
				return nil, err
			}
			out = append(out, Related{Rel: rel, Where: e})
		}
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// computedField reads a filter on the computed field cf, one that takes no
// arguments (as Hasura allows in a permission): comparisons of a scalar
// one, a boolean expression over the rows of a table one.
func (r *permissionReader) computedField(cf *ComputedField, v any, path []any) (BoolExp, error) {
	if len(cf.Args.Inputs()) > 0 {
		return nil, r.fail(path, "computed field %q takes arguments, and cannot be part of a boolean expression", cf.Name)
	}
	if cf.Returns != nil {
		if _, isObject := v.(map[string]any); !isObject {
			return nil, r.fail(path, "a table computed field takes a boolean expression over table %s, not %s", cf.Returns.SQL, Describe(v))
		}
		e, err := r.boolExp(cf.Returns, v, path)
		return ComputedRows{Field: cf, Where: e}, err
	}
	if ops, ok := v.(map[string]any); ok {
		for key := range ops {
			if op := strings.TrimLeft(key, "_$"); strings.HasPrefix(op, "c") && op != "contains" && op != "contained_in" {
				return nil, r.fail(appendPath(path, key), "%s compares columns, and does not apply to computed field %q", key, cf.Name)
			}
		}
	}
	e, err := r.column(nil, Column{Name: cf.Name, SQLName: cf.Name, Type: cf.Scalar}, v, path)
	return OnComputed(e, cf), err
}

// exists reads _exists: {_table, _where}.
func (r *permissionReader) exists(v any, path []any) (BoolExp, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, r.fail(path, "_exists takes an object of _table and _where")
	}
	for k := range m {
		if k != "_table" && k != "_where" {
			return nil, r.fail(appendPath(path, k), "_exists takes _table and _where only")
		}
	}
	var name catalog.Name
	switch tbl := m["_table"].(type) {
	case string:
		name = catalog.Name{Schema: "public", Table: tbl}
	case map[string]any:
		schema, _ := tbl["schema"].(string)
		table, _ := tbl["name"].(string)
		if schema == "" {
			schema = "public"
		}
		name = catalog.Name{Schema: schema, Table: table}
	default:
		return nil, r.fail(appendPath(path, "_table"), "_table names a table: a name, or {schema, name}")
	}
	target, ok := r.cat.BySQL(name)
	if !ok {
		return nil, r.fail(appendPath(path, "_table"), "table %q does not exist: it is not tracked", name.String())
	}
	if _, ok := m["_where"]; !ok {
		return nil, r.fail(path, "_exists needs _where")
	}
	where, err := r.boolExp(target, m["_where"], appendPath(path, "_where"))
	if err != nil {
		return nil, err
	}
	return Exists{Table: target, Where: where}, nil
}

// column reads the comparisons of col: {op: operand, …}, or a value, which
// {col: v} compares with _eq (equal when both are null).
func (r *permissionReader) column(t *Table, col Column, v any, path []any) (BoolExp, error) {
	if col.Type.Class == ClassJSON && !col.Type.List {
		return nil, r.fail(path, "a json column can not be part of a boolean expression (jsonb can)")
	}
	ops, isObject := v.(map[string]any)
	if !isObject {
		cmp, err := r.operand(col.Type, OpEq, v, path)
		if err != nil {
			return nil, err
		}
		cmp.NullAware = true
		return Compare{Column: col, Comparison: cmp}, nil
	}
	var out And
	for _, key := range sortedKeys(ops) {
		p := appendPath(path, key)
		name := "_" + strings.TrimLeft(key, "_$")
		if !strings.HasPrefix(key, "_") && !strings.HasPrefix(key, "$") {
			return nil, r.fail(p, "unknown operator %q", key)
		}
		switch name {
		case "_ne":
			name = "_neq"
		case "_cneq":
			name = "_cne"
		}
		operand := ops[key]
		if op, ok := columnOperators[name]; ok {
			e, err := r.compareColumns(t, col, op, operand, p)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			continue
		}
		if name == "_cast" {
			e, err := r.cast(col, operand, p)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
			continue
		}
		op, ok := Operators[name]
		if !ok {
			return nil, r.fail(p, "unknown operator %q", key)
		}
		if err := r.applies(col.Type, op, name, p); err != nil {
			return nil, err
		}
		cmp, err := r.operand(col.Type, op, operand, p)
		if err != nil {
			return nil, err
		}
		if (op == OpEq || op == OpNeq) && col.Nullable {
			cmp.NullAware = true
		}
		out = append(out, Compare{Column: col, Comparison: cmp})
	}
	if len(out) == 1 {
		return out[0], nil
	}
	return out, nil
}

// columnOperators compare two columns.
var columnOperators = map[string]Op{"_ceq": OpEq, "_cne": OpNeq, "_cgt": OpGt, "_clt": OpLt, "_cgte": OpGte, "_clte": OpLte}

// applies refuses an operator the column's type does not have, as
// Hasura's guardType does.
func (r *permissionReader) applies(t Type, op Op, name string, path []any) error {
	switch {
	case op.Pattern() && (!t.Text || t.List):
		return r.fail(path, `%s works only on columns of type "varchar", "text", "citext", "bpchar", not %s`, name, t.SQL)
	case (op == OpContains || op == OpContainedIn) && !t.JSONB && !t.List:
		return r.fail(path, "%s works only on columns of an array type or jsonb, not %s", name, t.SQL)
	case (op == OpHasKey || op == OpHasKeysAny || op == OpHasKeysAll) && !t.JSONB:
		return r.fail(path, "%s works only on columns of type jsonb, not %s", name, t.SQL)
	}
	return nil
}

// cast reads _cast: {text: {…}}, the comparisons of a jsonb column's text.
func (r *permissionReader) cast(col Column, v any, path []any) (BoolExp, error) {
	m, ok := v.(map[string]any)
	if !col.Type.JSONB || !ok || len(m) != 1 {
		return nil, r.fail(path, "_cast casts a jsonb column to text: {text: {…}}")
	}
	for to, ops := range m {
		if to != "text" && to != "String" {
			return nil, r.fail(appendPath(path, to), "cannot cast column of type %s to type %s", col.Type.SQL, to)
		}
		asText := col
		asText.Type = String
		e, err := r.column(nil, asText, ops, appendPath(path, to))
		if err != nil {
			return nil, err
		}
		return AsText(e), nil
	}
	return True, nil
}

// compareColumns reads _ceq and the like: "col" or ["col"] names a column of
// t, the current table; ["$", "col"] one of the table the permission is on.
func (r *permissionReader) compareColumns(t *Table, col Column, op Op, v any, path []any) (BoolExp, error) {
	if t == nil {
		return nil, r.fail(path, "a column comparison can not be part of a _cast")
	}
	var name string
	table, root := t, false
	switch x := v.(type) {
	case string:
		name = x
	case []any:
		switch {
		case len(x) == 1:
			name, _ = x[0].(string)
		case len(x) == 2 && x[0] == "$":
			name, _ = x[1].(string)
			table, root = r.root, true
		default:
			return nil, r.fail(path, `a column comparison takes "column", ["column"] or ["$", "column"] (the table the permission is on)`)
		}
	default:
		return nil, r.fail(path, `a column comparison takes "column", ["column"] or ["$", "column"], not %s`, Describe(v))
	}
	other, ok := table.ColumnBySQL(name)
	if !ok {
		return nil, r.fail(path, "column %q does not exist in table %s", name, table.SQL)
	}
	if other.Type.SQL != col.Type.SQL {
		return nil, r.fail(path, "incompatible column types: %q has type %s, but %q has type %s", col.SQLName, col.Type.SQL, other.SQLName, other.Type.SQL)
	}
	return CompareColumns{Column: col, Op: op, Other: other, Root: root}, nil
}

// operand reads the operand v of op on a value of type t: a session
// variable, or a literal (a list of them for a list operator).
func (r *permissionReader) operand(t Type, op Op, v any, path []any) (Comparison, error) {
	cmp := Comparison{Type: t, Op: op}
	if op == OpIsNull {
		b, ok := v.(bool)
		if !ok {
			return cmp, r.fail(path, "_is_null takes true or false, not %s", Describe(v))
		}
		cmp.Operand = Literal{Text: strconv.FormatBool(b)}
		return cmp, nil
	}
	if name, ok := SessionVariableName(v); ok {
		cmp.Operand = SessionVariable{Name: name}
		return cmp, nil
	}
	typ := op.OperandType(t)
	if !op.TakesList() {
		value, err := r.literal(typ, v, path)
		cmp.Operand = Literal(value)
		return cmp, err
	}
	items, ok := v.([]any)
	if !ok {
		return cmp, r.fail(path, "a list of values, or a session variable holding an array literal ({1,2}), not %s", Describe(v))
	}
	values := make(Literals, len(items))
	for i, item := range items {
		if item == nil {
			return cmp, r.fail(appendPath(path, i), "unexpected null value for type %s", typ.SQL)
		}
		var err error
		if values[i], err = r.literal(typ, item, appendPath(path, i)); err != nil {
			return cmp, err
		}
	}
	cmp.Operand = values
	return cmp, nil
}

// literal reads v as a value of t; null is NULL.
func (r *permissionReader) literal(t Type, v any, path []any) (Value, error) {
	if v == nil {
		return Value{Null: true}, nil
	}
	value, err := t.Read(v)
	if err != nil {
		return Value{}, r.fail(path, "%s", err.Message)
	}
	if r.literals != nil {
		at := r.fail(path, "").(*metadata.Error)
		at.Message = strings.TrimSuffix(at.Message, ": ")
		*r.literals = append(*r.literals, TypedLiteral{Value: value, Type: t, at: at})
	}
	return value, nil
}

// SessionVariableName reports whether v names a session variable, as
// Hasura tells one: a string that starts with x-hasura- in any case (or
// its old req_user_id); its name in lower case.
func SessionVariableName(v any) (string, bool) {
	s, ok := v.(string)
	if !ok {
		return "", false
	}
	if strings.EqualFold(s, "req_user_id") {
		return "x-hasura-user-id", true
	}
	if len(s) < len("x-hasura-") || !strings.EqualFold(s[:len("x-hasura-")], "x-hasura-") {
		return "", false
	}
	return strings.ToLower(s), true
}

// presets reads a permission's set: {column: value or session variable},
// by API column name.
func (r *permissionReader) presets(t *Table) (map[string]Operand, error) {
	m, ok := r.exp.Object()
	if !ok {
		return nil, r.fail(nil, "column presets must be an object of columns and values")
	}
	out := map[string]Operand{}
	for _, name := range sortedKeys(m) {
		col, ok := t.ColumnBySQL(name)
		if !ok {
			return nil, r.fail([]any{name}, "column %q does not exist in table %s", name, t.SQL)
		}
		if s, ok := SessionVariableName(m[name]); ok {
			out[col.Name] = SessionVariable{Name: s}
			continue
		}
		value, err := r.literal(col.Type, m[name], []any{name})
		if err != nil {
			return nil, err
		}
		out[col.Name] = Literal(value)
	}
	return out, nil
}
