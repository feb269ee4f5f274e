package database_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/database"
)

func app(files map[string]string) *database.AppMigrations {
	fsys := fstest.MapFS{}
	for name, content := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(content)}
	}
	return &database.AppMigrations{FS: fsys, Dir: "migrations", Source: "default"}
}

func appliedVersions(t *testing.T, pool *pgxpool.Pool) string {
	t.Helper()
	var v string
	if err := pool.QueryRow(context.Background(), `SELECT coalesce(string_agg(version || '_' || name, ' ' ORDER BY version), '') FROM freshgraph_app_migrations`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// Hasura's layout: default/<version>_<name>/up.sql, applied in the order of
// the versions as numbers, after freshgraph's own, each once.
func TestAppMigrationsRunInVersionOrderOnce(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	migrations := app(map[string]string{
		"default/1700000000000_create_posts/up.sql":   "CREATE TABLE posts (id serial PRIMARY KEY, title text NOT NULL);\nCREATE INDEX posts_title ON posts (title);",
		"default/1700000000000_create_posts/down.sql": "DROP TABLE posts;",
		"default/900_create_status/up.sql":            "CREATE TABLE post_status (value text PRIMARY KEY);\nINSERT INTO post_status VALUES ('draft'), ('published');",
		"default/1700000000001_status_fk/up.sql":      "ALTER TABLE posts ADD COLUMN status text NOT NULL DEFAULT 'draft' REFERENCES post_status;",
		"default/README.md":                           "not a migration",
		"other/1_elsewhere/up.sql":                    "CREATE TABLE not_this_source (id int);",
	})
	var log bytes.Buffer
	if err := database.Migrate(ctx, pool, slog.New(slog.NewTextHandler(&log, nil)), migrations); err != nil {
		t.Fatal(err)
	}
	if got := appliedVersions(t, pool); got != "900_create_status 1700000000000_create_posts 1700000000001_status_fk" {
		t.Errorf("applied %q", got)
	}
	if !strings.Contains(log.String(), `msg="applied app migration" version=1700000000001 name=status_fk`) {
		t.Errorf("log:\n%s", log.String())
	}
	var other bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass('not_this_source') IS NOT NULL`).Scan(&other); err != nil || other {
		t.Errorf("another source's migration ran (%v)", err)
	}
	// A second start applies nothing, though posts now exists.
	log.Reset()
	if err := database.Migrate(ctx, pool, slog.New(slog.NewTextHandler(&log, nil)), migrations); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "applied") {
		t.Errorf("the second start applied:\n%s", log.String())
	}
}

// A failing migration is rolled back whole and stops the start there; the
// ones before it stay applied, and it runs again at the next start.
func TestFailingAppMigrationStopsTheStart(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	migrations := app(map[string]string{
		"default/1_good/up.sql":  "CREATE TABLE good (id int);",
		"default/2_bad/up.sql":   "CREATE TABLE half_done (id int);\nINSERT INTO good VALUES (1);\nSELECT 1/0;",
		"default/3_later/up.sql": "CREATE TABLE later (id int);",
	})
	err := database.Migrate(ctx, pool, quiet, migrations)
	if err == nil || !strings.HasPrefix(err.Error(), "apply migrations/default/2_bad/up.sql: ERROR: division by zero") {
		t.Fatalf("got %v", err)
	}
	if got := appliedVersions(t, pool); got != "1_good" {
		t.Errorf("applied %q, want 1_good", got)
	}
	var halfDone, later bool
	var goodRows int
	if err := pool.QueryRow(ctx, `SELECT to_regclass('half_done') IS NOT NULL, to_regclass('later') IS NOT NULL, (SELECT count(*) FROM good)`).Scan(&halfDone, &later, &goodRows); err != nil {
		t.Fatal(err)
	}
	if halfDone || later || goodRows != 0 {
		t.Errorf("half_done=%v later=%v rows in good=%d; want false, false, 0", halfDone, later, goodRows)
	}
}

func TestAppMigrationsDirectoryErrors(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	for _, tt := range []struct {
		files map[string]string
		want  string
	}{
		{map[string]string{"other/1_x/up.sql": "SELECT 1;"}, `migrations: the migrations of database "default" are not there`},
		{map[string]string{"default/1_x/down.sql": "SELECT 1;"}, "migrations: default/1_x has no up.sql"},
		{map[string]string{"default/1_x/up.yaml": "- type: run_sql"}, "migrations: default/1_x: up.yaml migrations (Hasura config v1) are not supported; write the SQL in up.sql"},
		{map[string]string{"default/1_x/up.sql": "SELECT 1;", "default/01_y/up.sql": "SELECT 1;"}, "migrations: default/01_y/up.sql and default/1_x/up.sql have the same version"},
	} {
		err := database.Migrate(ctx, pool, quiet, app(tt.files))
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("got %v\nwant %s", err, tt.want)
		}
	}
}

// Instances starting together apply each app migration once.
func TestConcurrentStartsApplyAppMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	migrations := app(map[string]string{"default/1_create/up.sql": "CREATE TABLE once (id int);"})
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- database.Migrate(ctx, pool, quiet, migrations) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := appliedVersions(t, pool); got != "1_create" {
		t.Errorf("applied %q", got)
	}
}
