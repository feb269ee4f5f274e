// Package database opens the PostgreSQL pool the server runs on and brings its
// schema up to date.
package database

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
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

// Migrate applies the embedded migrations that the database lacks.
func Migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) error {
	return migrate(ctx, pool, migrations.FS, logger)
}

// migrate applies the migrations in fsys. Many instances may start at once, so
// a session advisory lock lets one apply them while the others wait; each
// migration runs in its own transaction, so a failing one leaves the database
// as it was before it.
func migrate(ctx context.Context, pool *pgxpool.Pool, fsys fs.FS, logger *slog.Logger) error {
	db := stdlib.OpenDBFromPool(pool)
	// Closed before the pool, or closing the pool waits for it forever.
	defer db.Close()
	// Waiters poll every second (goose's default is 5 s) for up to 5 minutes:
	// instances started together are ready soon after the first one.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
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
	return nil
}

// Conn is what the request-scoped code runs statements on: a pool or a
// transaction.
type Conn interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
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
