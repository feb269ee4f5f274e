package engine

import (
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/tables"
)

// args returns the field's arguments, as gqlparser's ArgumentMap would,
// variables resolved: absent arguments are absent keys, explicit nulls nil
// values. A literal keeps its text (tables.IntLiteral, FloatLiteral,
// EnumLiteral): a number is never read into an int64 or a float64 here,
// so none is too big to read (gqlparser's reading panics on one), and each
// reaches its column's type exactly as written.
func (c *compiler) args(f *ast.Field) map[string]any {
	return argumentMap(f, c.op.Variables)
}

func argumentMap(f *ast.Field, vars map[string]any) map[string]any {
	out := map[string]any{}
	if f.Definition == nil {
		for _, a := range f.Arguments {
			if v, ok := literal(a.Value, vars); ok {
				out[a.Name] = v
			}
		}
		return out
	}
	for _, def := range f.Definition.Arguments {
		if a := f.Arguments.ForName(def.Name); a != nil {
			if v, ok := literal(a.Value, vars); ok {
				out[def.Name] = v
				continue
			}
		}
		if def.DefaultValue != nil {
			out[def.Name], _ = literal(def.DefaultValue, vars)
		}
	}
	return out
}

// literal is the value of v, and whether it has one: a variable given no
// value has none (its default was given already, by the executor).
func literal(v *ast.Value, vars map[string]any) (any, bool) {
	if v == nil {
		return nil, true
	}
	switch v.Kind {
	case ast.Variable:
		x, ok := vars[v.Raw]
		return x, ok
	case ast.IntValue:
		return tables.IntLiteral(v.Raw), true
	case ast.FloatValue:
		return tables.FloatLiteral(v.Raw), true
	case ast.StringValue, ast.BlockValue:
		return v.Raw, true
	case ast.EnumValue:
		return tables.EnumLiteral(v.Raw), true
	case ast.BooleanValue:
		return v.Raw == "true", true
	case ast.ListValue:
		out := make([]any, 0, len(v.Children))
		for _, child := range v.Children {
			x, _ := literal(child.Value, vars) // an item without a value is null
			out = append(out, x)
		}
		return out, true
	case ast.ObjectValue:
		out := make(map[string]any, len(v.Children))
		for _, child := range v.Children {
			if x, ok := literal(child.Value, vars); ok {
				out[child.Name] = x
			}
		}
		return out, true
	}
	return nil, true
}

// enumValue is the name of an enum value: a literal's, or a variable's
// string.
func enumValue(v any) (string, bool) {
	switch x := v.(type) {
	case tables.EnumLiteral:
		return string(x), true
	case string:
		return x, true
	}
	return "", false
}
