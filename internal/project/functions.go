package project

import (
	"context"
	"fmt"
	"strings"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/metadata"
)

// Function is a tracked function as the API serves it: a root field
// returning rows of a tracked table.
type Function struct {
	*catalog.Function
	Metadata *metadata.Function
	// GraphQLName is custom_name, else the function's name, prefixed with
	// its schema outside public.
	GraphQLName string
	Returns     *Table
	// Mutation: it is served in mutation_root (a VOLATILE function, unless
	// exposed_as says query).
	Mutation bool
	// SessionArgument is the index of the argument that receives the
	// session variables; -1 for none.
	SessionArgument int
}

// resolveFunctions reads the tracked functions from db and checks each as
// Hasura does before tracking it, with Hasura's words.
func (p *Project) resolveFunctions(ctx context.Context, db database.Conn, md *metadata.Metadata, tracked map[catalog.Name]*Table) error {
	if len(md.Functions) == 0 {
		return nil
	}
	names := make([]catalog.Name, len(md.Functions))
	for i, f := range md.Functions {
		names[i] = catalog.Name{Schema: f.Function.Schema, Table: f.Function.Name}
	}
	found, err := catalog.ReadFunctions(ctx, db, names)
	if err != nil {
		return err
	}
	for i := range md.Functions {
		mf := &md.Functions[i]
		qf := names[i].Hasura()
		fail := func(format string, args ...any) error {
			return &metadata.Error{File: mf.File, Message: fmt.Sprintf(format, args...)}
		}
		overloads := found[names[i]]
		switch {
		case len(overloads) == 0:
			return fail("no such function exists in postgres : %q", qf)
		case len(overloads) > 1:
			return fail("function %q is overloaded. Overloaded functions are not supported", qf)
		}
		cf := overloads[0]
		f := &Function{Function: cf, Metadata: mf, GraphQLName: graphQLName(names[i], mf.Configuration.CustomName), SessionArgument: -1}
		var reasons []string
		if !graphQLNamePattern.MatchString(f.GraphQLName) {
			reasons = append(reasons, "function name is not a legal GraphQL identifier")
		}
		if cf.Variadic {
			reasons = append(reasons, `function with "VARIADIC" parameters are not supported`)
		}
		if !cf.OnlyIn {
			reasons = append(reasons, "function with OUT, INOUT or TABLE parameters are not supported: only IN parameters are")
		}
		if cf.Returns == (catalog.Name{}) {
			reasons = append(reasons, `the function does not return a table`)
		} else if f.Returns = tracked[cf.Returns]; f.Returns == nil {
			reasons = append(reasons, fmt.Sprintf("the function returns rows of table %q, which is not tracked", cf.Returns.Hasura()))
		}
		switch mf.Configuration.ExposedAs {
		case "mutation":
			if cf.Volatility != "v" {
				reasons = append(reasons, "the function was requested to be exposed as a mutation, but is not marked VOLATILE. Maybe the function was given the wrong volatility when it was defined?")
			}
			f.Mutation = true
		case "":
			f.Mutation = cf.Volatility == "v"
		}
		var badNames []string
		for j, a := range cf.Args {
			switch {
			case a.Name != "" && a.Name == mf.Configuration.SessionArgument:
				f.SessionArgument = j
				if a.Type != "json" {
					reasons = append(reasons, fmt.Sprintf("given session argument %q is not of type json", a.Name))
				}
			case a.Name != "" && !graphQLNamePattern.MatchString(a.Name):
				badNames = append(badNames, a.Name)
			case a.Name == "":
				reasons = append(reasons, fmt.Sprintf("argument %d has no name: only named arguments are served", j+1))
			case a.Kind == "c" || a.Kind == "p":
				reasons = append(reasons, fmt.Sprintf("argument %q is of type %s, which is not served as an argument", a.Name, a.Cast))
			}
		}
		if len(badNames) > 0 {
			reasons = append(reasons, fmt.Sprintf("the function arguments %s are not in compliance with GraphQL spec", strings.Join(badNames, ",")))
		}
		if s := mf.Configuration.SessionArgument; s != "" && f.SessionArgument < 0 {
			reasons = append(reasons, fmt.Sprintf("given session argument %q not the input argument of the function", s))
		}
		if len(reasons) > 0 {
			return fail("%s", refusal(fmt.Sprintf("the function %q cannot be tracked", qf), reasons))
		}
		p.Functions = append(p.Functions, f)
	}
	return nil
}

// refusal is what cannot be done and its reasons, as Hasura words them
// (makeReasonMessage): "because" the one, or each on a bulleted line.
func refusal(what string, reasons []string) string {
	if len(reasons) == 1 {
		return what + " because " + reasons[0]
	}
	return what + " for the following reasons:\n  • " + strings.Join(reasons, "\n  • ")
}
