// Package pgtest gives tests a real, migrated PostgreSQL database of their own.
//
// Each test binary starts one private cluster (see internal/pglocal), or uses
// the server named by TEST_DATABASE_URL, migrates one template database, and
// clones it for every test with CREATE DATABASE … TEMPLATE, which takes tens
// of milliseconds: tests stay isolated and may run in parallel.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/pglocal"
)

var (
	serverURL string // the maintenance database of the server the tests use
	suffix    string // tells this test binary's databases from another's on a shared server
	template  string // the migrated template database
	counter   atomic.Int64
)

// Main runs a test binary's tests against a fresh template database and
// returns the exit code; call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	ctx := context.Background()
	var stop func()
	serverURL = os.Getenv("TEST_DATABASE_URL")
	if serverURL == "" {
		dir, err := os.MkdirTemp("", "freshgraph-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		cluster, err := pglocal.Start(ctx, pglocal.Options{
			Dir:      dir,
			Database: "postgres",
			// Durability buys nothing in a throw-away cluster.
			Settings: map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
				// Logical decoding sends what is flushed: flush often.
				"wal_writer_delay": "10ms"},
		})
		if err != nil {
			_ = os.RemoveAll(dir)
			fmt.Fprintln(os.Stderr, "pgtest:", err)
			return 1
		}
		serverURL = cluster.URL()
		stop = func() { _ = cluster.Stop(); _ = os.RemoveAll(dir) }
	}
	suffix = randomSuffix()
	template = "freshgraph_template_" + suffix
	if err := createTemplate(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if stop != nil {
			stop()
		}
		return 1
	}
	code := m.Run()
	if err := exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{template}.Sanitize()+" WITH (FORCE)"); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest: drop template:", err)
	}
	if stop != nil {
		stop()
	}
	return code
}

func createTemplate(ctx context.Context) error {
	if err := exec(ctx, "CREATE DATABASE "+pgx.Identifier{template}.Sanitize()); err != nil {
		return err
	}
	pool, err := database.Open(ctx, urlFor(template))
	if err != nil {
		return err
	}
	defer pool.Close()
	return database.Migrate(ctx, pool, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
}

// exec runs one statement on the maintenance database.
func exec(ctx context.Context, sql string) error {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// urlFor is serverURL with its database replaced by name.
func urlFor(name string) string {
	u, err := url.Parse(serverURL)
	if err != nil || u.Scheme == "" {
		// A keyword/value connection string.
		return serverURL + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewDatabase creates a migrated database for t, dropped when t ends, and
// returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("freshgraph_test_%s_%d", suffix, counter.Add(1))
	ctx := context.Background()
	q := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	if err := exec(ctx, "CREATE DATABASE "+q(name)+" TEMPLATE "+q(template)); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		for {
			err := exec(ctx, "DROP DATABASE IF EXISTS "+q(name)+" WITH (FORCE)")
			// A server that has just stopped may still hold its temporary
			// replication slot, until its sender process exits.
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "55006" && ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Errorf("drop test database: %v", err)
			}
			return
		}
	})
	return urlFor(name)
}

// NewPool returns a pool on a new migrated database for t, closed when t ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
