// Package examplefield is an example of a hand-written part of the API (a
// graph.Part): greeting, a field answered by a Go resolver beside Hasura's
// generated API, under the caller's role. The tests serve it; a Go developer
// adds a part of their own the same way: an SDL extending query_root or
// mutation_root, a gqlgen.yml, go generate, and the resolvers.
package examplefield

//go:generate go tool gqlgen generate --config gqlgen.yml

import (
	"context"
	_ "embed"
	"fmt"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/auth"
)

// Name is the part's source name in each role's schema.
const Name = "internal/examplefield/example.graphqls"

// SDL is the part's schema.
//
//go:embed example.graphqls
var SDL string

// New returns the part's executable schema over a role's schema.
func New(schema *ast.Schema) graphql.ExecutableSchema {
	return NewExecutableSchema(Config{Resolvers: resolver{}, Schema: schema})
}

// resolver answers the part's fields; like graph's, it holds only what
// they need (here nothing) and no state between requests.
type resolver struct{}

func (resolver) Query_root() Query_rootResolver { return resolver{} }

// Greeting greets name, saying the caller's role.
func (resolver) Greeting(ctx context.Context, name string) (string, error) {
	return fmt.Sprintf("Hello, %s, from role %s!", name, auth.CallerFrom(ctx).Role), nil
}
