package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/freshgraph/freshgraph/internal/pgtest"
)

// startRun runs the server as `make run` does, with env, and returns the base
// URL and admin secret it prints, and a stop function that cancels it (as
// SIGINT does) and returns run's error.
func startRun(t *testing.T, env map[string]string) (base, secret string, stop func() error) {
	t.Helper()
	return startRunLogging(t, env, io.Discard)
}

// startRunLogging is startRun with run's log written to stderr. With a
// DATABASE_URL, run prints no secret: the one in env is returned.
func startRunLogging(t *testing.T, env map[string]string, stderr io.Writer) (base, secret string, stop func() error) {
	t.Helper()
	logs := &syncBuffer{}
	stderr = io.MultiWriter(stderr, logs)
	t.Cleanup(func() { expectNoUnexpected(t, logs.String()) })
	ctx, cancel := context.WithCancel(context.Background())
	out, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, nil, func(k string) string { return env[k] }, w, stderr)
		_ = w.CloseWithError(io.EOF)
		done <- err
	}()
	stop = func() error {
		cancel()
		go func() { _, _ = io.Copy(io.Discard, out) }()
		select {
		case err := <-done:
			return err
		case <-time.After(60 * time.Second):
			t.Fatal("run did not return after cancellation")
			return nil
		}
	}
	address := regexp.MustCompile(`GraphiQL: (http://\S+/)`)
	adminSecret := regexp.MustCompile(`admin secret \(x-hasura-admin-secret\): (\S+)`)
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := address.FindStringSubmatch(sc.Text()); m != nil {
			base = m[1]
			if env["DATABASE_URL"] != "" {
				secret = env["HASURA_GRAPHQL_ADMIN_SECRET"]
				break
			}
		}
		if m := adminSecret.FindStringSubmatch(sc.Text()); m != nil {
			secret = m[1]
			break
		}
	}
	if base == "" || secret == "" {
		t.Fatalf("run printed no address and secret; it returned %v", stop())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return base, secret, stop
}

func TestEmbeddedModeStartsStopsAndRestartsWithItsData(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	// As root, the embedded server runs as user postgres, which must be able
	// to enter every parent of its directory: t.TempDir() is not enterable.
	dir, err := os.MkdirTemp("", "freshgraph-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"FRESHGRAPH_DATA_DIR": dir, "PORT": "0"}

	start := time.Now()
	base, secret, stop := startRun(t, env)
	t.Logf("cold start (initdb, migrations, listening): %v", time.Since(start))
	if !strings.HasPrefix(base, "http://localhost:") {
		t.Errorf("GraphiQL address %q, want localhost", base)
	}
	if len(secret) < 32 {
		t.Errorf("generated admin secret %q is too short", secret)
	}
	query := `{"query": "query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id name } }", "variables": {"userId": "` + fillMurrayID + `"}}`
	assertJSON(t, postTo(t, http.DefaultClient, base, secret, query), `{"data":{"users_by_pk":null}}`)
	jar, _ := cookiejar.New(nil)
	tab := &http.Client{Jar: jar}
	postTo(t, tab, base, "", `{"query": "mutation { signUp(email: \"dev@example.com\", password: \"correct horse battery\", name: \"Dev\") { expires } }"}`)
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postgres", "data", "postmaster.pid")); !os.IsNotExist(err) {
		t.Errorf("the embedded PostgreSQL still runs after shutdown (postmaster.pid: %v)", err)
	}

	// The data directory carries over: the same secret, the same database.
	start = time.Now()
	base2, secret2, stop2 := startRun(t, env)
	t.Logf("warm start: %v", time.Since(start))
	if secret2 != secret {
		t.Errorf("admin secret changed across restarts")
	}
	assertJSON(t, postTo(t, http.DefaultClient, base2, secret2, `{"query": "{ __typename }"}`), `{"data":{"__typename":"query_root"}}`)
	// The session made before the restart still works: its row and the
	// cookie key (the session secret in the data directory) were kept.
	base2URL, _ := url.Parse(base2)
	for _, c := range jar.Cookies(mustParse(t, base)) {
		jar.SetCookies(base2URL, []*http.Cookie{c}) // the port changed with PORT=0
	}
	assertJSON(t, postTo(t, tab, base2, "", `{"query": "{ session { user { name email } } }"}`),
		`{"data":{"session":{"user":{"name":"Dev","email":"dev@example.com"}}}}`)
	if err := stop2(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// postTo posts body to base's GraphQL endpoint through client, with the admin
// secret if one is given.
func postTo(t *testing.T, client *http.Client, base, secret, body string) []byte {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"v1/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("X-Hasura-Admin-Secret", secret)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}

// LOG_FORMAT=json: everything the server logs, from its start to its stop,
// is a JSON object per line; a request's access line carries the id its
// response did, and the trace it continued (from B3 headers, with
// OTEL_PROPAGATORS). With an OTLP endpoint set, the spans reach it by the
// shutdown.
func TestJSONLogAndTraceExport(t *testing.T) {
	t.Parallel()
	var exported atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" {
			exported.Add(1)
		}
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	defer collector.Close()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "HOST": "127.0.0.1", "PORT": "0",
		"HASURA_GRAPHQL_ADMIN_SECRET": testAdminSecret, "SESSION_SECRET": testSessionSecret, "LOG_FORMAT": "json",
		"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL, "OTEL_PROPAGATORS": "tracecontext,baggage,b3multi"}
	logs := &syncBuffer{}
	base, _, stop := startRunLogging(t, env, logs)
	const traceID = "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest(http.MethodPost, base+"v1/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	// Hasura's default propagation, B3's headers, as OTEL_PROPAGATORS asks.
	req.Header.Set("X-B3-TraceId", traceID)
	req.Header.Set("X-B3-SpanId", "b7ad6b7169203331")
	req.Header.Set("X-B3-Sampled", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	id, found := resp.Header.Get("X-Request-Id"), false
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("not JSON: %q", line)
			continue
		}
		if rec["msg"] == "request" && rec["request_id"] == id && rec["path"] == "/v1/graphql" && rec["status"] == float64(200) &&
			rec["trace_id"] == traceID {
			found = true
		}
	}
	if !found {
		t.Errorf("no access line of request %s in trace %s in:\n%s", id, traceID, logs.String())
	}
	if exported.Load() == 0 {
		t.Error("no spans reached the OTLP endpoint")
	}
}

// /readyz and /healthz are 503 "starting" while the migrations run (a 200
// from /healthz means serving, as with Hasura), 200 once serving,
// and 503 "draining" from the stop for SHUTDOWN_DRAIN_DELAY, while the
// server still answers.
func TestReadiness(t *testing.T) {
	t.Parallel()
	migrations := t.TempDir()
	slow := filepath.Join(migrations, "default", "1000_slow")
	if err := os.MkdirAll(slow, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(slow, "up.sql"), []byte("SELECT pg_sleep(1.5);"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "HOST": "127.0.0.1", "PORT": strconv.Itoa(port),
		"HASURA_GRAPHQL_ADMIN_SECRET": testAdminSecret, "SESSION_SECRET": testSessionSecret,
		"HASURA_GRAPHQL_MIGRATIONS_DIR": migrations, "SHUTDOWN_DRAIN_DELAY": "1s"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	logs := &syncBuffer{}
	go func() { done <- run(ctx, nil, func(k string) string { return env[k] }, io.Discard, logs) }()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	answer := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Wait for it to listen: it is still migrating.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if status, _ := answer("/readyz"); status != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server never listened:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body := answer("/readyz"); status != http.StatusServiceUnavailable || body != "starting" {
		t.Errorf("readyz while migrating: %d %q", status, body)
	}
	if status, body := answer("/healthz"); status != http.StatusServiceUnavailable || body != "starting" {
		t.Errorf("healthz while migrating: %d %q", status, body)
	}
	resp, err := http.Post(base+"/v1/graphql", "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), `"code":"unexpected"`) || resp.Header.Get("Retry-After") != "1" {
		t.Errorf("a query while migrating: %d %s", resp.StatusCode, b)
	}
	for {
		status, body := answer("/readyz")
		if status == http.StatusOK && body == "OK" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %d %q\n%s", status, body, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	stopped := time.Now()
	cancel()
	for {
		status, body := answer("/readyz")
		if status == http.StatusServiceUnavailable && body == "draining" {
			break
		}
		if time.Since(stopped) > 900*time.Millisecond {
			t.Fatalf("not draining after the stop: %d %q", status, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if status, _ := answer("/v1/version"); status != http.StatusOK {
		t.Errorf("while draining, requests are still served: %d", status)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if took := time.Since(stopped); took < time.Second {
		t.Errorf("stopped after %v, before the drain delay", took)
	}
}
