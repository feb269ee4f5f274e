package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// requestedFields lists the names of the fields selected on the current
// field's result, fragments resolved, so that SQL reads only those columns.
func requestedFields(ctx context.Context) []string {
	return fieldNames(graphql.CollectFieldsCtx(ctx, nil))
}

// requestedSubfields lists the fields selected under the field named child of
// the current field's result, e.g. the user fields of { session { user { … } } }.
func requestedSubfields(ctx context.Context, child string) []string {
	opCtx := graphql.GetOperationContext(ctx)
	var names []string
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == child {
			names = append(names, fieldNames(graphql.CollectFields(opCtx, f.Selections, nil))...)
		}
	}
	return names
}

func fieldNames(fields []graphql.CollectedField) []string {
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	return names
}

// argumentGiven reports whether the current field's call names argument arg,
// even as null: absent leaves a column alone, null clears it.
func argumentGiven(ctx context.Context, arg string) bool {
	field := graphql.GetFieldContext(ctx).Field
	_, ok := field.ArgumentMap(graphql.GetOperationContext(ctx).Variables)[arg]
	return ok
}
