package tables

import (
	"fmt"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/project"
)

// Function is a tracked function: root fields that return rows of the
// table Returns, through its select permission.
type Function struct {
	// Name is what its root fields and its <Name>_args input are named
	// after: custom_name, else the function's name.
	Name string
	SQL  catalog.Name
	// Args are every argument, in order; the session argument among them.
	Args       FunctionArgs
	Returns    *Table
	ReturnsSet bool
	// Mutation: served in mutation_root, with no aggregate.
	Mutation bool
	// Comment is the metadata's, if it has one.
	Comment *string
	// roles may run it (function permissions).
	roles map[string]bool
	roots map[Kind]string
}

// FunctionArg is an argument of a function.
type FunctionArg struct {
	Name       string
	Type       Type
	HasDefault bool
	// Session: it receives the caller's session variables, as json; it
	// is not in the API.
	Session bool
	// Row: it receives the row (a computed field's table argument); it is
	// not in the API.
	Row bool
}

// FunctionArgs are a function's arguments, in order.
type FunctionArgs []FunctionArg

// Inputs are the arguments the API takes: all but the session's and the
// row's.
func (as FunctionArgs) Inputs() []FunctionArg {
	var in []FunctionArg
	for _, a := range as {
		if !a.Session && !a.Row {
			in = append(in, a)
		}
	}
	return in
}

// Required reports whether args must be given: an input has no default.
func (as FunctionArgs) Required() bool {
	for _, a := range as.Inputs() {
		if !a.HasDefault {
			return true
		}
	}
	return false
}

// PassesSession reports whether the field passes the caller's whole
// session to SQL: a function's session argument.
func (f RootField) PassesSession() bool {
	if f.Function == nil {
		return false
	}
	for _, a := range f.Function.Args {
		if a.Session {
			return true
		}
	}
	return false
}

// RootName is f's root field of kind k: FunctionSelect or
// FunctionAggregate.
func (f *Function) RootName(k Kind) string { return f.roots[k] }

// buildFunctions adds the project's tracked functions and their root
// fields; a root field that has another's name is refused, naming the file.
func (c *Catalogue) buildFunctions(p *project.Project, o Options) error {
	c.InferFunctionPermissions = o.InferFunctionPermissions
	for _, pf := range p.Functions {
		md := pf.Metadata
		f := &Function{Name: pf.GraphQLName, SQL: pf.Name, Returns: c.bySQL[pf.Returns.Name], ReturnsSet: pf.ReturnsSet,
			Mutation: pf.Mutation, Comment: md.Comment, roles: map[string]bool{}, roots: map[Kind]string{}}
		for i, a := range pf.Args {
			f.Args = append(f.Args, FunctionArg{Name: a.Name, Type: scalarType(a), HasDefault: i >= len(pf.Args)-pf.Defaults,
				Session: i == pf.SessionArgument})
		}
		for _, perm := range md.Permissions {
			f.roles[perm.Role] = true
		}
		custom := md.Configuration.CustomRootFields
		f.roots[FunctionSelect] = firstNonEmpty(custom.Function, f.Name)
		if !f.Mutation {
			f.roots[FunctionAggregate] = firstNonEmpty(custom.FunctionAggregate, f.Name+"_aggregate")
		}
		for _, kind := range []Kind{FunctionSelect, FunctionAggregate} {
			name, ok := f.roots[kind]
			if !ok {
				continue
			}
			if other, dup := c.roots[name]; dup {
				owner := "table " + other.Table.SQL.String()
				if other.Function != nil {
					owner = "function " + other.Function.SQL.String()
				}
				return &metadata.Error{File: md.File, Message: fmt.Sprintf("root field %q of function %s is also a root field of %s", name, f.SQL, owner)}
			}
			c.roots[name] = RootField{Name: name, Kind: kind, Table: f.Returns, Function: f}
		}
		c.Functions = append(c.Functions, f)
	}
	return nil
}

// mayRun reports whether the role of v may run f: the admin; a role f's
// permissions name; for a query function, any role when permissions are
// inferred (HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS) — and then only if
// it reads f's table.
func (v *View) mayRun(f *Function) bool {
	if v.Role != Admin && !f.roles[v.Role] && (f.Mutation || !v.Cat.InferFunctionPermissions) {
		return false
	}
	return v.Selectable(f.Returns)
}
