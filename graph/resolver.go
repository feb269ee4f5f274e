// Package graph holds the GraphQL resolvers. They stay thin: they read the
// caller and the requested fields and hand the work to the domain packages.
package graph

//go:generate go tool gqlgen generate

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/accounts"
)

// Resolver holds the dependencies the resolvers share; it keeps no state
// between requests.
type Resolver struct {
	DB       *pgxpool.Pool
	Accounts *accounts.Service
}
