package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/pgtest"
)

// webhook is a test's event handler: it records every call, and answers
// as respond says (200 when respond is nil).
type webhook struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []hookCall
	arrived chan struct{}
	respond func(n int, body map[string]any, w http.ResponseWriter) // n counts calls from 1
}

type hookCall struct {
	raw    []byte
	body   map[string]any
	header http.Header
	at     time.Time
}

func newWebhook(t *testing.T, respond func(n int, body map[string]any, w http.ResponseWriter)) *webhook {
	h := &webhook{arrived: make(chan struct{}, 1<<16), respond: respond}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var body map[string]any
		_ = json.Unmarshal(raw, &body)
		h.mu.Lock()
		h.calls = append(h.calls, hookCall{raw: raw, body: body, header: r.Header.Clone(), at: time.Now()})
		n := len(h.calls)
		h.mu.Unlock()
		if h.respond != nil {
			h.respond(n, body, w)
		}
		h.arrived <- struct{}{}
	}))
	t.Cleanup(h.Close)
	return h
}

// wait returns the calls once there are n of them.
func (h *webhook) wait(t *testing.T, n int, timeout time.Duration) []hookCall {
	t.Helper()
	deadline := time.After(timeout)
	for {
		h.mu.Lock()
		got := slices.Clone(h.calls)
		h.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-h.arrived:
		case <-deadline:
			t.Fatalf("%d webhook calls after %s, want %d", len(got), timeout, n)
		}
	}
}

// quiet fails if a call arrives within d.
func (h *webhook) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	h.mu.Lock()
	n := len(h.calls)
	h.mu.Unlock()
	time.Sleep(d)
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.calls) != n {
		t.Fatalf("an unexpected webhook call: %s", h.calls[n].raw)
	}
}

// eventBody is a call's body with its id and created_at checked for their
// form and replaced by "ID" and "CREATED_AT", to compare as JSON.
func eventBody(t *testing.T, c hookCall) []byte {
	t.Helper()
	var body map[string]any
	if err := json.Unmarshal(c.raw, &body); err != nil {
		t.Fatalf("the webhook's body is not JSON: %s", c.raw)
	}
	if id, _ := body["id"].(string); !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(id) {
		t.Errorf("id %q is not a UUID", body["id"])
	}
	body["id"] = "ID"
	if created, ok := body["created_at"].(string); ok {
		if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?$`).MatchString(created) {
			t.Errorf("created_at %q is not Hasura's form", created)
		}
		body["created_at"] = "CREATED_AT"
	}
	out, _ := json.Marshal(body)
	return out
}

const ordersUp = `CREATE TABLE orders (id serial PRIMARY KEY, item text NOT NULL, qty integer NOT NULL DEFAULT 1,
	note text, placed_by uuid, placed_at timestamptz DEFAULT '2024-01-15 10:20:30.123+00');`

// ordersProject is the example project with an orders table whose event
// trigger, order_events, is given by trigger (YAML under event_triggers).
func ordersProject(t *testing.T, trigger string) string {
	return projectWith(t, ordersUp, map[string]string{"public_orders.yaml": `table: {name: orders, schema: public}
insert_permissions:
  - role: user
    permission: {check: {}, columns: [item, qty, note, placed_by]}
select_permissions:
  - role: user
    permission: {columns: [id, item, qty], filter: {}}
event_triggers:
` + trigger})
}

// Each operation's event carries Hasura's payload: the rows (all columns,
// or the payload's), the writer's session variables (null for plain SQL),
// and an update fires only when a column it listens to changed. A write
// rolled back has no event. Headers come from the metadata and the
// environment, the URL from a {{VAR}} template.
func TestEventTriggersDeliverEachWrite(t *testing.T) {
	t.Parallel()
	const alice = "11111111-1111-1111-1111-111111111111"
	hook := newWebhook(t, nil)
	dir := ordersProject(t, `  - name: order_events
    definition:
      enable_manual: false
      insert: {columns: "*"}
      update: {columns: [qty]}
      delete: {columns: "*", payload: [id, item]}
    retry_conf: {num_retries: 0, interval_sec: 1, timeout_sec: 5}
    webhook: "{{ORDERS_HOOK}}/orders"
    headers:
      - {name: X-Static, value: plain}
      - {name: X-Secret, value_from_env: ORDERS_SECRET}
`)
	s := newTestServer(t, withProject(t, dir, map[string]string{"ORDERS_HOOK": hook.URL, "ORDERS_SECRET": "s3cret",
		"HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "20"}))
	user := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": alice}
	assertJSON(t, s.gql(t, `mutation { insert_orders_one(object: {item: "tea", qty: 2, placed_by: "`+alice+`"}) { id } }`, nil, user),
		`{"data":{"insert_orders_one":{"id":1}}}`)
	s.exec(t, `UPDATE orders SET note = 'gift'`) // qty unchanged: no event
	s.exec(t, `UPDATE orders SET qty = 3`)
	func() {
		tx, err := s.pool.Begin(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(context.Background()) }()
		if _, err := tx.Exec(context.Background(), `INSERT INTO orders (item) VALUES ('rolled back')`); err != nil {
			t.Fatal(err)
		}
	}()
	s.exec(t, `DELETE FROM orders`)

	calls := hook.wait(t, 3, 10*time.Second)
	hook.quiet(t, 300*time.Millisecond)
	byOp := map[string]hookCall{}
	for _, c := range calls {
		ev, _ := c.body["event"].(map[string]any)
		op, _ := ev["op"].(string)
		byOp[op] = c
	}
	common := `"created_at":"CREATED_AT","id":"ID","delivery_info":{"max_retries":0,"current_retry":0},"trigger":{"name":"order_events"},"table":{"schema":"public","name":"orders"}`
	assertJSON(t, eventBody(t, byOp["INSERT"]), `{"event":{"session_variables":{"x-hasura-role":"user","x-hasura-user-id":"`+alice+`"},"op":"INSERT",
		"data":{"old":null,"new":{"id":1,"item":"tea","qty":2,"note":null,"placed_by":"`+alice+`","placed_at":"2024-01-15T10:20:30.123+00:00"}}},`+common+`}`)
	assertJSON(t, eventBody(t, byOp["UPDATE"]), `{"event":{"session_variables":null,"op":"UPDATE",
		"data":{"old":{"id":1,"item":"tea","qty":2,"note":"gift","placed_by":"`+alice+`","placed_at":"2024-01-15T10:20:30.123+00:00"},
		"new":{"id":1,"item":"tea","qty":3,"note":"gift","placed_by":"`+alice+`","placed_at":"2024-01-15T10:20:30.123+00:00"}}},`+common+`}`)
	assertJSON(t, eventBody(t, byOp["DELETE"]), `{"event":{"session_variables":null,"op":"DELETE","data":{"old":{"id":1,"item":"tea"},"new":null}},`+common+`}`)
	for op, c := range byOp {
		if c.header.Get("X-Static") != "plain" || c.header.Get("X-Secret") != "s3cret" || c.header.Get("Content-Type") != "application/json" {
			t.Errorf("%s: headers %v", op, c.header)
		}
	}
	var delivered, attempts int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'delivered' AND tries = 1 AND finished_at IS NOT NULL),
		(SELECT count(*) FROM freshgraph_event_attempts WHERE status = 200) FROM freshgraph_event_log`).Scan(&delivered, &attempts); err != nil {
		t.Fatal(err)
	}
	if delivered != 3 || attempts != 3 {
		t.Errorf("%d events delivered, %d attempts of status 200; want 3 and 3", delivered, attempts)
	}
	if strings.Contains(s.log.String(), "s3cret") {
		t.Error("the log holds a header's secret value")
	}
}

// attempts are an event's recorded calls: their HTTP status (0: none) and
// response, in order.
func attempts(t *testing.T, s *testServer) []string {
	t.Helper()
	rows, err := s.pool.Query(context.Background(), `SELECT coalesce(a.status, 0) || ' ' || a.response FROM freshgraph_event_attempts a ORDER BY a.id`)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// eventState is the one event's status and tries.
func eventState(t *testing.T, s *testServer) string {
	t.Helper()
	var state string
	if err := s.pool.QueryRow(context.Background(), `SELECT status || ' ' || tries FROM freshgraph_event_log WHERE kind = 'event'`).Scan(&state); err != nil {
		t.Fatal(err)
	}
	return state
}

// waitState waits until the one event's state is want.
func waitState(t *testing.T, s *testServer, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for eventState(t, s) != want {
		if time.Now().After(deadline) {
			t.Fatalf("event state %q, want %q; attempts %q; the server logged:\n%s", eventState(t, s), want, attempts(t, s), s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A call that fails is retried after interval_sec, or the answer's
// Retry-After, while retries are left; every call is recorded; after the
// last try the event is failed. Redirects are not followed, and a webhook
// that does not answer in timeout_sec is cut off.
func TestEventTriggerRetries(t *testing.T) {
	t.Parallel()
	trigger := func(retries, interval, timeout int) string {
		return `  - name: order_events
    definition: {insert: {columns: "*"}}
    retry_conf: {num_retries: ` + itoa(retries) + `, interval_sec: ` + itoa(interval) + `, timeout_sec: ` + itoa(timeout) + `}
    webhook_from_env: ORDERS_HOOK
`
	}
	env := func(url string) map[string]string {
		return map[string]string{"ORDERS_HOOK": url, "HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "20"}
	}
	t.Run("fails twice then succeeds", func(t *testing.T) {
		t.Parallel()
		hook := newWebhook(t, func(n int, _ map[string]any, w http.ResponseWriter) {
			if n <= 2 {
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = io.WriteString(w, `{"error":"try `+itoa(n)+`"}`)
				return
			}
			_, _ = io.WriteString(w, "ok")
		})
		s := newTestServer(t, withProject(t, ordersProject(t, trigger(2, 0, 5)), env(hook.URL)))
		s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
		calls := hook.wait(t, 3, 10*time.Second)
		waitState(t, s, "delivered 3")
		for i, c := range calls {
			info := c.body["delivery_info"].(map[string]any)
			if info["current_retry"] != float64(i) || info["max_retries"] != float64(2) {
				t.Errorf("call %d: delivery_info %v", i, info)
			}
		}
		if got := attempts(t, s); !slices.Equal(got, []string{`500 {"error":"try 1"}`, `500 {"error":"try 2"}`, `200 ok`}) {
			t.Errorf("attempts %q", got)
		}
		hook.quiet(t, 200*time.Millisecond)
	})
	t.Run("Retry-After comes before interval_sec", func(t *testing.T) {
		t.Parallel()
		hook := newWebhook(t, func(n int, _ map[string]any, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
			}
		})
		s := newTestServer(t, withProject(t, ordersProject(t, trigger(1, 3600, 5)), env(hook.URL)))
		s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
		calls := hook.wait(t, 2, 10*time.Second)
		if gap := calls[1].at.Sub(calls[0].at); gap < 900*time.Millisecond || gap > 5*time.Second {
			t.Errorf("the retry came %s after the first call, want about the Retry-After's 1s", gap)
		}
		waitState(t, s, "delivered 2")
	})
	t.Run("failed after the last try", func(t *testing.T) {
		t.Parallel()
		hook := newWebhook(t, func(_ int, _ map[string]any, w http.ResponseWriter) { w.WriteHeader(http.StatusBadRequest) })
		s := newTestServer(t, withProject(t, ordersProject(t, trigger(1, 0, 5)), env(hook.URL)))
		s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
		hook.wait(t, 2, 10*time.Second)
		waitState(t, s, "failed 2")
		hook.quiet(t, 300*time.Millisecond)
		if !strings.Contains(s.log.String(), "delivery failed after its last try") {
			t.Errorf("the log does not say the event failed:\n%s", s.log.String())
		}
	})
	t.Run("redirects are not followed", func(t *testing.T) {
		t.Parallel()
		elsewhere := newWebhook(t, nil)
		hook := newWebhook(t, func(_ int, _ map[string]any, w http.ResponseWriter) {
			w.Header().Set("Location", elsewhere.URL)
			w.WriteHeader(http.StatusTemporaryRedirect)
		})
		s := newTestServer(t, withProject(t, ordersProject(t, trigger(0, 0, 5)), env(hook.URL)))
		s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
		waitState(t, s, "failed 1")
		elsewhere.quiet(t, 100*time.Millisecond)
		if got := attempts(t, s); !slices.Equal(got, []string{"307 "}) {
			t.Errorf("attempts %q", got)
		}
	})
	t.Run("a webhook that hangs is cut off at timeout_sec", func(t *testing.T) {
		t.Parallel()
		release := make(chan struct{})
		hook := newWebhook(t, func(_ int, _ map[string]any, w http.ResponseWriter) { <-release })
		t.Cleanup(func() { close(release) }) // before the webhook's Close, which waits for its calls
		s := newTestServer(t, withProject(t, ordersProject(t, trigger(0, 0, 1)), env(hook.URL)))
		s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
		waitState(t, s, "failed 1")
		if got := attempts(t, s); !slices.Equal(got, []string{"0 no answer within timeout"}) {
			t.Errorf("attempts %q", got)
		}
	})
	t.Run("a flood is read up to a bound", func(t *testing.T) {
		t.Parallel()
		hook := newWebhook(t, func(_ int, _ map[string]any, w http.ResponseWriter) {
			w.WriteHeader(http.StatusInternalServerError)
			chunk := strings.Repeat("x", 1<<20)
			for range 1 << 12 { // 4 GiB, if it were read whole
				if _, err := io.WriteString(w, chunk); err != nil {
					return
				}
			}
		})
		s := newTestServer(t, withProject(t, ordersProject(t, trigger(0, 0, 5)), env(hook.URL)))
		s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
		waitState(t, s, "failed 1")
		if got := attempts(t, s); len(got) != 1 || len(got[0]) != len("500 ")+4096 {
			t.Errorf("attempt of %d bytes, want the status and 4 KiB of the answer", len(got[0]))
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

// serveEnv makes the test binary a freshgraph server configured by its
// environment (TestMain), for tests that kill it.
const serveEnv = "FRESHGRAPH_TEST_SERVE"

func serveForTest() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, nil, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "freshgraph:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serverProcess starts the test binary as a server with env, and returns
// once it is ready.
func serverProcess(t *testing.T, env map[string]string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "freshgraph is ready" {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(60 * time.Second):
		t.Fatalf("the server did not start:\n%s", stderr.String())
	}
	return cmd
}

// Every committed write's event is delivered at least once, and no
// rolled-back write's, while the server is killed (SIGKILL) and started
// again twice and the webhook refuses calls for a while: the events are
// written in the writers' transactions, and a killed deliverer's taken
// events come due again after their lease.
func TestEventsSurviveCrashes(t *testing.T) {
	t.Parallel()
	const writes, writers = 10000, 4
	var down atomic.Bool
	var acceptedMu sync.Mutex
	accepted := map[string]int{} // item → calls answered 200
	hook := newWebhook(t, func(_ int, body map[string]any, w http.ResponseWriter) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		item := body["event"].(map[string]any)["data"].(map[string]any)["new"].(map[string]any)["item"].(string)
		acceptedMu.Lock()
		accepted[item]++
		acceptedMu.Unlock()
	})
	dir := ordersProject(t, `  - name: order_events
    definition: {insert: {columns: "*"}}
    retry_conf: {num_retries: 1000, interval_sec: 1, timeout_sec: 2}
    webhook_from_env: ORDERS_HOOK
`)
	dbURL := pgtest.NewDatabase(t)
	env := map[string]string{"DATABASE_URL": dbURL, "PORT": "0", "HASURA_GRAPHQL_ADMIN_SECRET": testAdminSecret,
		"SESSION_SECRET": testSessionSecret, "HASURA_GRAPHQL_METADATA_DIR": filepath.Join(dir, "metadata"),
		"HASURA_GRAPHQL_MIGRATIONS_DIR": filepath.Join(dir, "migrations"), "ORDERS_HOOK": hook.URL,
		"HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "50", "LIVE_QUERIES_CAPTURE": "triggers"}
	server := serverProcess(t, env)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// Writers: every tenth write is rolled back.
	var written atomic.Int64
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := w; i < writes; i += writers {
				err := pgx.BeginFunc(context.Background(), pool, func(tx pgx.Tx) error {
					if _, err := tx.Exec(context.Background(), `INSERT INTO orders (item) VALUES ($1)`, fmt.Sprint(i)); err != nil {
						return err
					}
					if i%10 == 0 {
						return errRollback
					}
					return nil
				})
				if err != nil && !errors.Is(err, errRollback) {
					t.Error(err)
					return
				}
				written.Add(1)
			}
		})
	}
	waitWritten := func(n int64) {
		for written.Load() < n {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitWritten(writes / 5)
	_ = server.Process.Kill()
	_ = server.Wait()
	waitWritten(writes * 2 / 5)
	server = serverProcess(t, env)
	down.Store(true)
	waitWritten(writes * 3 / 5)
	_ = server.Process.Kill()
	_ = server.Wait()
	serverProcess(t, env) // the last one, stopped by the test's cleanup
	time.Sleep(500 * time.Millisecond)
	down.Store(false)
	wg.Wait()

	want := map[string]bool{}
	for i := range writes {
		if i%10 != 0 {
			want[fmt.Sprint(i)] = true
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		var pending int
		if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM freshgraph_event_log WHERE kind = 'event' AND status <> 'delivered'`).Scan(&pending); err != nil {
			t.Fatal(err)
		}
		if pending == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events not delivered after 90s", pending)
		}
		time.Sleep(100 * time.Millisecond)
	}
	acceptedMu.Lock()
	defer acceptedMu.Unlock()
	for item := range accepted {
		if !want[item] {
			t.Fatalf("an event of a rolled-back write was delivered: %s", item)
		}
	}
	refused := 0
	duplicates := 0
	var lost []string
	for item := range want {
		if accepted[item] == 0 {
			lost = append(lost, item)
		}
		duplicates += max(0, accepted[item]-1)
	}
	if len(lost) > 0 {
		t.Errorf("the events of %d committed writes were never delivered, among them %v", len(lost), lost[:min(len(lost), 10)])
	}
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 503) FROM freshgraph_event_attempts`).Scan(&refused); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d committed writes, %d rolled back; %d webhook calls, %d refused while it was down; %d events delivered more than once (calls cut by a kill)",
		len(want), writes-len(want), len(hook.wait(t, 0, 0)), refused, duplicates)
	if refused == 0 {
		t.Error("the webhook was never down while events were delivered: the test tried nothing")
	}
}

var errRollback = errors.New("rolled back on purpose")

// cronProject is the example project with cron_triggers.yaml as given.
func cronProject(t *testing.T, crons string) string {
	dir := projectWith(t, "SELECT 1;", nil)
	if err := os.WriteFile(filepath.Join(dir, "metadata", "cron_triggers.yaml"), []byte(crons), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A cron trigger's times are written ahead, once across instances; a due
// time is delivered with Hasura's payload, and one that passed more than
// tolerance_seconds ago is failed without a call. Each minute's time is
// delivered once across two instances.
func TestCronTriggers(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, nil)
	dir := cronProject(t, `- name: every_minute
  webhook: "{{CRON_HOOK}}/tick"
  schedule: "* * * * *"
  include_in_metadata: true
  payload: {hello: world}
  comment: tick
  headers: [{name: X-Cron, value: yes}]
  retry_conf: {num_retries: 0, retry_interval_seconds: 1, timeout_seconds: 5, tolerance_seconds: 600}
`)
	env := map[string]string{"CRON_HOOK": hook.URL, "HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "20"}
	a := newTestServer(t, withProject(t, dir, env))
	newTestServerOn(t, a.dbURL, withProject(t, dir, env))
	var times, future, aligned int
	if err := a.pool.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT scheduled_time) FILTER (WHERE scheduled_time > now()),
		count(*) FILTER (WHERE date_trunc('minute', scheduled_time) = scheduled_time)
		FROM freshgraph_event_log WHERE kind = 'cron' AND trigger_name = 'every_minute'`).Scan(&times, &future, &aligned); err != nil {
		t.Fatal(err)
	}
	if times != 100 || future != 100 || aligned != 100 {
		t.Errorf("%d times written, %d distinct in the future, %d on the minute; want 100 of each", times, future, aligned)
	}

	// Times that passed while no instance ran: one within the tolerance,
	// one before it.
	a.exec(t, `INSERT INTO freshgraph_event_log (kind, trigger_name, scheduled_time, next_attempt_at) VALUES
		('cron', 'every_minute', '2024-01-15 10:20:00+00', now()), ('cron', 'every_minute', date_trunc('minute', now()) - interval '1 minute', now())`)
	calls := hook.wait(t, 1, 10*time.Second)
	var late string
	if err := a.pool.QueryRow(context.Background(), `SELECT to_char(scheduled_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') FROM freshgraph_event_log
		WHERE kind = 'cron' AND scheduled_time < now() AND scheduled_time > '2024-01-16'`).Scan(&late); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, eventBody(t, calls[0]), `{"scheduled_time":"`+late+`","payload":{"hello":"world"},"name":"every_minute","id":"ID","comment":"tick"}`)
	if calls[0].header.Get("X-Cron") != "yes" {
		t.Errorf("headers %v", calls[0].header)
	}
	// Taken with the other, it may be marked a moment after that call.
	var state string
	for deadline := time.Now().Add(10 * time.Second); ; {
		if err := a.pool.QueryRow(context.Background(), `SELECT status || ' ' || tries || ' ' || (SELECT count(*) FROM freshgraph_event_attempts a WHERE a.event_id = l.id)
			FROM freshgraph_event_log l WHERE scheduled_time = '2024-01-15 10:20:00+00'`).Scan(&state); err != nil {
			t.Fatal(err)
		}
		if state != "pending 0 0" || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if state != "failed 0 0" {
		t.Errorf("the time past tolerance is %q, want failed with no call", state)
	}

	// The next minute comes: one call, whichever instance makes it.
	var next time.Time
	if err := a.pool.QueryRow(context.Background(), `SELECT min(scheduled_time) FROM freshgraph_event_log WHERE kind = 'cron' AND scheduled_time > now()`).Scan(&next); err != nil {
		t.Fatal(err)
	}
	calls = hook.wait(t, 2, time.Until(next)+10*time.Second)
	hook.quiet(t, time.Second)
	if got := calls[1].body["scheduled_time"]; got != next.UTC().Format(time.RFC3339) {
		t.Errorf("scheduled_time %v, want %s", got, next.UTC().Format(time.RFC3339))
	}
}

// Two instances share the log: each event is delivered once, by
// whichever takes it first.
func TestEventsAcrossInstancesAreDeliveredOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string]int{}
	hook := newWebhook(t, func(_ int, body map[string]any, _ http.ResponseWriter) {
		mu.Lock()
		seen[body["id"].(string)]++
		mu.Unlock()
	})
	dir := ordersProject(t, `  - name: order_events
    definition: {insert: {columns: "*"}}
    webhook_from_env: ORDERS_HOOK
`)
	env := map[string]string{"ORDERS_HOOK": hook.URL, "HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "10", "HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE": "7"}
	a := newTestServer(t, withProject(t, dir, env))
	newTestServerOn(t, a.dbURL, withProject(t, dir, env))
	for range 10 {
		a.exec(t, `INSERT INTO orders (item) SELECT 'x' || n FROM generate_series(1, 100) n`)
	}
	hook.wait(t, 1000, 30*time.Second)
	hook.quiet(t, 300*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	for id, n := range seen {
		if n != 1 {
			t.Errorf("event %s delivered %d times", id, n)
		}
	}
	if len(seen) != 1000 {
		t.Errorf("%d events delivered, want 1000", len(seen))
	}
}

// The admin sees each trigger's figures, redelivers a failed event and
// invokes a trigger with enable_manual, through Hasura's metadata API;
// nobody else may.
func TestEventsAdmin(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	fail.Store(true)
	hook := newWebhook(t, func(_ int, _ map[string]any, w http.ResponseWriter) {
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	dir := ordersProject(t, `  - name: order_events
    definition: {enable_manual: true, insert: {columns: "*"}}
    webhook_from_env: ORDERS_HOOK
`)
	s := newTestServer(t, withProject(t, dir, map[string]string{"ORDERS_HOOK": hook.URL, "HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "20",
		"HASURA_GRAPHQL_METRICS_SECRET": metricsSecret}))
	s.exec(t, `INSERT INTO orders (item) VALUES ('tea')`)
	waitState(t, s, "failed 1")
	m := scrape(t, s, metricsSecret)
	if calls, done := value(m, "hasura_event_invocations_total", "status", "failed", "trigger_name", "order_events"),
		value(m, "hasura_event_processed_total", "status", "failed", "trigger_name", "order_events"); calls != 1 || done != 1 {
		t.Errorf("the failed event's metrics: %v calls, %v processed", calls, done)
	}
	// Its times: taken once, each try's answer, and from the write to its
	// last try (a histogram's value here is its count).
	for family, want := range map[string]float64{"hasura_event_queue_time_seconds": 1,
		"hasura_event_webhook_processing_time_seconds": 1, "hasura_event_processing_time_seconds": 1} {
		if got := value(m, family, "trigger_name", "order_events"); got != want {
			t.Errorf("%s: %v observed, want %v", family, got, want)
		}
	}
	call := func(method, path, body string, headers map[string]string) (int, string) {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		got, resp := rawDo(t, s.Client(), req)
		return resp.StatusCode, string(got)
	}
	status, stats := call("GET", "/v1/events", "", adminHeaders)
	if status != 200 {
		t.Fatalf("stats: %d %s", status, stats)
	}
	assertJSON(t, []byte(stats), `[{"kind":"event","name":"order_events","pending":0,"delivered":0,"failed":1,"oldest_pending_seconds":0},
		{"kind":"cron","name":"daily_digest","pending":0,"delivered":0,"failed":0,"oldest_pending_seconds":0}]`)
	for _, headers := range []map[string]string{nil, {"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": "1"}} {
		status, body := call("GET", "/v1/events", "", headers)
		if status != 403 || !strings.Contains(body, `"code":"access-denied"`) {
			t.Errorf("stats without the admin: %d %s", status, body)
		}
		status, body = call("POST", "/v1/metadata", `{"type":"pg_redeliver_event","args":{"event_id":"x"}}`, headers)
		assertJSON(t, []byte(body), `{"path":"$","error":"restricted access : admin only","code":"access-denied"}`)
		if status != 400 {
			t.Errorf("redeliver without the admin: %d", status)
		}
	}

	var id string
	if err := s.pool.QueryRow(context.Background(), `SELECT id FROM freshgraph_event_log WHERE kind = 'event'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	fail.Store(false)
	status, body := call("POST", "/v1/metadata", `{"type":"pg_redeliver_event","args":{"event_id":"`+id+`"}}`, adminHeaders)
	if status != 200 {
		t.Fatalf("redeliver: %d %s", status, body)
	}
	assertJSON(t, []byte(body), `{"message":"success"}`)
	waitState(t, s, "delivered 1")
	status, body = call("POST", "/v1/metadata", `{"type":"pg_redeliver_event","args":{"event_id":"00000000-0000-0000-0000-000000000000"}}`, adminHeaders)
	if status != 400 {
		t.Errorf("redeliver of no event: %d", status)
	}
	assertJSON(t, []byte(body), `{"path":"$.args","error":"event not found","code":"not-exists"}`)

	status, body = call("POST", "/v1/metadata", `{"type":"pg_invoke_event_trigger","args":{"name":"order_events","source":"default","payload":{"id":7}}}`, adminHeaders)
	if status != 200 || !strings.Contains(body, `"event_id":`) {
		t.Fatalf("invoke: %d %s", status, body)
	}
	calls := hook.wait(t, 3, 10*time.Second)
	assertJSON(t, eventBody(t, calls[2]), `{"event":{"session_variables":{"x-hasura-role":"admin"},"op":"MANUAL","data":{"old":null,"new":{"id":7}}},
		"created_at":"CREATED_AT","id":"ID","delivery_info":{"max_retries":0,"current_retry":0},"trigger":{"name":"order_events"},"table":{"schema":"public","name":"orders"}}`)
	status, body = call("POST", "/v1/metadata", `{"type":"pg_invoke_event_trigger","args":{"name":"nope","payload":{}}}`, adminHeaders)
	if status != 400 || !strings.Contains(body, `"code":"not-exists"`) {
		t.Errorf("invoke of no trigger: %d %s", status, body)
	}
	status, body = call("POST", "/v1/metadata", `{"type":"replace_metadata","args":{}}`, adminHeaders)
	if status != 400 || !strings.Contains(body, `"code":"not-supported"`) {
		t.Errorf("another metadata call: %d %s", status, body)
	}
}

// At start an instance deletes events finished longer than
// EVENTS_RETENTION ago (their attempts with them), and takes out the
// future times of a cron trigger whose schedule changed.
func TestEventsRetentionAndScheduleChange(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, nil)
	cron := func(schedule string) string {
		return "- {name: nightly, webhook: " + hook.URL + ", schedule: '" + schedule + "'}\n"
	}
	a := newTestServer(t, withProject(t, cronProject(t, cron("0 3 * * *")), nil))
	a.exec(t, `INSERT INTO freshgraph_event_log (kind, trigger_name, schema_name, table_name, op, data, status, finished_at) VALUES
		('event', 'comment_added', 'public', 'comments', 'INSERT', '{}', 'delivered', now() - interval '8 days'),
		('event', 'comment_added', 'public', 'comments', 'INSERT', '{}', 'failed', now() - interval '8 days'),
		('event', 'comment_added', 'public', 'comments', 'INSERT', '{}', 'delivered', now() - interval '6 days')`)
	a.exec(t, `INSERT INTO freshgraph_event_attempts (event_id, status, response, duration_ms) SELECT id, 200, '', 1 FROM freshgraph_event_log WHERE kind = 'event'`)

	b := newTestServerOn(t, a.dbURL, withProject(t, cronProject(t, cron("30 4 * * *")), nil))
	var kept, attemptsKept, oldTimes, newTimes int
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := b.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM freshgraph_event_log WHERE kind = 'event'),
			(SELECT count(*) FROM freshgraph_event_attempts),
			(SELECT count(*) FROM freshgraph_event_log WHERE kind = 'cron' AND extract(hour FROM scheduled_time AT TIME ZONE 'UTC') = 3),
			(SELECT count(*) FROM freshgraph_event_log WHERE kind = 'cron' AND extract(hour FROM scheduled_time AT TIME ZONE 'UTC') = 4)`).
			Scan(&kept, &attemptsKept, &oldTimes, &newTimes); err != nil {
			t.Fatal(err)
		}
		if kept == 1 && oldTimes == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if kept != 1 || attemptsKept != 1 || oldTimes != 0 || newTimes != 100 {
		t.Errorf("%d events and %d attempts kept, %d times of the old schedule and %d of the new; want 1, 1, 0 and 100", kept, attemptsKept, oldTimes, newTimes)
	}
}

// A cookie caller's event carries its session's user, read inside the
// mutation's transaction; identifiers that need quoting (a schema, table,
// columns and a trigger name with a dash) work as plain ones.
func TestEventsOfASessionAndOfQuotedNames(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, nil)
	dir := projectWith(t, `CREATE SCHEMA shop;
		CREATE TABLE shop."Weird Orders" (id serial PRIMARY KEY, "Item Name" text NOT NULL, "Qty" integer NOT NULL DEFAULT 1, placed_by uuid);`,
		map[string]string{"shop_weird_orders.yaml": `table: {name: Weird Orders, schema: shop}
configuration:
  custom_name: weird_orders
  column_config:
    Item Name: {custom_name: item_name}
    Qty: {custom_name: qty}
insert_permissions:
  - role: user
    permission:
      check: {}
      set: {placed_by: X-Hasura-User-Id}
      columns: [Item Name]
select_permissions:
  - role: user
    permission: {columns: [id], filter: {}}
event_triggers:
  - name: weird-events
    definition:
      insert: {columns: "*", payload: [Item Name, placed_by]}
      update: {columns: [Item Name], payload: [Item Name]}
    webhook_from_env: HOOK
`})
	s := newTestServer(t, withProject(t, dir, map[string]string{"HOOK": hook.URL, "HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "20"}))
	b := newBrowser(t)
	var signedUp struct {
		Data struct {
			SignUp struct{ User struct{ ID string } }
		}
	}
	got := b.gql(s, `mutation { signUp(email: "events@example.com", password: "correct horse battery", name: "Eve") { user { id } } }`, nil)
	if err := json.Unmarshal(got, &signedUp); err != nil || signedUp.Data.SignUp.User.ID == "" {
		t.Fatalf("signUp: %s", got)
	}
	userID := signedUp.Data.SignUp.User.ID
	assertJSON(t, b.gql(s, `mutation { insert_weird_orders_one(object: {item_name: "tea"}) { id } }`, nil), `{"data":{"insert_weird_orders_one":{"id":1}}}`)
	s.exec(t, `UPDATE shop."Weird Orders" SET "Qty" = 2`) // not a listened column
	s.exec(t, `UPDATE shop."Weird Orders" SET "Item Name" = 'coffee'`)
	calls := hook.wait(t, 2, 10*time.Second)
	hook.quiet(t, 300*time.Millisecond)
	slices.SortFunc(calls, func(a, b hookCall) int {
		return strings.Compare(a.body["event"].(map[string]any)["op"].(string), b.body["event"].(map[string]any)["op"].(string))
	})
	common := `"created_at":"CREATED_AT","id":"ID","delivery_info":{"max_retries":0,"current_retry":0},"trigger":{"name":"weird-events"},"table":{"schema":"shop","name":"Weird Orders"}`
	assertJSON(t, eventBody(t, calls[0]), `{"event":{"session_variables":{"x-hasura-role":"user","x-hasura-user-id":"`+userID+`"},"op":"INSERT",
		"data":{"old":null,"new":{"Item Name":"tea","placed_by":"`+userID+`"}}},`+common+`}`)
	assertJSON(t, eventBody(t, calls[1]), `{"event":{"session_variables":null,"op":"UPDATE","data":{"old":{"Item Name":"tea"},"new":{"Item Name":"coffee"}}},`+common+`}`)
}

// Hasura's own event trigger cases (server/tests-py/test_events.py:
// TestEvtSelCols, TestEvtSelPayload, TestEvtInsertOnly, on their tables
// and triggers in queries/event_triggers/), each write's event or its
// absence as those tests expect.
func TestHasuraEventTriggerFixtures(t *testing.T) {
	t.Parallel()
	hook := newWebhook(t, nil)
	dir := projectWith(t, `CREATE SCHEMA hge_tests;
		CREATE TABLE hge_tests.cols (c1 int, c2 text, c3 text);
		CREATE TABLE hge_tests.payload (c1 int, c2 text);
		CREATE TABLE hge_tests.insert_only (c1 int, c2 text);`,
		map[string]string{"hge_tests.yaml": `table: {schema: hge_tests, name: cols}
event_triggers:
  - name: t1_cols
    definition:
      insert: {columns: [c2]}
      update: {columns: [c1]}
      delete: {columns: [c1, c2]}
    webhook_from_env: HOOK
    retry_conf: {num_retries: 10, interval_sec: 100}
`, "hge_tests_payload.yaml": `table: {schema: hge_tests, name: payload}
event_triggers:
  - name: t1_payload
    definition:
      insert: {columns: "*", payload: "*"}
      update: {columns: "*", payload: [c1]}
      delete: {columns: "*", payload: [c2]}
    webhook_from_env: HOOK
    retry_conf: {num_retries: 10, interval_sec: 100}
`, "hge_tests_insert_only.yaml": `table: {schema: hge_tests, name: insert_only}
event_triggers:
  - name: t1_insert
    definition:
      insert: {columns: "*"}
    webhook_from_env: HOOK
    retry_conf: {num_retries: 10, interval_sec: 100}
`})
	s := newTestServer(t, withProject(t, dir, map[string]string{"HOOK": hook.URL, "HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL": "10"}))
	seen := 0
	expect := func(sql, trigger, op, data string) {
		t.Helper()
		s.exec(t, sql)
		if trigger == "" {
			hook.quiet(t, 200*time.Millisecond)
			return
		}
		seen++
		c := hook.wait(t, seen, 10*time.Second)[seen-1]
		ev := c.body["event"].(map[string]any)
		got, _ := json.Marshal(ev["data"])
		if c.body["trigger"].(map[string]any)["name"] != trigger || ev["op"] != op {
			t.Errorf("%s: event %s %s, want %s %s", sql, c.body["trigger"], ev["op"], trigger, op)
		}
		assertJSON(t, got, data)
	}
	// TestEvtSelCols
	expect(`INSERT INTO hge_tests.cols (c1, c2) VALUES (1, 'hello')`, "t1_cols", "INSERT", `{"old":null,"new":{"c1":1,"c2":"hello","c3":null}}`)
	expect(`UPDATE hge_tests.cols SET c2 = 'world' WHERE c1 = 1`, "", "", "")
	expect(`UPDATE hge_tests.cols SET c1 = 2 WHERE c1 = 1`, "t1_cols", "UPDATE",
		`{"old":{"c1":1,"c2":"world","c3":null},"new":{"c1":2,"c2":"world","c3":null}}`)
	expect(`DELETE FROM hge_tests.cols WHERE c1 = 2`, "t1_cols", "DELETE", `{"old":{"c1":2,"c2":"world","c3":null},"new":null}`)
	// TestEvtSelPayload
	expect(`INSERT INTO hge_tests.payload VALUES (1, 'hello')`, "t1_payload", "INSERT", `{"old":null,"new":{"c1":1,"c2":"hello"}}`)
	expect(`UPDATE hge_tests.payload SET c2 = 'world' WHERE c1 = 1`, "t1_payload", "UPDATE", `{"old":{"c1":1},"new":{"c1":1}}`)
	expect(`UPDATE hge_tests.payload SET c1 = 2 WHERE c1 = 1`, "t1_payload", "UPDATE", `{"old":{"c1":1},"new":{"c1":2}}`)
	expect(`DELETE FROM hge_tests.payload WHERE c1 = 2`, "t1_payload", "DELETE", `{"old":{"c2":"world"},"new":null}`)
	// TestEvtInsertOnly
	expect(`INSERT INTO hge_tests.insert_only VALUES (1, 'hello')`, "t1_insert", "INSERT", `{"old":null,"new":{"c1":1,"c2":"hello"}}`)
	expect(`UPDATE hge_tests.insert_only SET c2 = 'world' WHERE c1 = 1`, "", "", "")
	expect(`DELETE FROM hge_tests.insert_only WHERE c1 = 1`, "", "", "")
}

// A role that may write the tables but not put triggers on them cannot
// serve their event triggers: the start stops, saying which and why,
// rather than serving writes whose events would be lost.
func TestEventTriggersNeedTheTriggerPrivilege(t *testing.T) {
	t.Parallel()
	dir := ordersProject(t, `  - name: order_events
    definition: {insert: {columns: "*"}}
    webhook: http://127.0.0.1:9/
`)
	owner := newTestServer(t, withProject(t, dir, nil)) // migrates, as the tables' owner
	role := fmt.Sprintf("freshgraph_notrigger_%d", time.Now().UnixNano())
	for _, sql := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role,
	} {
		owner.exec(t, sql)
	}
	t.Cleanup(func() {
		_, _ = owner.pool.Exec(context.Background(), "DROP OWNED BY "+role)
		_, _ = owner.pool.Exec(context.Background(), "DROP ROLE "+role)
	})
	env := map[string]string{"DATABASE_URL": strings.Replace(owner.dbURL, "postgres://postgres@", "postgres://"+role+"@", 1),
		"PORT": "0", "SESSION_SECRET": testSessionSecret, "LIVE_QUERIES_CAPTURE": "triggers",
		"HASURA_GRAPHQL_METADATA_DIR": filepath.Join(dir, "metadata"), "HASURA_GRAPHQL_MIGRATIONS_DIR": filepath.Join(dir, "migrations")}
	err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	// The first trigger it cannot create stops it: the example's own, whose
	// function this role may not execute either (only the migrations' role may).
	if err == nil || !strings.Contains(err.Error(), `CREATE OR REPLACE TRIGGER "freshgraph_et_`) || !strings.Contains(err.Error(), "(SQLSTATE 42501)") {
		t.Errorf("the start did not stop, naming the trigger and why: %v", err)
	}
}
