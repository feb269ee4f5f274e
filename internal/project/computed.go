package project

import (
	"context"
	"fmt"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/metadata"
)

// ComputedField is a computed field of a table, resolved: a SQL function of
// the row that returns a base type (Returns nil) or rows of a tracked
// table.
type ComputedField struct {
	Metadata *metadata.ComputedField
	Function *catalog.Function
	// TableArgument is the index of the argument that takes the row;
	// SessionArgument the one that takes the session variables, or -1.
	TableArgument, SessionArgument int
	Returns                        *Table
}

// resolveComputedFields reads the functions of the tables' computed fields
// and checks each as Hasura does before adding it, in Hasura's words.
func (p *Project) resolveComputedFields(ctx context.Context, db database.Conn, tracked map[catalog.Name]*Table) error {
	var names []catalog.Name
	for _, t := range p.Tables {
		for _, cf := range t.Metadata.ComputedFields {
			names = append(names, catalog.Name{Schema: cf.Definition.Function.Schema, Table: cf.Definition.Function.Name})
		}
	}
	if len(names) == 0 {
		return nil
	}
	found, err := catalog.ReadFunctions(ctx, db, names)
	if err != nil {
		return err
	}
	for _, t := range p.Tables {
		for i := range t.Metadata.ComputedFields {
			mcf := &t.Metadata.ComputedFields[i]
			cf, err := resolveComputedField(t, mcf, found, tracked)
			if err != nil {
				return err
			}
			t.ComputedFields = append(t.ComputedFields, cf)
		}
	}
	return nil
}

func resolveComputedField(t *Table, mcf *metadata.ComputedField, found map[catalog.Name][]*catalog.Function, tracked map[catalog.Name]*Table) (ComputedField, error) {
	name := catalog.Name{Schema: mcf.Definition.Function.Schema, Table: mcf.Definition.Function.Name}
	qf := name.Hasura()
	fail := func(format string, args ...any) error {
		return fail(t.Metadata, "in computed field %q: %s", mcf.Name, fmt.Sprintf(format, args...))
	}
	if _, clash := t.Column(mcf.Name); clash {
		return ComputedField{}, fail("field definition conflicts with postgres column")
	}
	overloads := found[name]
	switch {
	case len(overloads) == 0:
		return ComputedField{}, fail("no such function exists in postgres : %q", qf)
	case len(overloads) > 1:
		return ComputedField{}, fail("function %q is overloaded. Overloaded functions are not supported", qf)
	}
	f := overloads[0]
	cf := ComputedField{Metadata: mcf, Function: f, SessionArgument: -1}
	var reasons []string
	if !graphQLNamePattern.MatchString(mcf.Name) {
		reasons = append(reasons, fmt.Sprintf("%q is not valid GraphQL name", mcf.Name))
	}
	if f.Volatility == "v" {
		reasons = append(reasons, fmt.Sprintf("the function %q is of type VOLATILE; cannot be added as a computed field", qf))
	}
	switch {
	case f.ReturnsSet && f.Returns != (catalog.Name{}):
		if cf.Returns = tracked[f.Returns]; cf.Returns == nil {
			reasons = append(reasons, fmt.Sprintf("the function %q returning set of table %q is not tracked or not found in database", qf, f.Returns.Hasura()))
		}
	case f.ReturnsSet || f.Result.Kind != "b":
		reasons = append(reasons, fmt.Sprintf("the function %q returning type %s is not a BASE type", qf, f.ReturnType))
	}
	if !f.OnlyIn || f.Variadic {
		reasons = append(reasons, fmt.Sprintf("the function %q has arguments other than IN ones, which are not served", qf))
	}
	index := func(arg string) int {
		for i, a := range f.Args {
			if a.Name == arg {
				return i
			}
		}
		reasons = append(reasons, fmt.Sprintf("%q is not an input argument of the function %q", arg, qf))
		return -1
	}
	row, which := 0, "first argument"
	if arg := mcf.Definition.TableArgument; arg != "" {
		row, which = index(arg), fmt.Sprintf("%q argument", arg)
	}
	cf.TableArgument = row
	switch {
	case len(f.Args) == 0:
		reasons = append(reasons, fmt.Sprintf("the function %q has no input arguments", qf))
	case row < 0:
	case f.Args[row].Kind != "c":
		reasons = append(reasons, fmt.Sprintf("%s of the function %q is not COMPOSITE type", which, qf))
	case f.Args[row].Relation != t.Name:
		reasons = append(reasons, fmt.Sprintf("%s of the function %q of type %q is not the table to which the computed field is being added",
			which, qf, f.Args[row].Relation.String()))
	}
	if arg := mcf.Definition.SessionArgument; arg != "" {
		if cf.SessionArgument = index(arg); cf.SessionArgument >= 0 && f.Args[cf.SessionArgument].Type != "json" && f.Args[cf.SessionArgument].Type != "jsonb" {
			reasons = append(reasons, fmt.Sprintf("%q argument of the function %q is not of type JSON", arg, qf))
		}
	}
	for i, a := range f.Args {
		switch {
		case i == cf.TableArgument || i == cf.SessionArgument:
		case a.Name == "":
			reasons = append(reasons, fmt.Sprintf("argument %d of the function %q has no name: only named arguments are served", i+1, qf))
		case !graphQLNamePattern.MatchString(a.Name):
			reasons = append(reasons, fmt.Sprintf("the function arguments %s are not in compliance with GraphQL spec", a.Name))
		case a.Kind == "c" || a.Kind == "p":
			reasons = append(reasons, fmt.Sprintf("argument %q is of type %s, which is not served as an argument", a.Name, a.Cast))
		}
	}
	if len(reasons) > 0 {
		return ComputedField{}, fail("%s", refusal(fmt.Sprintf("the computed field %q cannot be added to table %q", mcf.Name, t.Name.Hasura()), reasons))
	}
	return cf, nil
}
