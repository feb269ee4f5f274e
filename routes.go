package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/graph"
	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/demo"
	"github.com/freshgraph/freshgraph/internal/graphiql"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/live"
	"github.com/freshgraph/freshgraph/internal/requestlog"
	"github.com/freshgraph/freshgraph/internal/session"
)

// NewServer returns the server's whole HTTP surface:
//
//	GET  /            GraphiQL, talking to /v1/graphql with the browser's cookies
//	     /v1/graphql  GraphQL, as Hasura answers it
//	GET  /healthz     "OK" when PostgreSQL answers, 500 "ERROR" otherwise
//	GET  /v1/version  {"version": "…"}
//	GET  /demo        the demo page: profile form and user menu, live
//
// The live-session hub runs until ctx ends.
func NewServer(ctx context.Context, logger *slog.Logger, cfg config, pool *pgxpool.Pool) (http.Handler, error) {
	store, err := session.NewStore(pool, cfg.Session)
	if err != nil {
		return nil, err
	}
	hub := live.NewHub(pool, logger)
	go hub.Run(ctx)
	resolver := &graph.Resolver{DB: pool, Accounts: accounts.NewService(pool, store), Live: hub}
	mux := http.NewServeMux()
	authenticator := auth.NewAuthenticator(cfg.AdminSecret, cfg.JWT, store.Token)
	mux.Handle("/v1/graphql", authenticator.Middleware(graph.HTTPMiddleware(graphqlHandler(ctx, logger, cfg, resolver, authenticator))))
	mux.Handle("GET /healthz", healthz(pool))
	mux.Handle("GET /v1/version", version())
	graphiQL, err := graphiql.New(cfg.GraphiQLAssetsDir)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /{$}", graphiQL.Page)
	if graphiQL.Assets != nil {
		mux.Handle("GET "+graphiql.AssetsPath, graphiQL.Assets)
	}
	mux.Handle("GET /demo", demo.Handler())
	mux.Handle("GET /demo/", demo.Handler())
	return requestlog.Middleware(logger)(mux), nil
}

func graphqlHandler(ctx context.Context, logger *slog.Logger, cfg config, resolver *graph.Resolver, authenticator *auth.Authenticator) http.Handler {
	schema := graph.NewExecutableSchema(graph.Config{Resolvers: resolver})
	srv := handler.New(schema)
	srv.AddTransport(&graph.Websocket{
		Ctx:            ctx,
		Identify:       authenticator.Identify,
		AllowedOrigins: cfg.AllowedOrigins,
		KeepAlive:      cfg.KeepAlive,
		InitTimeout:    cfg.HTTP.InitTimeout,
		MessageBytes:   cfg.HTTP.MessageBytes,
		Operations:     cfg.HTTP.Operations,
		Limits:         cfg.Limits,
		Resolver:       resolver,
	})
	srv.AddTransport(hasura.Transport{
		CheckBatch: func(ctx context.Context, n int) error {
			return cfg.Limits.BatchError(string(auth.CallerFrom(ctx).Role), n)
		},
		ReadTimeout: cfg.HTTP.ReadTimeout,
	})
	docs := lru.New[*ast.QueryDocument](1000)
	srv.SetQueryCache(docs)
	srv.SetParserTokenLimit(cfg.Limits.Tokens)
	srv.SetErrorPresenter(hasura.ErrorPresenter(logger, limits.Explain))
	srv.SetRecoverFunc(hasura.RecoverFunc(logger))
	srv.Use(limits.Extension{Config: cfg.Limits, Docs: docs})
	srv.Use(extension.Introspection{})
	srv.Use(graph.RoleSchema{NoIntrospection: cfg.IntrospectionDisabled})
	srv.AroundFields(graph.RoleIntrospection(schema.Schema()))
	srv.Use(graph.Executor{Resolver: resolver})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			// A WebSocket lives as long as its client keeps it; each of its
			// operations gets the limits of a request.
			srv.ServeHTTP(w, r)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, cfg.HTTP.BodyBytes)
		ctx, cancel := cfg.Limits.Start(r.Context(), auth.CallerFrom(r.Context()).Role)
		defer cancel()
		srv.ServeHTTP(w, r.WithContext(ctx))
	})
}

func healthz(pool *pgxpool.Pool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := pool.Ping(ctx); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("ERROR"))
			return
		}
		_, _ = w.Write([]byte("OK"))
	})
}

// serverVersion is the module version the binary was built from, or "dev".
func serverVersion() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

func version() http.Handler {
	body, _ := json.Marshal(map[string]string{"version": serverVersion()})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	})
}
