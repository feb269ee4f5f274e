package graph

import (
	"context"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/hasura"
)

// rootFieldRoles lists, per root type, the roles below admin that may use each
// root field. Admin may use every field. As in Hasura, where each role has its
// own generated schema, a field a role may not use does not exist for it.
var rootFieldRoles = map[string]map[string][]auth.Role{
	"query_root": {
		"session":     {auth.RoleUser, auth.RoleAnonymous},
		"users_by_pk": {auth.RoleUser}, // its own row only: see authjs.OwnUserByID
	},
	"mutation_root": {
		"signUp":  {auth.RoleUser, auth.RoleAnonymous},
		"signIn":  {auth.RoleUser, auth.RoleAnonymous},
		"signOut": {auth.RoleUser, auth.RoleAnonymous},
		// Anonymous callers get access-denied from the resolver, not a
		// missing field: the field is the session API's, which every role has.
		"updateUserProfile": {auth.RoleUser, auth.RoleAnonymous},
	},
}

// RoleSchema is a gqlgen extension that refuses, before anything runs, an
// operation that selects a root field the caller's role does not have.
type RoleSchema struct{}

var (
	_ graphql.HandlerExtension        = RoleSchema{}
	_ graphql.OperationContextMutator = RoleSchema{}
)

// ExtensionName names the extension for gqlgen.
func (RoleSchema) ExtensionName() string { return "RoleSchema" }

// Validate has nothing to check: the table above is checked by the tests.
func (RoleSchema) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext rejects the operation with Hasura's error for an
// unknown field when the caller's role lacks one of its root fields.
func (RoleSchema) MutateOperationContext(ctx context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	role := auth.CallerFrom(ctx).Role
	if role == auth.RoleAdmin {
		return nil
	}
	rootType := rootTypeName(opCtx.Operation.Operation)
	for _, f := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		if f.Name == "__typename" || f.Name == "__schema" || f.Name == "__type" || slices.Contains(rootFieldRoles[rootType][f.Name], role) {
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

func rootTypeName(op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return "mutation_root"
	case ast.Subscription:
		return "subscription_root"
	}
	return "query_root"
}
