package actions

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// projector writes a handler's answer as the request selects it, checking
// each value against its type in the role's schema.
type projector struct {
	op     *graphql.OperationContext
	schema *ast.Schema
}

// value writes v as a value of typ with the selections sel; field names
// the place in messages.
func (p projector) value(out *bytes.Buffer, v any, typ *ast.Type, sel ast.SelectionSet, field string) error {
	if v == nil {
		if typ.NonNull {
			if field == "" {
				return unexpected("got null for the action webhook response")
			}
			return unexpected(fmt.Sprintf("expecting not null value for field %q", field))
		}
		out.WriteString("null")
		return nil
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok {
			return unexpected("expecting array for the action webhook response")
		}
		out.WriteByte('[')
		for i, item := range list {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := p.value(out, item, typ.Elem, sel, field); err != nil {
				return err
			}
		}
		out.WriteByte(']')
		return nil
	}
	def := p.schema.Types[typ.NamedType]
	if def == nil {
		return unexpected(fmt.Sprintf("the type %s of field %q is not in the schema", typ.NamedType, field))
	}
	mismatch := func() error {
		return unexpected(fmt.Sprintf("got %s for the action webhook response, expecting %s", jsonKind(v), def.Name))
	}
	switch def.Kind {
	case ast.Object:
		obj, ok := v.(map[string]any)
		if !ok {
			return mismatch()
		}
		out.WriteByte('{')
		for i, f := range graphql.CollectFields(p.op, sel, []string{def.Name}) {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(strconv.Quote(f.Alias))
			out.WriteByte(':')
			if f.Name == "__typename" {
				out.WriteString(strconv.Quote(def.Name))
				continue
			}
			fv, present := obj[f.Name]
			if !present && f.Definition.Type.NonNull {
				return unexpected(fmt.Sprintf("field %q expected in webhook response, but not found", f.Name))
			}
			if err := p.value(out, fv, f.Definition.Type, f.Selections, f.Name); err != nil {
				return err
			}
		}
		out.WriteByte('}')
		return nil
	case ast.Enum:
		s, ok := v.(string)
		if !ok || def.EnumValues.ForName(s) == nil {
			return unexpected(fmt.Sprintf("expecting a value of enum %s for field %q", def.Name, field))
		}
		out.WriteString(strconv.Quote(s))
		return nil
	}
	if !scalarFits(def.Name, v) {
		return mismatch()
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if def.Name == "ID" {
		if n, ok := v.(json.Number); ok {
			raw = []byte(strconv.Quote(n.String()))
		}
	}
	out.Write(raw)
	return nil
}

// jsonKind names v's JSON kind as Hasura's messages do (a number is a
// "scalar String" there too).
func jsonKind(v any) string {
	switch v.(type) {
	case bool:
		return "scalar Boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "scalar String"
}

// scalarFits reports whether the JSON value v is one of the built-in
// scalar name's; other scalars (uuid, jsonb, a custom one) take any value.
func scalarFits(name string, v any) bool {
	switch name {
	case "Int":
		n, ok := v.(json.Number)
		if !ok || strings.ContainsAny(n.String(), ".eE") {
			return false
		}
		i, err := n.Int64()
		return err == nil && i >= -1<<31 && i < 1<<31
	case "Float":
		_, ok := v.(json.Number)
		return ok
	case "String":
		_, ok := v.(string)
		return ok
	case "Boolean":
		_, ok := v.(bool)
		return ok
	case "ID":
		switch v.(type) {
		case string, json.Number:
			return true
		}
		return false
	}
	return true
}
