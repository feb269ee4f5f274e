// Package graph is the GraphQL layer: gqlgen's generated executable schema,
// and Executor, which answers every root field — Hasura's generated table
// fields through internal/engine, the session API through internal/accounts —
// as the JSON PostgreSQL builds.
package graph

//go:generate go run ../internal/tables/sdlgen hasura.graphqls
//go:generate go tool gqlgen generate

import (
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/live"
)

// Resolver holds the dependencies of the GraphQL layer; it keeps no state
// between requests.
type Resolver struct {
	DB       *pgxpool.Pool
	Accounts *accounts.Service
	Live     *live.Hub
}

// errNotIntercepted is what the generated resolvers report if Executor ever
// let a root field through to them: a bug, answered as an internal error.
var errNotIntercepted = errors.New("graph: root field reached gqlgen's resolver; Executor must answer it")
