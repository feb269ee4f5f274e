package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/multitracer"

	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/requestlog"
)

func TestMain(m *testing.M) {
	if os.Getenv(wsClientEnv) != "" {
		// The load client of BenchmarkLiveSessions needs no database.
		os.Exit(m.Run())
	}
	if os.Getenv(serveEnv) != "" {
		// A server in a process of its own, for a test to kill.
		serveForTest()
	}
	os.Exit(pgtest.Main(m))
}

const testAdminSecret = "test-admin-secret-0123456789abcdef"

var adminHeaders = map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}

// testServer is NewServer on its own migrated database, over real HTTP.
type testServer struct {
	*httptest.Server
	pool  *pgxpool.Pool
	log   *syncBuffer // everything the server logged
	sql   *sqlRecorder
	dbURL string
}

func newTestServer(t testing.TB, configure ...func(*config)) *testServer {
	t.Helper()
	return newTestServerOn(t, pgtest.NewDatabase(t), configure...)
}

// newTestServerOn starts an instance on the database at dbURL: two of them on
// one database are two instances of one deployment.
func newTestServerOn(t testing.TB, dbURL string, configure ...func(*config)) *testServer {
	t.Helper()
	cfg := testConfig(t)
	for _, c := range configure {
		c(&cfg)
	}
	poolCfg, err := database.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	boundPool(poolCfg, cfg)
	rec := &sqlRecorder{}
	poolCfg.ConnConfig.Tracer = rec
	if t := cfg.Tracer.QueryTracer(); t != nil {
		poolCfg.ConnConfig.Tracer = multitracer.New(rec, t)
	}
	pool, err := database.Connect(context.Background(), poolCfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if cfg.Metrics == nil {
		cfg.Metrics = metrics.New(pool) // the HTTP server counts its connections in them
	}
	logs := &syncBuffer{}
	// The server's own log handler, each line written at once.
	logger := slog.New(requestlog.NewTextHandler(requestlog.NewBatch(logs, 0)))
	if cfg.MigrationsDir != "" {
		if err := database.Migrate(t.Context(), pool, logger, appMigrations(cfg)); err != nil {
			t.Fatal(err)
		}
	}
	handler, err := NewServer(t.Context(), logger, cfg, pool)
	if err != nil {
		t.Fatal(err)
	}
	// The production server's settings: its timeouts and header limit.
	srv := httptest.NewUnstartedServer(handler)
	srv.Config = newHTTPServer(t.Context(), cfg, handler, logger)
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(func() { expectNoUnexpected(t, logs.String()) })
	return &testServer{Server: srv, pool: pool, log: logs, sql: rec, dbURL: dbURL}
}

const testSessionSecret = "test-session-secret-0123456789abcdefghij"

// testConfig is the configuration of a deployment with its own database,
// and the settings of env besides.
func testConfig(t testing.TB, env ...map[string]string) config {
	t.Helper()
	all := map[string]string{
		"DATABASE_URL":                "set by the test",
		"HASURA_GRAPHQL_ADMIN_SECRET": testAdminSecret,
		"SESSION_SECRET":              testSessionSecret,
		// Deterministic tests: the cleanup runs only where a test asks.
		"SESSION_CLEANUP_INTERVAL": "0",
	}
	for _, e := range env {
		maps.Copy(all, e)
	}
	cfg, err := loadConfig(func(k string) string { return all[k] })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// withProject serves the Hasura project in dir (its metadata and
// migrations directories), with the settings of env besides.
func withProject(t testing.TB, dir string, env map[string]string) func(*config) {
	return func(c *config) {
		t.Helper()
		*c = testConfig(t, map[string]string{
			"HASURA_GRAPHQL_METADATA_DIR":   filepath.Join(dir, "metadata"),
			"HASURA_GRAPHQL_MIGRATIONS_DIR": filepath.Join(dir, "migrations"),
		}, env)
	}
}

// post sends body to /v1/graphql as JSON and returns the response body; every
// answer of /v1/graphql must be HTTP 200 with a JSON content type.
func (s *testServer) post(t testing.TB, body string, headers map[string]string) []byte {
	t.Helper()
	b, _ := s.postWith(t, s.Client(), body, headers)
	return b
}

// postWith is post through client (e.g. one with a cookie jar), returning the
// response too.
func (s *testServer) postWith(t testing.TB, client *http.Client, body string, headers map[string]string) ([]byte, *http.Response) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return doWith(t, client, req)
}

func (s *testServer) do(t testing.TB, req *http.Request) []byte {
	t.Helper()
	b, _ := doWith(t, s.Client(), req)
	return b
}

// rawDo sends req with client and returns the response, whatever its
// status.
func rawDo(t testing.TB, client *http.Client, req *http.Request) ([]byte, *http.Response) {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b, resp
}

// doWith sends req with client and returns the response, which must be a
// 200 of JSON.
func doWith(t testing.TB, client *http.Client, req *http.Request) ([]byte, *http.Response) {
	t.Helper()
	b, resp := rawDo(t, client, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	return b, resp
}

// gql runs one GraphQL request.
func (s *testServer) gql(t testing.TB, query string, vars map[string]any, headers map[string]string) []byte {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		t.Fatal(err)
	}
	return s.post(t, string(body), headers)
}

// exec runs SQL on the server's database, as another writer would.
func (s *testServer) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	if _, err := s.pool.Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

// assertJSON fails unless got and want are the same JSON value.
func assertJSON(t testing.TB, got []byte, want string) {
	t.Helper()
	// Numbers are compared as written: 3.0 is not 3, and a bigint is not
	// rounded to a float64.
	decode := func(b []byte) (v any, err error) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		err = d.Decode(&v)
		return v, err
	}
	g, err := decode(got)
	if err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, got)
	}
	w, err := decode([]byte(want))
	if err != nil {
		t.Fatalf("bad expectation: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("got  %s\nwant %s", gb, wb)
	}
}

// sqlRecorder records the SQL the server sends, to count round trips.
type sqlRecorder struct {
	mu   sync.Mutex
	sqls []string
	args []any // of the last statement
	off  bool  // benchmarks stop recording once they know their SQL
}

func (r *sqlRecorder) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	r.mu.Lock()
	if r.off {
		r.mu.Unlock()
		return ctx
	}
	defer r.mu.Unlock()
	if strings.HasPrefix(strings.ToLower(data.SQL), "listen ") || data.SQL == livequery.VisibilityCheck ||
		strings.Contains(data.SQL, "freshgraph_event_log") {
		return ctx // the live hubs' and the event deliverer's own statements, on their own schedule
	}
	r.sqls = append(r.sqls, data.SQL)
	r.args = data.Args
	return ctx
}

func (r *sqlRecorder) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// lastArgs returns the arguments of the last statement recorded.
func (r *sqlRecorder) lastArgs() []any {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.args
}

// stop stops recording.
func (r *sqlRecorder) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.off, r.sqls = true, nil
}

// take returns the statements recorded since the last take.
func (r *sqlRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.sqls
	r.sqls = nil
	return s
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newTestServerOnPool serves NewServer on a pool the test made.
func newTestServerOnPool(t testing.TB, pool *pgxpool.Pool) *httptest.Server {
	t.Helper()
	cfg, logger := testConfig(t), slog.New(slog.DiscardHandler)
	handler, err := NewServer(t.Context(), logger, cfg, pool)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Config = newHTTPServer(t.Context(), cfg, handler, logger)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// expectNoUnexpected fails for each line of a server's log that tells of an
// answer a request made "unexpected", or of a panic: a bug, whatever the
// test asserted of the answer.
func expectNoUnexpected(t testing.TB, log string) {
	t.Helper()
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, `msg="unexpected error"`) || strings.Contains(line, `"msg":"unexpected error"`) || strings.Contains(line, "panic") {
			t.Errorf("the server logged: %s", line)
		}
	}
}
