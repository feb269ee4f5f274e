package engine

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// functionSource reads the args of the field f of the function fn and
// returns what writes its call, "schema"."fn"("arg" => $n::type, …), as
// the FROM of the rows the field reads. Arguments are passed by name, so
// any with a default may be left out; one without a default may not be,
// in Hasura's words. The session argument gets the caller's session
// variables, as json.
func (c *compiler) functionSource(fn *tables.Function, f *ast.Field, path string) (func(*sqlbuild.Builder), error) {
	given := map[string]any{}
	if v, ok := c.args(f)["args"]; ok && v != nil {
		m, err := object(v, path+".args.args", fn.Name+"_args")
		if err != nil {
			return nil, err
		}
		given = m
	}
	type bound struct {
		name    string
		value   tables.Value
		typ     tables.Type
		session bool
	}
	var args []bound
	for _, a := range fn.Args {
		if a.Session {
			args = append(args, bound{name: a.Name, session: true})
			continue
		}
		v, ok := given[a.Name]
		if !ok {
			if a.HasDefault {
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
		args = append(args, bound{name: a.Name, value: value, typ: a.Type})
	}
	return func(b *sqlbuild.Builder) {
		b.Ident(fn.SQL.Schema).S(".").Ident(fn.SQL.Table).S("(")
		for i, a := range args {
			if i > 0 {
				b.S(", ")
			}
			b.Ident(a.name).S(" => ")
			if a.session {
				c.sessionJSON(b)
				continue
			}
			bind(b, a.value, a.typ)
		}
		b.S(")")
	}, nil
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
