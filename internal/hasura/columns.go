package hasura

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// GeneratedSource begins the source name of the SDL that a role's schema
// generates from the tracked tables (graph.newRoleSchema names it so): the
// types and fields in it are Hasura's generated API.
const GeneratedSource = "tables"

// Hasura reads a column's value — a comparison's operand, a value to
// insert or set, a primary key — as the column's PostgreSQL type, not as
// the GraphQL scalar the schema names (Backends/Postgres/Instances/
// Schema.hs columnParser): an Int column takes "5" or 42.0, which the
// Int scalar of an argument such as limit refuses. The values rule leaves
// such values to the engine, which reads them so (tables.Type.Read).

// columnValues are the values of doc that are column values: in the
// generated API's input types, a scalar field — but _is_null, and the
// distinct of a count — and a generated field's scalar argument — but
// limit, offset, distinct and a JSON column's path.
func columnValues(schema *ast.Schema, doc *ast.QueryDocument) map[*ast.Value]bool {
	out := map[*ast.Value]bool{}
	inColumns := map[string]int{} // uses of each variable as a column value
	seen := map[string]bool{}
	var input func(v *ast.Value, typ *ast.Type, column bool)
	input = func(v *ast.Value, typ *ast.Type, column bool) {
		if v == nil || typ == nil {
			return
		}
		if column {
			out[v] = true
			if v.Kind == ast.Variable {
				inColumns[v.Raw]++
			}
		}
		switch v.Kind {
		case ast.ListValue:
			elem := typ
			if typ.Elem != nil {
				elem = typ.Elem
			}
			for _, child := range v.Children {
				input(child.Value, elem, column)
			}
		case ast.ObjectValue:
			def := schema.Types[typ.Name()]
			if def == nil || def.Kind != ast.InputObject {
				return
			}
			for _, child := range v.Children {
				if field := def.Fields.ForName(child.Name); field != nil {
					input(child.Value, field.Type, columnField(schema, def, field))
				}
			}
		}
	}
	var selections func(set ast.SelectionSet, parent *ast.Definition)
	selections = func(set ast.SelectionSet, parent *ast.Definition) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if parent == nil {
					continue
				}
				def := parent.Fields.ForName(sel.Name)
				if def == nil {
					continue
				}
				for _, a := range sel.Arguments {
					if arg := def.Arguments.ForName(a.Name); arg != nil {
						input(a.Value, arg.Type, columnArgument(schema, def, arg))
					}
				}
				selections(sel.SelectionSet, schema.Types[def.Type.Name()])
			case *ast.InlineFragment:
				on := parent
				if sel.TypeCondition != "" {
					on = schema.Types[sel.TypeCondition]
				}
				selections(sel.SelectionSet, on)
			case *ast.FragmentSpread:
				if seen[sel.Name] {
					continue
				}
				seen[sel.Name] = true
				if f := doc.Fragments.ForName(sel.Name); f != nil {
					selections(f.SelectionSet, schema.Types[f.TypeCondition])
				}
			}
		}
	}
	for _, op := range doc.Operations {
		selections(op.SelectionSet, rootType(schema, op))
	}
	for _, f := range doc.Fragments {
		if !seen[f.Name] {
			seen[f.Name] = true
			selections(f.SelectionSet, schema.Types[f.TypeCondition])
		}
	}
	// A variable's default is a column value where every use of the
	// variable is one: Hasura reads it where it is used.
	for _, op := range doc.Operations {
		for _, def := range op.VariableDefinitions {
			if n := inColumns[def.Variable]; def.DefaultValue != nil && n > 0 && n == allUses(doc, def.Variable) {
				out[def.DefaultValue] = true
			}
		}
	}
	return out
}

// allUses counts the uses of the variable name in doc.
func allUses(doc *ast.QueryDocument, name string) int {
	n := 0
	eachValue(doc, func(v *ast.Value) bool {
		if v.Kind == ast.Variable && v.Raw == name {
			n++
		}
		return true
	})
	return n
}

func generated(pos *ast.Position) bool {
	return pos != nil && pos.Src != nil && strings.HasPrefix(pos.Src.Name, GeneratedSource)
}

func scalar(schema *ast.Schema, typ *ast.Type) bool {
	def := schema.Types[typ.Name()]
	return def != nil && def.Kind == ast.Scalar
}

func columnField(schema *ast.Schema, def *ast.Definition, field *ast.FieldDefinition) bool {
	return generated(def.Position) && scalar(schema, field.Type) && field.Name != "_is_null" &&
		!(field.Name == "distinct" && strings.HasSuffix(def.Name, "_aggregate_bool_exp_count"))
}

func columnArgument(schema *ast.Schema, field *ast.FieldDefinition, arg *ast.ArgumentDefinition) bool {
	switch arg.Name {
	case "limit", "offset", "distinct", "path":
		return false
	}
	return generated(field.Position) && scalar(schema, arg.Type)
}
