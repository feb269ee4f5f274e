package graph

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/introspection"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/hasura"
)

// RoleSchema is a gqlgen extension that refuses, before anything runs, an
// operation that selects a root field the caller's role does not have. As in
// Hasura, where each role has its own generated schema, such a field does not
// exist for the role: the answer is validation-failed, "field … not found".
// The session API belongs to every role; the table fields follow the
// engine's permissions.
type RoleSchema struct {
	// NoIntrospection are the roles whose schema has no __schema and
	// __type (Hasura's graphql_schema_introspection disabled_for_roles).
	NoIntrospection []string
}

var (
	_ graphql.HandlerExtension        = RoleSchema{}
	_ graphql.OperationContextMutator = RoleSchema{}
)

// ExtensionName names the extension for gqlgen.
func (RoleSchema) ExtensionName() string { return "RoleSchema" }

// Validate has nothing to check.
func (RoleSchema) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext rejects the operation if the caller's role lacks one
// of its root fields.
func (s RoleSchema) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	caller := auth.CallerFrom(ctx)
	rootType := rootTypeName(opCtx.Operation.Operation)
	noIntrospection := slices.Contains(s.NoIntrospection, string(caller.Role))
	for _, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		introspection := f.Name == "__schema" || f.Name == "__type"
		if rootFieldAllowed(caller, f.Name) && !(introspection && noIntrospection) {
			continue
		}
		err := &hasura.Error{
			Code:    hasura.CodeValidationFailed,
			Message: "field '" + f.Name + "' not found in type: '" + rootType + "'",
			Path:    hasura.FieldPath(f.Name),
		}
		return gqlerror.WrapPath(nil, err)
	}
	return nil
}

func rootFieldAllowed(caller auth.Caller, name string) bool {
	switch {
	case name == "__typename" || name == "__schema" || name == "__type":
		return true
	case sessionAPI[name] != nil:
		return caller.Role == auth.RoleAdmin || caller.Role == auth.RoleUser || caller.Role == auth.RoleAnonymous
	}
	return engine.Allowed(caller, name)
}

func rootTypeName(op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return "mutation_root"
	case ast.Subscription:
		return "subscription_root"
	}
	return "query_root"
}

// RoleIntrospection returns a field middleware that shows each role its own
// schema in introspection, as Hasura does: root fields, table fields, input
// fields and enum values the role may not use are left out, and so are the
// types it cannot reach from its root fields, so GraphiQL's docs and
// completion offer a role only what it can run.
func RoleIntrospection(schema *ast.Schema) graphql.FieldMiddleware {
	v := &roleViews{schema: schema}
	return v.middleware
}

// roleViews knows, per role, which types of the schema the role reaches.
type roleViews struct {
	schema    *ast.Schema
	reachable sync.Map // auth.Role → map[string]bool
}

func (v *roleViews) middleware(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	caller := auth.CallerFrom(ctx)
	fc := graphql.GetFieldContext(ctx)
	if err != nil || caller.Role == auth.RoleAdmin {
		return res, err
	}
	switch {
	case fc.Object == "__Type" && fc.Field.Name == "fields":
		if fields, ok := res.([]introspection.Field); ok {
			typeName := introspectedTypeName(fc.Parent)
			return slices.DeleteFunc(slices.Clone(fields), func(f introspection.Field) bool {
				return !fieldVisible(caller, typeName, f.Name)
			}), nil
		}
	case fc.Object == "__Type" && fc.Field.Name == "inputFields":
		if fields, ok := res.([]introspection.InputValue); ok {
			typeName := introspectedTypeName(fc.Parent)
			return slices.DeleteFunc(slices.Clone(fields), func(f introspection.InputValue) bool {
				return !engine.InputFieldVisible(caller, typeName, f.Name)
			}), nil
		}
	case fc.Object == "__Type" && fc.Field.Name == "enumValues":
		if values, ok := res.([]introspection.EnumValue); ok {
			typeName := introspectedTypeName(fc.Parent)
			return slices.DeleteFunc(slices.Clone(values), func(e introspection.EnumValue) bool {
				return !engine.InputFieldVisible(caller, typeName, e.Name)
			}), nil
		}
	case fc.Object == "__Schema" && fc.Field.Name == "types":
		if types, ok := res.([]introspection.Type); ok {
			reach := v.reach(caller)
			return slices.DeleteFunc(slices.Clone(types), func(t introspection.Type) bool {
				return t.Name() == nil || !reach[*t.Name()]
			}), nil
		}
	case fc.Field.Name == "__type":
		if t, ok := res.(*introspection.Type); ok && t != nil && t.Name() != nil && !v.reach(caller)[*t.Name()] {
			return (*introspection.Type)(nil), nil
		}
	}
	return res, err
}

// fieldVisible reports whether the caller's role sees field of typeName.
func fieldVisible(c auth.Caller, typeName, field string) bool {
	if typeName == "query_root" || typeName == "mutation_root" || typeName == "subscription_root" {
		return rootFieldAllowed(c, field)
	}
	return engine.FieldVisible(c, typeName, field)
}

// reach is the set of types the caller's role reaches from its root types
// through the fields, arguments and input fields it sees; the same for every
// caller of a role, so kept.
func (v *roleViews) reach(c auth.Caller) map[string]bool {
	if r, ok := v.reachable.Load(c.Role); ok {
		return r.(map[string]bool)
	}
	reach := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		def := v.schema.Types[name]
		if def == nil || reach[name] {
			return
		}
		reach[name] = true
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			visible := fieldVisible(c, name, f.Name)
			if def.Kind == ast.InputObject {
				visible = engine.InputFieldVisible(c, name, f.Name)
			}
			if !visible {
				continue
			}
			visit(f.Type.Name())
			for _, a := range f.Arguments {
				visit(a.Type.Name())
			}
		}
	}
	for _, root := range []string{"query_root", "mutation_root", "subscription_root"} {
		visit(root)
	}
	// Introspection's own types and the built-in scalars are every role's.
	for name, def := range v.schema.Types {
		if strings.HasPrefix(name, "__") || def.BuiltIn && def.Kind == ast.Scalar {
			reach[name] = true
			visit(name)
		}
	}
	v.reachable.Store(c.Role, reach)
	return reach
}

// introspectedTypeName is the name of the __Type whose fields are resolved.
func introspectedTypeName(parent *graphql.FieldContext) string {
	if parent == nil {
		return ""
	}
	var name *string
	switch t := parent.Result.(type) {
	case *introspection.Type:
		name = t.Name()
	case introspection.Type:
		name = t.Name()
	}
	if name == nil {
		return ""
	}
	return *name
}
