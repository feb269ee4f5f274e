package graph

import (
	"context"
	"io"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/limits"
)

// Executor is the gqlgen extension that answers every root field: Hasura's
// table fields through the engine, the session API through the accounts
// service. Each answer is JSON built by PostgreSQL, written to the response
// as it is. A mutation operation runs in one transaction, committed only if
// every field succeeded, as Hasura runs several mutation fields.
type Executor struct{ *Resolver }

var (
	_ graphql.HandlerExtension     = Executor{}
	_ graphql.RootFieldInterceptor = Executor{}
	_ graphql.ResponseInterceptor  = Executor{}
)

// ExtensionName names the extension for gqlgen.
func (Executor) ExtensionName() string { return "Executor" }

// Validate has nothing to check.
func (Executor) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptRootField answers one root field.
func (e Executor) InterceptRootField(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
	field := graphql.GetRootFieldContext(ctx).Field
	op := graphql.GetOperationContext(ctx)
	caller := auth.CallerFrom(ctx)
	var out []byte
	var err error
	switch {
	case engine.Handles(field.Name):
		out, err = engine.Execute(ctx, database.ConnFrom(ctx, e.DB), op, field, caller)
	case sessionAPI[field.Name] != nil:
		out, err = sessionAPI[field.Name](e.Resolver, ctx, op, field, caller)
	default: // introspection
		return next(ctx)
	}
	if err == nil {
		err = limits.Spend(ctx, len(out))
	}
	if err != nil {
		graphql.AddError(ctx, err)
		return graphql.Null
	}
	return rawJSON(out)
}

// rawJSON writes JSON that PostgreSQL (or the session API) has built.
type rawJSON []byte

func (j rawJSON) MarshalGQL(w io.Writer) { _, _ = w.Write(j) }

// InterceptResponse runs a mutation in a transaction when it takes more than
// one statement; a single statement is atomic on its own, and skipping BEGIN
// and COMMIT saves two round trips on the common one-field mutations.
func (e Executor) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) || !needsTransaction(graphql.GetOperationContext(ctx)) {
		return next(ctx)
	}
	tx, err := e.DB.Begin(ctx)
	if err != nil {
		graphql.AddError(ctx, err)
		return &graphql.Response{Errors: graphql.GetErrors(ctx)}
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	resp := next(database.WithTx(ctx, tx))
	if resp == nil || len(resp.Errors) > 0 {
		return resp
	}
	if err := tx.Commit(ctx); err != nil {
		graphql.AddError(ctx, err)
		return &graphql.Response{Errors: graphql.GetErrors(ctx)}
	}
	return resp
}

// multiStatement are the root fields that run more than one statement.
var multiStatement = map[string]bool{"signUp": true}

func needsTransaction(op *graphql.OperationContext) bool {
	if op.Operation == nil || op.Operation.Operation != ast.Mutation {
		return false
	}
	fields := graphql.CollectFields(op, op.Operation.SelectionSet, nil)
	if len(fields) != 1 {
		return len(fields) > 1
	}
	name := fields[0].Name
	return multiStatement[name] || strings.HasSuffix(name, "_many")
}

// AnsweredByExecutor reports whether the Executor answers root field name
// itself (every field but introspection must be).
func AnsweredByExecutor(name string) bool {
	return engine.Handles(name) || sessionAPI[name] != nil
}
