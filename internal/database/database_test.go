package database_test

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/migrations"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// emptyPool connects to a new database with no schema at all.
func emptyPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	// The test databases are migrated clones: start from nothing instead.
	if _, err := pool.Exec(ctx, `DROP SCHEMA public CASCADE; CREATE SCHEMA public`); err != nil {
		t.Fatal(err)
	}
	return pool
}

func dbVersion(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var v int64
	if err := pool.QueryRow(context.Background(),
		`SELECT coalesce(max(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateCreatesTheAuthJSSchemaAndIsIdempotent(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	for range 2 {
		if err := database.Migrate(ctx, pool, quiet, nil); err != nil {
			t.Fatal(err)
		}
	}
	if v := dbVersion(t, pool); v != latest(t) {
		t.Errorf("version %d, want %d", v, latest(t))
	}
	var applied int64
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM goose_db_version WHERE version_id > 0`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != latest(t) {
		t.Errorf("%d migration rows, want %d (the second run must apply nothing)", applied, latest(t))
	}

	// The adapter's exact names: tables, camelCase columns, constraints, enum rows.
	var columns, constraints, providerTypes string
	err := pool.QueryRow(ctx, `SELECT string_agg(table_name || '.' || column_name || ':' || data_type || ':' || is_nullable, ' ' ORDER BY table_name, column_name)
		FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`).Scan(&columns)
	if err != nil {
		t.Fatal(err)
	}
	wantColumns := "accounts.access_token:text:YES accounts.expires_at:integer:YES accounts.id:uuid:NO accounts.id_token:text:YES " +
		"accounts.provider:text:NO accounts.providerAccountId:text:NO accounts.refresh_token:text:YES accounts.scope:text:YES " +
		"accounts.session_state:text:YES accounts.token_type:text:YES accounts.type:text:NO accounts.userId:uuid:NO " +
		"freshgraph_app_migrations.applied_at:timestamp with time zone:NO freshgraph_app_migrations.name:text:NO " +
		"freshgraph_app_migrations.version:bigint:NO " +
		"freshgraph_event_attempts.created_at:timestamp with time zone:NO freshgraph_event_attempts.duration_ms:integer:NO " +
		"freshgraph_event_attempts.event_id:uuid:NO freshgraph_event_attempts.id:bigint:NO freshgraph_event_attempts.response:text:NO " +
		"freshgraph_event_attempts.status:integer:YES freshgraph_event_log.created_at:timestamp with time zone:NO " +
		"freshgraph_event_log.data:json:YES freshgraph_event_log.errors:json:YES freshgraph_event_log.finished_at:timestamp with time zone:YES freshgraph_event_log.id:uuid:NO " +
		"freshgraph_event_log.kind:text:NO freshgraph_event_log.next_attempt_at:timestamp with time zone:NO freshgraph_event_log.op:text:YES " +
		"freshgraph_event_log.output:json:YES freshgraph_event_log.request_headers:json:YES freshgraph_event_log.scheduled_time:timestamp with time zone:YES freshgraph_event_log.schema_name:text:YES " +
		"freshgraph_event_log.session_variables:json:YES freshgraph_event_log.status:text:NO freshgraph_event_log.table_name:text:YES " +
		"freshgraph_event_log.tries:integer:NO freshgraph_event_log.trigger_name:text:NO freshgraph_session_devices.address:text:YES " +
		"freshgraph_session_devices.created_at:timestamp with time zone:YES freshgraph_session_devices.last_seen_at:timestamp with time zone:NO " +
		"freshgraph_session_devices.sessionToken:text:NO freshgraph_session_devices.user_agent:text:YES provider_type.value:text:NO " +
		"sessions.expires:timestamp with time zone:NO sessions.id:uuid:NO sessions.sessionToken:text:NO sessions.userId:uuid:NO " +
		"user_passwords.hash:text:NO user_passwords.updatedAt:timestamp with time zone:NO user_passwords.userId:uuid:NO " +
		"users.email:text:NO users.emailVerified:timestamp with time zone:YES users.id:uuid:NO users.image:text:YES users.name:text:YES " +
		"verification_tokens.expires:timestamp with time zone:NO verification_tokens.identifier:text:NO verification_tokens.token:text:NO"
	if columns != wantColumns {
		t.Errorf("columns:\n got %s\nwant %s", columns, wantColumns)
	}
	err = pool.QueryRow(ctx, `SELECT string_agg(conname || ':' || contype::text || CASE contype WHEN 'f' THEN ':' || confdeltype::text ELSE '' END, ' ' ORDER BY conname)
		FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conname NOT LIKE 'goose%'`).Scan(&constraints)
	if err != nil {
		t.Fatal(err)
	}
	wantConstraints := "accounts_pkey:p accounts_type_fkey:f:r accounts_userId_fkey:f:c freshgraph_app_migrations_pkey:p " +
		"freshgraph_event_attempts_event_id_fkey:f:c freshgraph_event_attempts_pkey:p freshgraph_event_log_kind_check:c " +
		"freshgraph_event_log_pkey:p freshgraph_event_log_status_check:c " +
		"freshgraph_session_devices_pkey:p freshgraph_session_devices_sessionToken_fkey:f:c provider_type_pkey:p sessions_pkey:p " +
		"sessions_userId_fkey:f:c user_passwords_pkey:p user_passwords_userId_fkey:f:c users_email_key:u users_pkey:p verification_tokens_pkey:p"
	if constraints != wantConstraints {
		t.Errorf("constraints:\n got %s\nwant %s", constraints, wantConstraints)
	}
	if err := pool.QueryRow(ctx, `SELECT string_agg(value, ',' ORDER BY value) FROM provider_type`).Scan(&providerTypes); err != nil {
		t.Fatal(err)
	}
	if providerTypes != "credentials,email,oauth,oidc" {
		t.Errorf("provider_type rows %q", providerTypes)
	}
}

func TestFailingMigrationLeavesTheDatabaseAsItWas(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	fsys := fstest.MapFS{
		"00001_good.sql": {Data: []byte("-- +goose Up\nCREATE TABLE good (id int);\n")},
		"00002_bad.sql": {Data: []byte("-- +goose Up\nCREATE TABLE half_done (id int);\n" +
			"INSERT INTO good VALUES (1);\nSELECT 1/0;\n")},
	}
	if err := database.MigrateFS(ctx, pool, fsys, nil, quiet); err == nil {
		t.Fatal("the failing migration reported success")
	}
	if v := dbVersion(t, pool); v != 1 {
		t.Errorf("version %d, want 1", v)
	}
	var halfDone bool
	var goodRows int
	if err := pool.QueryRow(ctx, `SELECT to_regclass('half_done') IS NOT NULL, (SELECT count(*) FROM good)`).Scan(&halfDone, &goodRows); err != nil {
		t.Fatal(err)
	}
	if halfDone || goodRows != 0 {
		t.Errorf("after the failed migration: table half_done exists=%v, rows in good=%d; want false, 0", halfDone, goodRows)
	}
}

func TestConcurrentStartsMigrateOnce(t *testing.T) {
	ctx := context.Background()
	pool := emptyPool(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- database.Migrate(ctx, pool, quiet, nil) }()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if v := dbVersion(t, pool); v != latest(t) {
		t.Errorf("version %d, want %d", v, latest(t))
	}
}

// latest is the number of the newest embedded migration.
func latest(t *testing.T) int64 {
	t.Helper()
	files, err := fs.Glob(migrations.FS, "*.sql")
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	var n int64
	if _, err := fmt.Sscanf(files[len(files)-1], "%05d_", &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestOpenDoesNotLeakThePassword(t *testing.T) {
	_, err := database.Open(context.Background(), "postgres://user:s3cret-password@127.0.0.1:1/db?connect_timeout=1")
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if got := err.Error(); strings.Contains(got, "s3cret-password") {
		t.Errorf("error holds the password: %s", got)
	}
	_, err = database.Open(context.Background(), "postgres://user:s3cret-password@host:notaport/db")
	if err == nil || strings.Contains(err.Error(), "s3cret-password") {
		t.Errorf("bad URL: %v", err)
	}
}
