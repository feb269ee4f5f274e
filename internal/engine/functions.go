package engine

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// functionSource reads the args of the field f of the function fn and
// returns what writes its call, "schema"."fn"($1::type, "arg" => $2::type,
// …), as the FROM of the rows the field reads. Arguments are passed in
// order up to the first one left out, then by name, as Hasura passes them,
// so any with a default may be left out; one without a default may not be,
// in Hasura's words. The session argument gets the caller's session
// variables, as json.
func (c *compiler) functionSource(fn *tables.Function, f *ast.Field, path string) (func(*sqlbuild.Builder), error) {
	return c.callOf(fn.SQL, fn.Args, fn.Name+"_args", f, path, "")
}

// callOf reads the args of the field f of a call of the function name,
// whose arguments are args (their input type argsType), and returns what
// writes the call; rowAlias is the row a computed field's function takes.
func (c *compiler) callOf(name catalog.Name, fnArgs []tables.FunctionArg, argsType string, f *ast.Field, path, rowAlias string) (func(*sqlbuild.Builder), error) {
	given := map[string]any{}
	if v, ok := c.args(f)["args"]; ok && v != nil {
		m, err := object(v, path+".args.args", argsType)
		if err != nil {
			return nil, err
		}
		given = m
	}
	var args []callArg
	for _, a := range fnArgs {
		if a.Session || a.Row {
			args = append(args, callArg{name: a.Name, session: a.Session, row: a.Row})
			continue
		}
		v, ok := given[a.Name]
		if !ok {
			if a.HasDefault {
				args = append(args, callArg{name: a.Name, omitted: true})
				continue
			}
			return nil, &hasura.Error{Code: hasura.CodeNotSupported, Message: "Non default arguments cannot be omitted", Path: path + ".args.args"}
		}
		value := tables.Value{Null: true}
		if v != nil {
			var err error
			if value, err = read(a.Type, v, path+".args.args."+a.Name); err != nil {
				return nil, err
			}
		}
		args = append(args, callArg{name: a.Name, value: value, typ: a.Type})
	}
	return func(b *sqlbuild.Builder) { c.writeCall(b, name, args, rowAlias) }, nil
}

// callArg is an argument of a call: a value, the session variables, the
// row, or one left out (its default).
type callArg struct {
	name                  string
	value                 tables.Value
	typ                   tables.Type
	session, row, omitted bool
}

// writeCall writes the call of the function name with args; rowAlias is
// the row a computed field's function takes. Arguments go in order while
// none is left out (an unnamed argument, a computed field's row, can only
// be passed so), then by name.
func (c *compiler) writeCall(b *sqlbuild.Builder, name catalog.Name, args []callArg, rowAlias string) {
	b.Ident(name.Schema).S(".").Ident(name.Table).S("(")
	named, first := false, true
	for _, a := range args {
		if a.omitted {
			named = true
			continue
		}
		if !first {
			b.S(", ")
		}
		first = false
		if named {
			b.Ident(a.name).S(" => ")
		}
		switch {
		case a.session:
			c.sessionJSON(b)
		case a.row:
			b.S(rowAlias)
		default:
			bind(b, a.value, a.typ)
		}
	}
	b.S(")")
}

// sessionJSON writes the caller's session variables as a json object, as
// a function's session argument receives them; a cookie caller's
// x-hasura-user-id is its live session's user, read in the statement.
func (c *compiler) sessionJSON(b *sqlbuild.Builder) {
	vars, _ := json.Marshal(c.caller.SessionVariables())
	if c.caller.UserID != "" || c.caller.SessionToken == "" {
		b.TypedArg(string(vars), "json")
		return
	}
	b.S("jsonb_strip_nulls(").TypedArg(string(vars), "jsonb").S(" || jsonb_build_object('x-hasura-user-id', ")
	authjs.UserOfSession(b, c.caller.SessionToken)
	b.S("::text))::json")
}

// computedValue writes the value of t's computed field cf for the row
// alias, as the field f selects it: the function's scalar, or the list of
// its rows under their table's select permission.
func (c *compiler) computedValue(b *sqlbuild.Builder, t *tables.Table, alias string, cf *tables.ComputedField, f *ast.Field, path string) error {
	call, err := c.callOf(cf.Function, cf.Args, cf.ArgsType(t), f, path, alias)
	if err != nil {
		return err
	}
	c.calls = true
	if cf.Returns == nil {
		return c.valueOf(b, call, cf.Scalar, f, path)
	}
	outer := c.source
	c.source = call // the rows the list reads: the function's
	defer func() { c.source = outer }()
	c.read(cf.Returns)
	b.S("(")
	err = c.list(b, cf.Returns, c.alias(), f, nil, path)
	b.S(")")
	return err
}

// computedCall writes the call of a computed field that takes no
// arguments of the API's for the row alias: its arguments in order, the
// row and the session variables.
func (c *compiler) computedCall(b *sqlbuild.Builder, cf *tables.ComputedField, alias string) {
	c.calls = true
	args := make([]callArg, len(cf.Args))
	for i, a := range cf.Args {
		args[i] = callArg{name: a.Name, session: a.Session, row: !a.Session}
	}
	c.writeCall(b, cf.Function, args, alias)
}
