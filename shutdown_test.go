package main

import (
	"bufio"
	"context"
	"fmt"
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

// Idle connections, one that sent nothing and one still sending its
// headers are closed at once; a request whose headers have arrived is
// finished however its body is arriving, within BODY_READ_TIMEOUT of its
// start: one trickling at an ordinary pace is answered in full, and only
// one slower than that is cut, told why.
func TestShutdownKeepsRequestsWhoseBodyIsArriving(t *testing.T) {
	t.Parallel()
	base, logs, stop := startOnDatabase(t, map[string]string{"BODY_READ_TIMEOUT": "2s"})
	idle := dialRaw(t, base, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(idle), nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	silent := dialRaw(t, base, "")
	headers := dialRaw(t, base, "POST /v1/graphql HTTP/1.1\r\nHost: x\r\n")
	body := `{"query":"{ users { id } }"}`
	request := "POST /v1/graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		"X-Hasura-Admin-Secret: " + testAdminSecret + "\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n"
	trickling := dialRaw(t, base, request+body[:5])
	stalled := dialRaw(t, base, request+body[:5])
	time.Sleep(100 * time.Millisecond) // the server has read what each sent

	start := time.Now()
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	// The rest of the trickling body, a byte at a time, after SIGTERM.
	for i := 5; i < len(body); i++ {
		time.Sleep(20 * time.Millisecond)
		if _, err := io.WriteString(trickling, body[i:i+1]); err != nil {
			t.Fatalf("the server stopped reading a body still arriving: %v", err)
		}
	}
	for name, c := range map[string]net.Conn{"idle": idle, "silent": silent, "headers": headers} {
		_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		if n, err := c.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("the %s connection was not closed at once: read %d, %v", name, n, err)
		}
	}
	read := func(c net.Conn) (int, string) {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, got := read(trickling)
	if code != http.StatusOK {
		t.Errorf("the trickling body was answered %d %s", code, got)
	}
	assertJSON(t, []byte(got), `{"data":{"users":[]}}`)
	code, got = read(stalled)
	if code != http.StatusOK {
		t.Errorf("the stalled body was answered %d %s", code, got)
	}
	assertJSON(t, []byte(got), `{"errors":[{"message":"the request was not received within 2s","extensions":{"code":"bad-request","path":"$"}}]}`)
	if err := <-stopped; err != nil {
		t.Fatalf("run: %v", err)
	}
	if took := time.Since(start); took < 1500*time.Millisecond || took > 4*time.Second {
		t.Errorf("shutdown took %v, want about the stalled body's remaining 2 s", took)
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
