package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// requestedFields lists the names of the fields selected on the current
// field's result, fragments resolved, so that SQL reads only those columns.
func requestedFields(ctx context.Context) []string {
	collected := graphql.CollectFieldsCtx(ctx, nil)
	names := make([]string, len(collected))
	for i, f := range collected {
		names[i] = f.Name
	}
	return names
}
