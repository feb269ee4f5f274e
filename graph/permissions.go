package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
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
type RoleSchema struct{}

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
func (RoleSchema) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	caller := auth.CallerFrom(ctx)
	rootType := rootTypeName(opCtx.Operation.Operation)
	for _, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		if rootFieldAllowed(caller, f.Name) {
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
