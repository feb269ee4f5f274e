package main

import (
	"cmp"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/graph"
	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/actions"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/authjwt"
	"github.com/freshgraph/freshgraph/internal/builtin"
	"github.com/freshgraph/freshgraph/internal/demo"
	"github.com/freshgraph/freshgraph/internal/document"
	"github.com/freshgraph/freshgraph/internal/events"
	"github.com/freshgraph/freshgraph/internal/forwarded"
	"github.com/freshgraph/freshgraph/internal/graphiql"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/live"
	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/project"
	"github.com/freshgraph/freshgraph/internal/requestlog"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// NewServer returns the server's whole HTTP surface:
//
//	GET  /            GraphiQL with the Explorer, talking to /v1/graphql with the browser's cookies
//	GET  /graphiql/assets/…  its files, embedded in the binary
//	     /v1/graphql  GraphQL, as Hasura answers it
//	GET  /api/auth/session  the session as Auth.js's endpoint answers it, fresh
//	POST /api/auth/session  the same, for useSession().update(), CSRF-checked
//	GET  /api/auth/csrf     Auth.js's CSRF token (with an Auth.js secret)
//	GET  /healthz     "OK" when PostgreSQL answers, 500 "ERROR" otherwise
//	GET  /v1/version  {"version": "…"}
//	GET  /demo        the demo page: profile form and user menu, live
//
// The live-session hub runs until ctx ends.
func NewServer(ctx context.Context, logger *slog.Logger, cfg config, pool *pgxpool.Pool) (http.Handler, error) {
	catalogue, err := loadTables(ctx, logger, cfg, pool)
	if err != nil {
		return nil, err
	}
	cookies, err := session.NewCookies(cfg.Session)
	if err != nil {
		return nil, err
	}
	hub := live.NewHub(pool, logger)
	go hub.Run(ctx)
	captured, err := livequery.Capture(ctx, pool, catalogue, cfg.LiveCapture, logger)
	if err != nil {
		return nil, err
	}
	// Live queries run on connections of their own: a burst of re-runs
	// never takes the connections requests wait for, and a group's
	// statement, whose plan PostgreSQL costs for a hundred cohorts
	// whatever their number, is not JIT-compiled on each run.
	liveConfig := pool.Config()
	liveConfig.MaxConns = 4
	liveConfig.MinConns = 0
	liveConfig.ConnConfig.RuntimeParams["jit"] = "off"
	livePool, err := pgxpool.NewWithConfig(ctx, liveConfig)
	if err != nil {
		return nil, err
	}
	context.AfterFunc(ctx, livePool.Close)
	meters := cfg.Metrics
	if meters == nil {
		meters = metrics.New(pool)
	}
	liveQueries := livequery.New(livequery.Config{Pool: livePool, Logger: logger, Interval: cfg.LiveQueryInterval,
		PollInterval: time.Second, Limits: cfg.Limits, Captured: captured, PollAll: cfg.LiveQueryPoll, Metrics: meters})
	go liveQueries.Run(ctx)
	// Serve once the writes reach the hub, so that a subscription opened
	// at start is pushed like any other; meanwhile it would be polled.
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	if !liveQueries.WaitCapture(waitCtx) && ctx.Err() == nil {
		logger.Warn("live queries: logical decoding has not started within 10s; the tables it serves are polled until it does")
	}
	cancelWait()
	actionService, err := actions.New(cfg.Metadata, catalogue, cfg.Getenv, cfg.Tracer)
	if err != nil {
		return nil, err
	}
	eventService, err := startEvents(ctx, logger, cfg, pool, catalogue, actionService, meters)
	if err != nil {
		return nil, err
	}
	if actionService != nil {
		actionService.Wake = eventService.Wake
		go actionService.Listen(ctx, pool, logger)
	}
	service := accounts.NewService(pool, cfg.Session).WithMetrics(meters)
	link := cmp.Or(cfg.PasswordResetURL, "{token}")
	switch {
	case cfg.Mailer != nil:
		service.WithMailer(cfg.Mailer, link)
	case cfg.embedded():
		// On the developer's own machine the reset link goes to the log.
		service.WithMailer(accounts.LogMailer{Logger: logger}, link)
	}
	resolver := &graph.Resolver{DB: pool, Accounts: service, Live: hub, Tables: catalogue, LiveQueries: liveQueries,
		Actions: actionService, EventSessions: cfg.Metadata != nil && events.HasEventTriggers(cfg.Metadata), Metrics: meters,
		Tracer: cfg.Tracer}
	if cfg.SessionCleanupInterval > 0 {
		go resolver.Accounts.RunCleanup(ctx, cfg.SessionCleanupInterval, logger)
	}
	mux := http.NewServeMux()
	authJWT := authjwt.New(cfg.AuthJSSecrets, cfg.AuthJSCookies)
	authenticator := auth.NewAuthenticator(auth.Config{AdminSecret: cfg.AdminSecret, JWT: cfg.JWT, SessionToken: cookies.Token,
		AuthJSCookies: cfg.AuthJSCookies, AuthJWT: authJWT, UnauthorizedRole: auth.Role(cfg.UnauthorizedRole),
		LiveSession: func(ctx context.Context, token string) (bool, error) { return authjs.SessionIsLive(ctx, pool, token) }})
	gql, err := graphqlHandler(ctx, logger, cfg, resolver, authenticator, meters)
	if err != nil {
		return nil, err
	}
	mux.Handle("/v1/graphql", scoped(authenticator, cookies, cfg.TrustedProxies, &cfg, gql))
	authJS := &graph.AuthJSEndpoint{Accounts: resolver.Accounts, Tokens: authJWT, V5: onlyV5(cfg.AuthJSCookies), BodyBytes: cfg.HTTP.BodyBytes, Logger: logger}
	authJSSession := scoped(authenticator, cookies, cfg.TrustedProxies, nil, authJS.Session())
	mux.Handle("GET "+graph.AuthJSSessionPath, authJSSession)
	mux.Handle("POST "+graph.AuthJSSessionPath, authJSSession)
	mux.Handle("GET "+graph.AuthJSCSRFPath, authJS.CSRF())
	isAdmin := func(r *http.Request) bool {
		caller, err := authenticator.Identify(r)
		return err == nil && caller.Role == auth.RoleAdmin
	}
	mux.Handle("POST /v1/metadata", events.MetadataAPI(eventService, isAdmin))
	mux.Handle("GET /v1/events", events.StatsHandler(eventService, isAdmin))
	mux.Handle("GET /v1/metrics", meters.Handler(cfg.MetricsSecret, cfg.embedded()))
	mux.Handle("GET /healthz", healthz(pool))
	mux.Handle("GET /hasura/healthz", healthz(pool))
	mux.Handle("GET /readyz", readyz(pool, cfg.Draining))
	mux.Handle("GET /v1/version", version())
	graphiQL, err := graphiql.New(cfg.GraphiQL)
	if err != nil {
		return nil, err
	}
	mux.Handle("GET /{$}", graphiQL.Page)
	if graphiQL.Assets != nil {
		mux.Handle("GET "+graphiql.AssetsPath, graphiQL.Assets)
	}
	mux.Handle("GET /demo", demo.Handler())
	mux.Handle("GET /demo/", demo.Handler())
	return cfg.Tracer.Handler(requestlog.Middleware(logger, cfg.TrustedProxies, cfg.Tracer != nil)(mux), routeOf(mux)), nil
}

// routeOf names a request by the route that serves it ("POST /v1/graphql",
// "GET /demo/"): a span's name, which must not carry a path's values.
func routeOf(mux *http.ServeMux) func(*http.Request) string {
	return func(r *http.Request) string {
		_, pattern := mux.Handler(r)
		switch {
		case pattern == "":
			return r.Method
		case strings.Contains(pattern, " "): // "GET /healthz"
			return pattern
		}
		return r.Method + " " + pattern
	}
}

// startEvents puts the project's event triggers on their tables (and takes
// off those it no longer has) and starts delivering its events, cron
// events and asynchronous actions' calls.
func startEvents(ctx context.Context, logger *slog.Logger, cfg config, pool *pgxpool.Pool, catalogue *tables.Catalogue, actionService *actions.Service, meters *metrics.Metrics) (*events.Service, error) {
	md := cfg.Metadata
	if md == nil {
		md = &metadata.Metadata{}
	}
	eventsConfig := cfg.Events
	eventsConfig.Pool, eventsConfig.Logger, eventsConfig.Getenv, eventsConfig.Metrics, eventsConfig.Tracer = pool, logger, cfg.Getenv, meters, cfg.Tracer
	if actionService != nil {
		eventsConfig.Actions = actionService // the asynchronous actions' calls go through the log
	}
	service, err := events.New(eventsConfig, md)
	if err != nil {
		return nil, err
	}
	if err := events.Install(ctx, pool, service, catalogue); err != nil {
		return nil, err
	}
	if service != nil {
		go service.Run(ctx)
	}
	return service, nil
}

// onlyV5 reports whether the Auth.js cookies read are all Auth.js v5's:
// then a visitor with no cookie is answered as v5's client expects.
func onlyV5(names []string) bool {
	return len(names) > 0 && !slices.ContainsFunc(names, func(n string) bool { return !strings.Contains(n, "authjs.") })
}

//go:embed schema.graphqls
var handWrittenSDL string

// loadTables reads the tracked tables — freshgraph's own, and a project's
// over them — and resolves their metadata against the database: what does
// not fit stops the start, naming the file.
func loadTables(ctx context.Context, logger *slog.Logger, cfg config, pool *pgxpool.Pool) (catalogue *tables.Catalogue, err error) {
	own, err := builtin.Metadata()
	if err != nil {
		return nil, err
	}
	md := metadata.Over(own, cfg.Metadata)
	p, err := project.Resolve(ctx, pool, md)
	if err == nil {
		catalogue, err = tables.Build(ctx, pool, p, tables.Options{StringifyNumbers: cfg.StringifyNumbers, InferFunctionPermissions: cfg.InferFunctionPermissions})
	}
	var mdErr *metadata.Error
	switch {
	case err == nil:
	case errors.As(err, &mdErr) && cfg.MetadataDir != "" && strings.HasPrefix(mdErr.File, cfg.MetadataDir):
		return nil, fmt.Errorf("HASURA_GRAPHQL_METADATA_DIR: %w", err)
	default:
		return nil, fmt.Errorf("freshgraph's own tables no longer fit their metadata: %w", err)
	}
	if cfg.Metadata != nil {
		logger.Info("serving Hasura metadata", "tables", len(catalogue.Tables), "roles", strings.Join(catalogue.Roles, ","))
	}
	return catalogue, nil
}

func graphqlHandler(ctx context.Context, logger *slog.Logger, cfg config, resolver *graph.Resolver, authenticator *auth.Authenticator, meters *metrics.Metrics) (http.Handler, error) {
	ws := &graph.Websocket{
		Ctx:            ctx,
		Identify:       authenticator.Identify,
		AllowedOrigins: cfg.AllowedOrigins,
		KeepAlive:      cfg.KeepAlive,
		InitTimeout:    cfg.HTTP.InitTimeout,
		MessageBytes:   cfg.HTTP.MessageBytes,
		Operations:     cfg.HTTP.Operations,
		Limits:         cfg.Limits,
		Resolver:       resolver,
		LiveQueries:    resolver.LiveQueries,
		Metrics:        meters,
		Tracer:         cfg.Tracer,
	}
	schemas, err := graph.NewSchemas(resolver, graph.Options{HandWritten: handWrittenSDL, Unauthorized: auth.Role(cfg.UnauthorizedRole),
		Renames: cfg.SessionAPIRenames, Configure: func(exec *executor.Executor) {
			docs := document.New(cfg.Limits, 1000)
			exec.SetQueryCache(docs.Cache())
			exec.SetParserTokenLimit(cfg.Limits.Tokens)
			exec.SetErrorPresenter(hasura.ErrorPresenter(logger, limits.Explain))
			exec.SetRecoverFunc(hasura.RecoverFunc(logger))
			exec.Use(docs)
			exec.Use(extension.Introspection{})
			exec.Use(graph.NoIntrospection{Roles: cfg.IntrospectionDisabled})
		}})
	if err != nil {
		return nil, err
	}
	ws.Schemas = schemas
	transports := []graphql.Transport{ws, hasura.Transport{
		CheckBatch: func(ctx context.Context, n int) error {
			return cfg.Limits.BatchError(string(auth.CallerFrom(ctx).Role), n)
		},
		ReadTimeout: cfg.HTTP.ReadTimeout,
		Planned:     schemas.Planned,
		Observe:     meters.ObserveRequest,
		Tracer:      cfg.Tracer,
	}}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exec := schemas.Executor(auth.CallerFrom(r.Context()).Role)
		for _, t := range transports {
			if t.Supports(r) {
				t.Do(w, r, exec)
				return
			}
		}
		hasura.WriteError(w, &hasura.Error{Code: hasura.CodeBadRequest, Message: "transport not supported"})
	}), nil
}

// scoped serves next with what a request to the GraphQL side carries, in
// one context (one copy of the request, not one per layer): its caller,
// identified from its credentials (wrong ones get Hasura's error), and its
// exchange. With cfg, a request that is not a WebSocket's upgrade also
// gets its body limit and the limits of its role; a WebSocket lives as
// long as its client keeps it, and each of its operations gets the limits
// of a request.
func scoped(authenticator *auth.Authenticator, cookies *session.Cookies, proxies forwarded.Proxies, cfg *config, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		caller, err := authenticator.Identify(r)
		if err != nil {
			hasura.WriteError(w, err)
			return
		}
		ctx := auth.WithCaller(r.Context(), caller)
		ctx, w = graph.WithExchange(ctx, w, r, proxies.Client(r, caller.Vouched), cookies)
		if cfg != nil && r.Header.Get("Upgrade") == "" {
			r.Body = http.MaxBytesReader(w, r.Body, cfg.HTTP.BodyBytes)
			var cancel context.CancelFunc
			ctx, cancel = cfg.Limits.Start(ctx, caller.Role)
			defer cancel()
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// healthz answers as Hasura's /healthz does: OK while the database
// answers, else 500 ERROR. ?strict=true, which makes Hasura fail on
// inconsistent metadata, answers the same: freshgraph does not start with
// metadata that does not fit the database.
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

// readyz answers whether this instance should be sent requests: 200 OK
// while it serves and PostgreSQL answers; 503 while it drains at shutdown
// (and, from the start-up handler, while it starts: migrations run, the
// schema is built).
func readyz(pool *pgxpool.Pool, draining *atomic.Bool) http.Handler {
	health := healthz(pool)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if draining != nil && draining.Load() {
			notReady(w, "draining")
			return
		}
		health.ServeHTTP(w, r)
	})
}

// notReady is the answer of an instance that should not be sent requests
// now, saying why (starting, draining).
func notReady(w http.ResponseWriter, why string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(why))
}

// starting serves while the server starts (its migrations run, its schema
// is built): every request answers 503, the GraphQL endpoint in Hasura's
// shape. /healthz answers so too: Hasura does not answer before it serves,
// and deployments take its 200 to mean "send requests".
func starting() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/graphql" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"errors":[{"message":"the server is starting: try again shortly","extensions":{"code":"unexpected","path":"$"}}]}`))
			return
		}
		notReady(w, "starting")
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
