package main

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/pgtest"
)

// startOnDatabase runs the server as in production, on a database of its
// own, with env added; it returns the base URL, the pool of the database,
// run's log and the stop function of startRun.
func startOnDatabase(t *testing.T, env map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	full := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "HOST": "127.0.0.1", "PORT": "0",
		"HASURA_GRAPHQL_ADMIN_SECRET": testAdminSecret, "SESSION_SECRET": testSessionSecret}
	for k, v := range env {
		full[k] = v
	}
	pool, err := database.Open(context.Background(), full["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	sleepyInserts(t, pool)
	logs := &syncBuffer{}
	base, _, stop := startRunLogging(t, full, logs)
	return base, logs, stop
}

// dialRaw opens a connection to the server at base and writes data (say, a
// request line and headers that end in an empty line).
func dialRaw(t *testing.T, base, data string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	if _, err := io.WriteString(conn, data); err != nil {
		t.Fatal(err)
	}
	return conn
}

// Idle connections, one that sent nothing, one still sending its headers
// and one trickling its body: none holds up the shutdown.
func TestShutdownIsNotHeldByIdleOrSlowConnections(t *testing.T) {
	t.Parallel()
	base, logs, stop := startOnDatabase(t, nil)
	idle := dialRaw(t, base, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	dialRaw(t, base, "")
	dialRaw(t, base, "POST /v1/graphql HTTP/1.1\r\nHost: x\r\n")
	body := dialRaw(t, base, "POST /v1/graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	time.Sleep(100 * time.Millisecond) // the server has read what each sent

	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("shutdown took %v, want well under a second", took)
	}
	// The trickling body was answered, not dropped.
	_ = body.SetReadDeadline(time.Now().Add(time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(body), nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("the slow body got no answer: %v", err)
	}
	if strings.Contains(logs.String(), "request cut") {
		t.Errorf("a request was cut:\n%s", logs)
	}
}

// A request in flight when SIGTERM comes is answered; then run returns nil
// (the process exits 0).
func TestShutdownWaitsForRequestsInFlight(t *testing.T) {
	t.Parallel()
	base, _, stop := startOnDatabase(t, nil)
	answered := make(chan []byte, 1)
	go func() { answered <- postTo(t, http.DefaultClient, base, testAdminSecret, sleepyInsert(1)) }()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took < 400*time.Millisecond || took > 3*time.Second {
		t.Errorf("shutdown took %v, want about the request's remaining 0.7 s", took)
	}
	assertJSON(t, <-answered, `{"data":{"insert_users_one":{"name":"sleep 1"}}}`)
}

// A request still running at the end of the grace period is cut, and named
// in the log.
func TestShutdownCutsWhatOutlastsTheGrace(t *testing.T) {
	t.Parallel()
	base, logs, stop := startOnDatabase(t, map[string]string{"HASURA_GRAPHQL_GRACEFUL_SHUTDOWN_TIMEOUT": "300ms"})
	go func() {
		req, _ := http.NewRequest(http.MethodPost, base+"v1/graphql", strings.NewReader(sleepyInsert(10)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hasura-Admin-Secret", testAdminSecret)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %v, want about the 300ms grace", took)
	}
	for _, want := range []string{`msg="shutdown grace ended: request cut" method=POST path=/v1/graphql client=127.0.0.1:`,
		`msg="stopped before every request finished" cut=1 grace=300ms`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, logs)
		}
	}
}
