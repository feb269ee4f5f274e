package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/engine"
)

// projector writes a handler's answer as the request selects it, checking
// each value against its type. A relationship of an output object is left
// as a hole, and every object's holes of one field are filled by one
// statement (fill).
type projector struct {
	op    *graphql.OperationContext
	types func(name string) *ast.Definition
	rels  map[string][]relationship
	// check: the whole value is checked against its type, every field of
	// its objects, and nothing is selected (an asynchronous action's
	// answer, kept for later reads).
	check  bool
	groups map[*ast.Field]*related
	holes  []hole
}

// related is one relationship field of the selection, and the objects it
// is asked of.
type related struct {
	r         relationship
	aggregate bool
	field     *ast.Field
	sources   []json.RawMessage
}

// hole is where the answer waits for a relationship's value.
type hole struct {
	at    int
	group *related
	index int
}

func (s *Service) projector(op *graphql.OperationContext, schema *ast.Schema) *projector {
	return &projector{op: op, types: func(name string) *ast.Definition { return schema.Types[name] }, rels: s.rels,
		groups: map[*ast.Field]*related{}}
}

// checker checks answers against the types of actions.graphql; a name it
// does not define (a database's scalar, such as uuid) takes any value.
func (s *Service) checker() *projector {
	return &projector{types: func(name string) *ast.Definition {
		if def := s.typeOf[name]; def != nil {
			return def
		}
		return &ast.Definition{Kind: ast.Scalar, Name: name}
	}, check: true}
}

// value writes v as a value of typ with the selections sel; field names
// the place in messages.
func (p *projector) value(out *bytes.Buffer, v any, typ *ast.Type, sel ast.SelectionSet, field string) error {
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
	def := p.types(typ.NamedType)
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
		if p.check {
			return p.checkObject(obj, def)
		}
		return p.object(out, obj, def, sel)
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

// object writes the fields sel selects of obj, an object of def; a
// relationship's value is left as a hole.
func (p *projector) object(out *bytes.Buffer, obj map[string]any, def *ast.Definition, sel ast.SelectionSet) error {
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
		if r, aggregate, ok := p.relationship(def.Name, f.Name); ok {
			p.hole(out, r, aggregate, f, obj)
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
}

// checkObject checks every field of def in obj: a non-null one is there
// and not null, each value fits its type.
func (p *projector) checkObject(obj map[string]any, def *ast.Definition) error {
	for _, f := range def.Fields {
		fv, present := obj[f.Name]
		if !present && f.Type.NonNull {
			return unexpected(fmt.Sprintf("field %q expected in webhook response, but not found", f.Name))
		}
		if err := p.value(&bytes.Buffer{}, fv, f.Type, nil, f.Name); err != nil {
			return err
		}
	}
	return nil
}

// relationship is the relationship the field name of typeName answers:
// its own, or with aggregate its _aggregate.
func (p *projector) relationship(typeName, name string) (relationship, bool, bool) {
	for _, r := range p.rels[typeName] {
		switch name {
		case r.name:
			return r, false, true
		case r.name + "_aggregate":
			return r, true, r.rel.Array
		}
	}
	return relationship{}, false, false
}

// hole leaves the place of f's value, the relationship r of obj.
func (p *projector) hole(out *bytes.Buffer, r relationship, aggregate bool, f graphql.CollectedField, obj map[string]any) {
	g := p.groups[f.Field]
	if g == nil {
		field := *f.Field
		field.SelectionSet = f.Selections
		g = &related{r: r, aggregate: aggregate, field: &field}
		p.groups[f.Field] = g
	}
	mapped := map[string]any{}
	for _, m := range r.rel.Mapping {
		mapped[m.From] = obj[m.From]
	}
	source, _ := json.Marshal(mapped)
	p.holes = append(p.holes, hole{at: out.Len(), group: g, index: len(g.sources)})
	g.sources = append(g.sources, source)
}

// fill answers the relationships the answer out waits for, one statement
// per relationship field, and returns the answer whole.
func (p *projector) fill(ctx context.Context, out []byte, call Call) ([]byte, error) {
	if len(p.holes) == 0 {
		return out, nil
	}
	values := map[*related][]json.RawMessage{}
	for _, g := range p.groups {
		v, err := engine.Related(ctx, call.DB, p.op, call.View, call.Caller, g.r.rel, g.aggregate, g.field, g.sources,
			"$.selectionSet."+g.field.Name)
		if err != nil {
			return nil, err
		}
		values[g] = v
	}
	var whole bytes.Buffer
	last := 0
	for _, h := range p.holes {
		whole.Write(out[last:h.at])
		whole.Write(values[h.group][h.index])
		last = h.at
	}
	whole.Write(out[last:])
	return whole.Bytes(), nil
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
