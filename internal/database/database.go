// Package database opens the PostgreSQL pool the server runs on and brings its
// schema up to date.
package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jackc/pgxlisten"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/freshgraph/freshgraph/migrations"
)

// Open connects to the database at url.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := ParseConfig(url)
	if err != nil {
		return nil, err
	}
	return Connect(ctx, cfg)
}

// ParseConfig reads url into a pool configuration. Every connection runs in
// UTC so that timestamps mean the same on every instance, as Hasura's output
// assumes.
func ParseConfig(url string) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message can quote the URL, password included.
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "freshgraph"
	}
	return cfg, nil
}

// Bound bounds the work of every statement on cfg's connections: each ends
// within statementTimeout (PostgreSQL's statement_timeout, the backstop of
// a request's time limit); a statement whose context ends is cancelled in
// PostgreSQL too (a cancel request), not just abandoned, so the server stops
// working on it; and a message from PostgreSQL over maxMessage bytes is
// refused before it is read (zero: no limit).
func Bound(cfg *pgxpool.Config, statementTimeout time.Duration, maxMessage int64) {
	if statementTimeout > 0 {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(statementTimeout.Milliseconds(), 10)
	}
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		// The deadline is the fallback should the cancel request be lost.
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: 2 * time.Second}
	}
	if maxMessage > 0 {
		build := cfg.ConnConfig.BuildFrontend
		cfg.ConnConfig.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
			f := build(r, w)
			f.SetMaxBodyLen(int(min(maxMessage, math.MaxInt32)))
			return f
		}
	}
}

// Connect opens a pool with cfg and checks that the server answers.
func Connect(ctx context.Context, cfg *pgxpool.Config) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to PostgreSQL at %s: %w", redacted(cfg), err)
	}
	return pool, nil
}

func redacted(cfg *pgxpool.Config) string {
	return fmt.Sprintf("host=%s port=%d dbname=%s user=%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port,
		cfg.ConnConfig.Database, cfg.ConnConfig.User)
}

// Migrate applies the embedded migrations that the database lacks, then
// the app's (nil: none).
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, app *AppMigrations) error {
	return migrate(ctx, pool, migrations.FS, app, logger)
}

// migrateLockID is the session advisory lock every migration runs under:
// goose's own id, so that an instance of an earlier version, which let goose
// take it, never migrates beside this one.
const migrateLockID = lock.DefaultLockID

// migrate applies the migrations in fsys, then app's. Many instances may
// start at once, so a session advisory lock lets one apply them while the
// others wait (up to 5 minutes); each migration runs in its own transaction,
// so a failing one leaves the database as it was before it.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, app *AppMigrations, logger *slog.Logger) error {
	// Migrations run on connections of their own, free of the statement
	// timeout that bounds requests: building an index may take longer.
	connCfg := pool.Config().ConnConfig.Copy()
	delete(connCfg.RuntimeParams, "statement_timeout")
	db := stdlib.OpenDB(*connCfg)
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	defer conn.Close()
	lockCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if _, err := conn.ExecContext(lockCtx, "SELECT pg_advisory_lock($1)", migrateLockID); err != nil {
		return fmt.Errorf("wait for the migration lock: %w", err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLockID)
	}()

	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	results, err := provider.Up(ctx)
	if err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	for _, r := range results {
		logger.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "took", r.Duration)
	}
	if app != nil {
		return app.apply(ctx, conn, logger)
	}
	return nil
}

// Conn is what the request-scoped code runs statements on: a pool or a
// transaction (in which Begin makes a savepoint).
type Conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	Begin(ctx context.Context) (pgx.Tx, error)
}

type txKey struct{}

// WithTx returns ctx carrying tx: code that asks ConnFrom(ctx, …) then runs
// in it, so the root fields of one mutation commit or roll back together.
func WithTx(ctx context.Context, tx pgx.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, tx)
}

// ConnFrom returns the transaction in ctx, or pool.
func ConnFrom(ctx context.Context, pool Conn) Conn {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return pool
}

// Listener returns a LISTEN connection's listener on pool's database for
// the part of the server called what (for the log): a lost connection is
// made again with growing delays (100 ms doubling to 5 s), and each
// handler's HandleBacklog runs after every connection, since
// notifications sent meanwhile are lost.
func Listener(pool *pgxpool.Pool, logger *slog.Logger, what string) *pgxlisten.Listener {
	failures := 0
	return &pgxlisten.Listener{
		Connect: func(ctx context.Context) (*pgx.Conn, error) {
			if failures > 0 {
				delay := min(100*time.Millisecond<<min(failures-1, 6), 5*time.Second)
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			}
			conn, err := pgx.ConnectConfig(ctx, pool.Config().ConnConfig.Copy())
			if err != nil {
				failures++
				return nil, err
			}
			failures = 0
			return conn, nil
		},
		LogError: func(ctx context.Context, err error) {
			if ctx.Err() == nil {
				logger.Warn(what+": listener", "err", err)
			}
		},
		ReconnectDelay: -1, // the backoff is in Connect
	}
}
