// Package graph is the GraphQL layer: one schema per role (Schemas), made of
// Hasura's generated API for the tracked tables, answered by internal/engine,
// and the hand-written part in schema.graphqls — the session API and any
// field a Go developer adds — answered by the resolvers here, through the
// code gqlgen generates from it. Every answer of the engine is the JSON
// PostgreSQL builds, passed through as it is.
package graph

//go:generate go tool gqlgen generate

import (
	"io"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/actions"
	"github.com/freshgraph/freshgraph/internal/live"
	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/tables"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

// Resolver holds the dependencies of the GraphQL layer; it keeps no state
// between requests.
type Resolver struct {
	DB       *pgxpool.Pool
	Accounts *accounts.Service
	Live     *live.Hub
	Tables   *tables.Catalogue
	// LiveQueries keeps subscription_root's table fields live.
	LiveQueries *livequery.Hub
	// Actions answers the project's synchronous actions (nil: none).
	Actions *actions.Service
	// EventSessions: tables have event triggers, so mutations leave the
	// caller's session variables in their transaction for the events.
	EventSessions bool
	// Metrics count what the plans do.
	Metrics *metrics.Metrics
	// Tracer makes spans of root fields (nil: none).
	Tracer *tracing.Tracer
}

// QueryRoot returns the resolvers of query_root's hand-written fields.
func (r *Resolver) Query_root() Query_rootResolver { return queryRoot{r} }

// MutationRoot returns the resolvers of mutation_root's hand-written fields.
func (r *Resolver) Mutation_root() Mutation_rootResolver { return mutationRoot{r} }

// Session returns the resolver of Session.user.
func (r *Resolver) Session() SessionResolver { return sessionResolver{r} }

type queryRoot struct{ *Resolver }

type mutationRoot struct{ *Resolver }

type sessionResolver struct{ *Resolver }

// RawJSON is a value whose JSON PostgreSQL has built (a users row, as the
// engine writes it for the field's selection): written as it is.
type RawJSON []byte

// MarshalGQL writes the JSON.
func (j RawJSON) MarshalGQL(w io.Writer) { _, _ = w.Write(j) }

// UnmarshalGQL refuses: these types are never input.
func (j *RawJSON) UnmarshalGQL(any) error { return errOutputOnly }
