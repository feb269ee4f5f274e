package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/hasura"
)

// NoIntrospection is a gqlgen extension that refuses __schema and __type to
// the roles Hasura's graphql_schema_introspection disables it for: for them
// the fields do not exist (validation-failed, "field … not found").
type NoIntrospection struct{ Roles []string }

var (
	_ graphql.HandlerExtension        = NoIntrospection{}
	_ graphql.OperationContextMutator = NoIntrospection{}
)

// ExtensionName names the extension for gqlgen.
func (NoIntrospection) ExtensionName() string { return "NoIntrospection" }

// Validate has nothing to check.
func (NoIntrospection) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext rejects introspection for the roles listed.
func (n NoIntrospection) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if !slices.Contains(n.Roles, string(auth.CallerFrom(ctx).Role)) {
		return nil
	}
	for _, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		if f.Name == "__schema" || f.Name == "__type" {
			rootType := rootTypeName(opCtx.Operation.Operation)
			return gqlerror.WrapPath(nil, &hasura.Error{
				Code:    hasura.CodeValidationFailed,
				Message: "field '" + f.Name + "' not found in type: '" + rootType + "'",
				Path:    hasura.FieldPath(f.Name),
			})
		}
	}
	return nil
}
