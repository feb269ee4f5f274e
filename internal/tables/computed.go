package tables

import (
	"fmt"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/project"
)

// ComputedField is a field of a table's rows answered by a SQL function of
// the row: a scalar of type Scalar, or with Returns the rows of a tracked
// table, read through its select permission.
type ComputedField struct {
	Name     string
	Function catalog.Name
	// Args are every argument, in order: the row's (Row), the session's
	// (Session) and the ones the API takes in <Name>_<table>_args.
	Args    FunctionArgs
	Scalar  Type
	Returns *Table
	Comment string
}

// ArgsType is the name of the input type of cf's arguments on t.
func (cf *ComputedField) ArgsType(t *Table) string { return cf.Name + "_" + t.Name + "_args" }

// ComputedField finds t's computed field name.
func (t *Table) ComputedField(name string) (*ComputedField, bool) {
	for _, cf := range t.ComputedFields {
		if cf.Name == name {
			return cf, true
		}
	}
	return nil, false
}

// buildComputedFields adds pt's computed fields to t.
func (c *Catalogue) buildComputedFields(pt *project.Table, t *Table) {
	for _, pcf := range pt.ComputedFields {
		f := pcf.Function
		cf := &ComputedField{Name: pcf.Metadata.Name, Function: f.Name,
			Comment: firstNonEmpty(f.Comment, fmt.Sprintf("A computed field, executes function %q", f.Name.Hasura()))}
		if pcf.Metadata.Comment != nil {
			cf.Comment = *pcf.Metadata.Comment
		}
		if pcf.Returns != nil {
			cf.Returns = c.bySQL[pcf.Returns.Name]
		} else {
			cf.Scalar = scalarType(f.Result)
		}
		for i, a := range f.Args {
			cf.Args = append(cf.Args, FunctionArg{Name: a.Name, Type: scalarType(a), HasDefault: i >= len(f.Args)-f.Defaults,
				Session: i == pcf.SessionArgument, Row: i == pcf.TableArgument})
		}
		t.ComputedFields = append(t.ComputedFields, cf)
	}
}

// ComputedFields are the computed fields of t the role reads: a scalar
// one its select permission lists (every one for the admin), a table one
// when it reads the table.
func (v *View) ComputedFields(t *Table) []*ComputedField {
	if !v.Selectable(t) {
		return nil
	}
	var out []*ComputedField
	for _, cf := range t.ComputedFields {
		if v.ReadsComputedField(t, cf) {
			out = append(out, cf)
		}
	}
	return out
}

// ReadsComputedField reports whether the role reads t's computed field cf.
func (v *View) ReadsComputedField(t *Table, cf *ComputedField) bool {
	p := v.perms[t].Select
	switch {
	case p == nil:
		return false
	case cf.Returns != nil:
		return v.Selectable(cf.Returns)
	}
	return v.Role == Admin || p.ComputedFields[cf.Name]
}
