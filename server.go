// Command freshgraph is a GraphQL server, compatible with Hasura's API over the
// Auth.js (NextAuth) tables, whose session is read fresh from PostgreSQL on
// every call. See README.md.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/pglocal"
	"github.com/freshgraph/freshgraph/internal/requestlog"
	"github.com/freshgraph/freshgraph/internal/shutdown"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

// stopProfiling ends the CPU profile that a build for make bench-load
// starts when asked (profile_benchload.go); other builds have none.
var stopProfiling = func() {}

// gcPercent is the collector's target unless GOGC says otherwise: twice
// Go's default heap growth halves the collector's work per request for a
// few MiB of heap (make bench-load: about 20% less CPU per request, peak
// RSS 27 → 30 MiB under load).
const gcPercent = 200

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	defer stopProfiling()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "freshgraph:", err)
		os.Exit(1)
	}
}

// run starts the server and blocks until ctx is cancelled, then shuts down:
// in-flight requests finish, the pool closes, the embedded PostgreSQL stops.
func run(ctx context.Context, _ []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	logs := requestlog.NewBatch(stderr, 50*time.Millisecond)
	defer func() { _ = logs.Flush() }()
	logger := slog.New(requestlog.NewHandler(logs, cfg.LogJSON, cfg.LogLevel))

	if cfg.MetadataDir != "" {
		logger.Info("read Hasura metadata", "dir", cfg.MetadataDir, "limits", cfg.Limits.String())
	}
	for _, line := range cfg.MetadataNotServed {
		logger.Warn("metadata not served: " + line)
	}

	dbURL := cfg.DatabaseURL
	if cfg.embedded() {
		cluster, err := pglocal.Start(ctx, pglocal.Options{
			Dir:    filepath.Join(cfg.DataDir, "postgres"),
			Logger: logger,
		})
		if err != nil {
			return err
		}
		defer func() {
			if err := cluster.Stop(); err != nil {
				logger.Error("stop embedded PostgreSQL", "err", err)
			}
		}()
		dbURL = cluster.URL()
		if cfg.AdminSecret == "" {
			if cfg.AdminSecret, err = devSecret(filepath.Join(cfg.DataDir, "admin-secret")); err != nil {
				return err
			}
		}
		if len(cfg.Session.Secrets) == 0 {
			secret, err := devSecret(filepath.Join(cfg.DataDir, "session-secret"))
			if err != nil {
				return err
			}
			cfg.Session.Secrets = []string{secret}
		}
	}

	tracer, flushTraces, err := tracing.FromEnv(ctx, getenv, serverVersion())
	if err != nil {
		return err
	}
	defer func() {
		flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := flushTraces(flushCtx); err != nil {
			logger.Warn("flushing traces at shutdown failed", "err", err)
		}
	}()
	cfg.Tracer = tracer
	poolCfg, err := database.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	boundPool(poolCfg, cfg)
	if t := tracer.QueryTracer(); t != nil {
		poolCfg.ConnConfig.Tracer = t
	}
	pool, err := database.Connect(ctx, poolCfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	cfg.Metrics = metrics.New(pool)
	// Listen first: while the migrations run and the schema is built,
	// every request, /readyz and /healthz among them, is told the server is
	// starting, rather than find no server.
	ln, err := net.Listen("tcp", cfg.addr())
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	var serving atomic.Pointer[http.Handler]
	startup := starting()
	serving.Store(&startup)
	srv := newHTTPServer(serveCtx, cfg, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*serving.Load()).ServeHTTP(w, r)
	}), logger)
	var tracker shutdown.Tracker
	tracker.Install(srv)
	srv.Handler = tracker.Middleware(srv.Handler)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Close() // when the start fails; after a shutdown, a no-op
	logger.Info("listening: starting", "address", ln.Addr().String())

	if err := database.Migrate(ctx, pool, logger, appMigrations(cfg)); err != nil {
		return err
	}
	cfg.Draining = &atomic.Bool{}
	handler, err := NewServer(serveCtx, logger, cfg, pool)
	if err != nil {
		return err
	}
	// Building the schemas peaks at many times the heap the server then
	// serves in; handing that back now, rather than as the scavenger gets to
	// it, keeps the resident set at what serving needs.
	debug.FreeOSMemory()
	serving.Store(&handler)

	_ = logs.Flush() // what the start logged, before the banner says it is up
	printBanner(stdout, cfg, ln.Addr().(*net.TCPAddr), dbURL)
	if cfg.AdminSecret == "" {
		logger.Warn("admin access is off: set HASURA_GRAPHQL_ADMIN_SECRET to use the admin API")
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	cfg.Draining.Store(true)
	if cfg.HTTP.DrainDelay > 0 {
		time.Sleep(cfg.HTTP.DrainDelay) // still serving, while /readyz says draining
	}
	if cut := tracker.Stop(srv, cfg.HTTP.ShutdownGrace, logger); cut > 0 {
		logger.Warn("stopped before every request finished", "cut", cut, "grace", cfg.HTTP.ShutdownGrace)
	}
	stopServing()
	return nil
}

// newHTTPServer is the HTTP server for handler, with the limits of cfg on
// what a client may send. Requests, WebSockets included, live in baseCtx:
// Shutdown drains plain requests, then cancelling it ends the WebSockets,
// which Shutdown does not track.
func newHTTPServer(baseCtx context.Context, cfg config, handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:     handler,
		BaseContext: func(net.Listener) context.Context { return baseCtx },
		// The whole request, body included, must arrive within ReadTimeout;
		// a WebSocket's upgrade clears the deadline for its connection.
		ReadHeaderTimeout: min(10*time.Second, cfg.HTTP.ReadTimeout),
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		MaxHeaderBytes:    int(cfg.HTTP.HeaderBytes),
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnState:         cfg.Metrics.ConnState,
	}
}

// boundPool bounds every statement of the request pool by the longest time
// limit of any role, and every message from PostgreSQL by a little over
// the response size limit (an answer over it is refused in SQL first).
func boundPool(poolCfg *pgxpool.Config, cfg config) {
	var maxMessage int64
	if cfg.Limits.ResponseBytes > 0 {
		maxMessage = cfg.Limits.ResponseBytes + 1<<20
	}
	database.Bound(poolCfg, cfg.Limits.Time.Max(), maxMessage)
}

// appMigrations are the Hasura project's migrations of cfg, if any.
func appMigrations(cfg config) *database.AppMigrations {
	if cfg.MigrationsDir == "" {
		return nil
	}
	return &database.AppMigrations{FS: os.DirFS(cfg.MigrationsDir), Dir: cfg.MigrationsDir, Source: cfg.Source}
}

func printBanner(w io.Writer, cfg config, addr *net.TCPAddr, dbURL string) {
	host := "localhost"
	if !addr.IP.IsLoopback() && !addr.IP.IsUnspecified() {
		host = addr.IP.String()
	}
	base := fmt.Sprintf("http://%s/", net.JoinHostPort(host, fmt.Sprint(addr.Port)))
	fmt.Fprintf(w, "freshgraph is ready\n  GraphiQL: %s\n  demo:     %sdemo\n  GraphQL:  %sv1/graphql\n", base, base, base)
	if cfg.embedded() {
		// Printed, never logged: this is the developer's own machine and a
		// generated secret is useless unless they can read it.
		fmt.Fprintf(w, "  database: %s (embedded, in %s)\n", dbURL, cfg.DataDir)
		fmt.Fprintf(w, "  admin secret (x-hasura-admin-secret): %s\n", cfg.AdminSecret)
	}
}

// devSecret returns the secret kept in path, creating it on first use, so that
// a restart of the embedded mode keeps the same secret (and its sessions).
func devSecret(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	var raw [32]byte
	_, _ = rand.Read(raw[:])
	secret := base64.RawURLEncoding.EncodeToString(raw[:])
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", err
	}
	return secret, nil
}
