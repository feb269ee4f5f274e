package graph

import (
	"context"
	"slices"

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

// RoleIntrospection is a field middleware that shows each role its own
// schema in introspection, as Hasura does: root fields and table fields the
// role may not use are left out of __Type.fields, so GraphiQL's docs and
// completion offer a role only what it can run.
func RoleIntrospection(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	fc := graphql.GetFieldContext(ctx)
	if err != nil || fc.Object != "__Type" || fc.Field.Name != "fields" {
		return res, err
	}
	caller := auth.CallerFrom(ctx)
	fields, ok := res.([]introspection.Field)
	if !ok || caller.Role == auth.RoleAdmin {
		return res, err
	}
	typeName := introspectedTypeName(fc.Parent)
	kept := fields[:0:0]
	for _, f := range fields {
		visible := engine.FieldVisible(caller, typeName, f.Name)
		if typeName == "query_root" || typeName == "mutation_root" || typeName == "subscription_root" {
			visible = rootFieldAllowed(caller, f.Name)
		}
		if visible {
			kept = append(kept, f)
		}
	}
	return kept, nil
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
