package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/limits"
)

// limitError is the JSON of a refusal with code at the root path.
func limitError(message, code string) string {
	b, _ := json.Marshal(map[string]any{"errors": []any{map[string]any{
		"message": message, "extensions": map[string]any{"code": code, "path": "$"}}}})
	return string(b)
}

// withLimits configures a test server's limits as the environment would.
func withLimits(t *testing.T, env map[string]string) func(*config) {
	return func(c *config) {
		t.Helper()
		if err := loadLimits(c, func(names ...string) string { return env[names[0]] }); err != nil {
			t.Fatal(err)
		}
	}
}

// nested is a query `depth` fields deep: users { sessions { user { … id } } }.
func nested(depth int) string {
	q, closing := "users { ", "} "
	for level := 2; level < depth; level++ {
		if level%2 == 0 {
			q += "sessions { "
		} else {
			q += "user { "
		}
		closing += "} "
	}
	return "{ " + q + "id " + closing + "}"
}

func TestParserLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{"TOKEN_LIMIT": "40"}))
	// { users { id id … } } is 5 tokens and one per id.
	ids := func(n int) string { return "{ users { " + strings.Repeat("id ", n) + "} }" }
	assertJSON(t, s.admin(t, ids(35), nil), `{"data":{"users":[]}}`)
	assertJSON(t, s.admin(t, ids(36), nil),
		limitError("token_limit of 40 exceeded: the query has more tokens", "validation-failed"))

	// A fragment's fields count in the selection set it is spread in.
	sel := newTestServer(t, withLimits(t, map[string]string{"SELECTION_LIMIT": "6"}))
	const f = " fragment F on users { email name }"
	assertJSON(t, sel.admin(t, "{ users { id name email image ...F } }"+f, nil), `{"data":{"users":[]}}`)
	assertJSON(t, sel.admin(t, "{ users { id name email image emailVerified ...F } }"+f, nil),
		limitError("selection_limit of 6 exceeded: a selection set has 7 fields", "validation-failed"))

	dir := newTestServer(t, withLimits(t, map[string]string{"DIRECTIVE_LIMIT": "2"}))
	assertJSON(t, dir.admin(t, "{ users { id @include(if: true) @skip(if: false) } }", nil), `{"data":{"users":[]}}`)
	assertJSON(t, dir.admin(t, "{ users @include(if: true) @skip(if: false) @include(if: true) { id } }", nil),
		limitError("directive_limit of 2 exceeded: one place has 3 directives", "validation-failed"))
	// At the default of 10, eleven unknown directives never reach validation.
	assertJSON(t, s.admin(t, "{ users { id "+strings.Repeat("@x ", 11)+"} }", nil),
		limitError("directive_limit of 10 exceeded: one place has 11 directives", "validation-failed"))
}

// The attacks of the issue, at the default limits, are refused at once:
// the parser stops at its token limit, long before validation.
func TestHostileDocumentsAreRefusedFast(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	// The round trip, best of three (other tests share the machine); the
	// race detector slows Go code several times over (up to ten: the 32 x 30
	// case takes 260 ms alone under -race, 535 ms once in CI with the whole
	// suite beside it, the same before and after issue 10's per-role schemas;
	// gqlparser's overlapping-fields rule is most of it).
	budget := 100 * time.Millisecond
	if raceEnabled {
		budget *= 10
	}
	answer := func(name, query string, headers map[string]string) []byte {
		t.Helper()
		var got []byte
		best := time.Hour
		for i := range 3 {
			start := time.Now()
			// A comment makes each a new document: none comes from the cache.
			got = s.gql(t, fmt.Sprintf("%s #%d", query, i), nil, headers)
			best = min(best, time.Since(start))
		}
		if best > budget {
			t.Errorf("%s: refused after %v, want within %v", name, best, budget)
		}
		t.Logf("%s (%d bytes): answered in %v", name, len(query), best)
		return got
	}
	tokens := limitError("token_limit of 15000 exceeded: the query has more tokens", "validation-failed")
	for name, query := range map[string]string{
		"10,000 @include":     "{ users { id " + strings.Repeat("@include(if: true) ", 10000) + "} }",
		"10,000 unknown @x":   "{ users { id " + strings.Repeat("@x ", 10000) + "} }",
		"50,000 duplicate id": "{ users { " + strings.Repeat("id ", 50000) + "} }",
	} {
		assertJSON(t, answer(name, query, nil), tokens)
	}
	// Under the token limit, what validation would take quadratic time over
	// is refused by the node limit: 100 users of 100 ids each.
	square := "{ " + strings.Repeat("users { "+strings.Repeat("id ", 100)+"} ", 100) + "}"
	assertJSON(t, answer("100 x 100 ids", square, adminHeaders),
		limitError("node_limit of 1000 for role 'admin' exceeded: the query has 10100 nodes", "validation-failed"))
	// The worst documents within the limits validate quickly and are run.
	ids := "users { " + strings.Repeat("id ", 499) + "} "
	assertJSON(t, answer("2 x 499 duplicate ids", "{ a: "+ids+"b: "+ids+"}", adminHeaders), `{"data":{"a":[],"b":[]}}`)
	square = "{ " + strings.Repeat("users { "+strings.Repeat("id ", 30)+"} ", 32) + "}"
	assertJSON(t, answer("32 x 30 ids", square, adminHeaders), `{"data":{"users":[]}}`)
}

func TestDepthAndNodeLimitsPerRole(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{
		"DEPTH_LIMIT": "6,user=4",
	}))
	asUser := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user",
		"X-Hasura-User-Id": fillMurrayID}
	assertJSON(t, s.admin(t, nested(6), nil), `{"data":{"users":[]}}`)
	assertJSON(t, s.admin(t, nested(7), nil),
		limitError("depth_limit of 6 for role 'admin' exceeded: the query is 7 levels deep", "validation-failed"))
	assertJSON(t, s.gql(t, `{ users { id } }`, nil, asUser), `{"data":{"users":[]}}`)
	assertJSON(t, s.gql(t, nested(5), nil, asUser),
		limitError("depth_limit of 4 for role 'user' exceeded: the query is 5 levels deep", "validation-failed"))

	// Nodes are counted with fragments expanded wherever they are spread.
	s = newTestServer(t, withLimits(t, map[string]string{"NODE_LIMIT": "5,user=4"}))
	const f = " fragment F on users { id name }"
	assertJSON(t, s.admin(t, "{ a: users { ...F } b: users { id } }"+f, nil), `{"data":{"a":[],"b":[]}}`)
	assertJSON(t, s.admin(t, "{ a: users { ...F } b: users { ...F } }"+f, nil),
		limitError("node_limit of 5 for role 'admin' exceeded: the query has 6 nodes", "validation-failed"))
	assertJSON(t, s.gql(t, "{ users { ...F email } }"+f, nil, asUser), `{"data":{"users":[]}}`)
	assertJSON(t, s.gql(t, "{ users { ...F email image } }"+f, nil, asUser),
		limitError("node_limit of 4 for role 'user' exceeded: the query has 5 nodes", "validation-failed"))

	// Configured off for admin, the admin is not limited.
	off := newTestServer(t, withLimits(t, map[string]string{"DEPTH_LIMIT": "4,admin=off"}))
	assertJSON(t, off.admin(t, nested(9), nil), `{"data":{"users":[]}}`)
}

// The fan-out through relationships that built a 64 MiB answer is refused
// by the depth limit; without it, by the response size limit, before the
// answer leaves PostgreSQL.
func TestFanOutIsBounded(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{"DEPTH_LIMIT": "admin=off", "RESPONSE_SIZE_LIMIT": "1MiB"}))
	seedHasura(t, s)
	assertJSON(t, newTestServer(t).admin(t, nested(40), nil),
		limitError("depth_limit of 20 for role 'admin' exceeded: the query is 40 levels deep", "validation-failed"))
	var resp struct {
		Errors []struct {
			Message    string
			Extensions map[string]string
		}
	}
	if err := json.Unmarshal(s.admin(t, nested(40), nil), &resp); err != nil || len(resp.Errors) != 1 {
		t.Fatalf("want one error, got %v", resp)
	}
	if e := resp.Errors[0]; e.Extensions["code"] != "response-size-limit-exceeded" ||
		!strings.HasPrefix(e.Message, "response_size_limit of 1048576 bytes exceeded: the response has ") {
		t.Errorf("got %+v", e)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	seedHasura(t, s)
	const query = `{ users(order_by: {email: asc}) { id email name } }`
	full := s.admin(t, query, nil)
	size := len(full) - len(`{"data":{"users":}}`) // the field's JSON as PostgreSQL built it

	under := newTestServer(t, withLimits(t, map[string]string{"RESPONSE_SIZE_LIMIT": fmt.Sprint(size)}))
	seedHasura(t, under)
	assertJSON(t, under.admin(t, query, nil), string(full))

	over := newTestServer(t, withLimits(t, map[string]string{"RESPONSE_SIZE_LIMIT": fmt.Sprint(size - 1)}))
	seedHasura(t, over)
	assertJSON(t, over.admin(t, query, nil), limitError(
		fmt.Sprintf("response_size_limit of %d bytes exceeded: the response has %d bytes", size-1, size),
		"response-size-limit-exceeded"))
	// Two fields that fit one by one but not together: the limit is on the
	// whole answer, whichever field is made first.
	assertJSON(t, under.admin(t, `{ a: users(order_by: {email: asc}) { id email name } b: users_aggregate { aggregate { count } } }`, nil),
		limitError(fmt.Sprintf("response_size_limit of %d bytes exceeded: the response has %d bytes",
			size, size+len(`{"aggregate" : {"count" : 3}}`)), "response-size-limit-exceeded"))

	// A mutation whose answer is over the limit writes nothing.
	var before, after int
	count := func(n *int) {
		if err := over.pool.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(n); err != nil {
			t.Fatal(err)
		}
	}
	count(&before)
	got := over.admin(t, `mutation { insert_users(objects: [{email: "x1@example.com", name: "`+strings.Repeat("x", 100)+`"},
		{email: "x2@example.com", name: "`+strings.Repeat("y", 100)+`"}, {email: "x3@example.com"}]) { returning { id email name } } }`, nil)
	if !strings.Contains(string(got), `"response-size-limit-exceeded"`) {
		t.Errorf("got %s, want the response size error", got)
	}
	count(&after)
	if after != before {
		t.Errorf("users went from %d to %d rows: the refused mutation wrote", before, after)
	}
	// A nested insert, whose answer is read by a second statement, too.
	got = over.admin(t, `mutation { insert_users_one(object: {email: "n@example.com", name: "`+strings.Repeat("n", 300)+`",
		sessions: {data: [{sessionToken: "n-tok", expires: "2030-01-01T00:00:00Z"}]}}) { name sessions { sessionToken } } }`, nil)
	if !strings.Contains(string(got), `"response-size-limit-exceeded"`) {
		t.Errorf("got %s, want the response size error", got)
	}
	count(&after)
	if after != before {
		t.Errorf("users went from %d to %d rows: the refused nested insert wrote", before, after)
	}
}

func TestBatchLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{"BATCH_LIMIT": "2"}))
	op := `{"query": "{ __typename }"}`
	assertJSON(t, s.post(t, "["+op+","+op+"]", nil), `[{"data":{"__typename":"query_root"}},{"data":{"__typename":"query_root"}}]`)
	assertJSON(t, s.post(t, "["+op+","+op+","+op+"]", nil),
		limitError("batch_limit of 2 for role 'anonymous' exceeded: the batch has 3 operations", "bad-request"))
}

// sleepyInserts makes inserting a user named "sleep N" take N seconds.
func sleepyInserts(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	for _, sql := range []string{
		`CREATE FUNCTION sleepy_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
			IF NEW.name LIKE 'sleep %' THEN PERFORM pg_sleep(split_part(NEW.name, ' ', 2)::float); END IF;
			RETURN NEW; END $$`,
		`CREATE TRIGGER sleepy BEFORE INSERT ON users FOR EACH ROW EXECUTE FUNCTION sleepy_insert()`,
	} {
		if _, err := pool.Exec(context.Background(), sql); err != nil {
			t.Fatal(err)
		}
	}
}

func sleepyInsert(seconds float64) string {
	return fmt.Sprintf(`{"query": "mutation { insert_users_one(object: {email: \"sleepy@example.com\", name: \"sleep %g\"}) { name } }"}`, seconds)
}

func TestTimeLimitStopsTheStatementInPostgres(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{"TIME_LIMIT": "30,admin=300ms"}))
	sleepyInserts(t, s.pool)
	start := time.Now()
	got := s.post(t, sleepyInsert(10), adminHeaders)
	took := time.Since(start)
	assertJSON(t, got, limitError("time_limit of 300ms for role 'admin' exceeded: the request was stopped", "time-limit-exceeded"))
	if took > 2*time.Second {
		t.Errorf("answered after %v, want soon after 300ms", took)
	}
	// PostgreSQL stopped too: the sleeping statement is gone and wrote nothing.
	var running, rows int
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND state = 'active' AND query LIKE '%insert%' AND pid <> pg_backend_pid()`).Scan(&running); err != nil {
		t.Fatal(err)
	}
	if err := s.pool.QueryRow(context.Background(), `SELECT count(*) FROM users`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if running != 0 || rows != 0 {
		t.Errorf("after the time limit: %d statements still running, %d rows written; want 0 and 0", running, rows)
	}
	// Every statement of the pool is bounded by the longest limit (30 s).
	var timeout string
	if err := s.pool.QueryRow(context.Background(), `SHOW statement_timeout`).Scan(&timeout); err != nil || timeout != "30s" {
		t.Errorf("statement_timeout = %q (%v), want 30s", timeout, err)
	}
}

func TestSlowBodyIsCutOff(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{"BODY_READ_TIMEOUT": "500ms"}))
	conn := dialRaw(t, s.URL, "POST /v1/graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	start := time.Now()
	go func() { // one byte every 100 ms: the body would take 10 s
		for range 99 {
			time.Sleep(100 * time.Millisecond)
			if _, err := conn.Write([]byte(" ")); err != nil {
				return
			}
		}
	}()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("answered after %v, want soon after 500ms", took)
	}
	assertJSON(t, body, limitError("the request was not received within 500ms", "bad-request"))
	// And the connection is closed: its goroutine is gone.
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the connection stayed open")
	}
}

func TestHeaderSizeLimit(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{"HEADER_SIZE_LIMIT": "4KiB"}))
	send := func(pad int) int {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/healthz", nil)
		req.Header.Set("X-Pad", strings.Repeat("p", pad))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := send(2 << 10); code != http.StatusOK {
		t.Errorf("2 KiB of headers: %d, want 200", code)
	}
	// net/http allows 4 KiB over the limit before refusing.
	if code := send(16 << 10); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("16 KiB of headers: %d, want 431", code)
	}
}

func TestWebsocketLimits(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withLimits(t, map[string]string{
		"WEBSOCKET_MESSAGE_LIMIT": "1KiB", "HASURA_GRAPHQL_WEBSOCKET_CONNECTION_INIT_TIMEOUT": "200ms",
		"WEBSOCKET_OPERATION_LIMIT": "2",
	}))
	closedWith := func(c *wsClient, within time.Duration) websocket.StatusCode {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		for {
			if _, _, err := c.conn.Read(ctx); err != nil {
				return websocket.CloseStatus(err)
			}
		}
	}
	// No connection_init: closed once the init timeout has passed.
	idle, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if code := closedWith(idle, 3*time.Second); code != 4408 {
		t.Errorf("closed with %d, want 4408", code)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("closed after %v, want soon after 200ms", took)
	}

	// A message over the limit closes the connection (1009: too big); one
	// just under is read.
	big, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	big.send(map[string]any{"type": "connection_init", "payload": map[string]any{"pad": strings.Repeat("x", 900)}})
	if msg := big.next(5 * time.Second); msg["type"] != "connection_ack" {
		t.Fatalf("got %v", msg)
	}
	big.send(map[string]any{"type": "ping", "payload": map[string]any{"pad": strings.Repeat("x", 1100)}})
	if code := closedWith(big, 3*time.Second); code != websocket.StatusMessageTooBig {
		t.Errorf("closed with %d, want %d", code, websocket.StatusMessageTooBig)
	}

	// At most two operations at once: a third is refused, the two go on.
	ops, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	ops.subscribe(`subscription { session { expires } }`, nil)
	if got := ops.data(); got != `{"session":null}` {
		t.Fatalf("got %s", got)
	}
	ops.send(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{"query": `subscription { session { expires } }`}})
	ops.next(5 * time.Second)
	ops.send(map[string]any{"id": "3", "type": "subscribe", "payload": map[string]any{"query": `{ __typename }`}})
	msg := ops.next(5 * time.Second)
	b, _ := json.Marshal(msg)
	want := `{"id":"3","payload":[{"extensions":{"code":"bad-request","path":"$"},"message":"websocket_operation_limit of 2 reached: complete an operation before starting another"}],"type":"error"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

func TestLimitsConfiguration(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	if err := loadLimits(&cfg, func(names ...string) string {
		return map[string]string{"DEPTH_LIMIT": "12,anonymous=5,admin=off", "TIME_LIMIT": "10,user=2s",
			"RESPONSE_SIZE_LIMIT": "2MiB"}[names[0]]
	}); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Limits.Depth.String(); got != "12,admin=off,anonymous=5" {
		t.Errorf("depth %s", got)
	}
	if got := cfg.Limits.Time.String(); got != "10s,user=2s" || cfg.Limits.Time.Max() != 10*time.Second {
		t.Errorf("time %s (max %v)", got, cfg.Limits.Time.Max())
	}
	if cfg.Limits.ResponseBytes != 2<<20 {
		t.Errorf("response %d", cfg.Limits.ResponseBytes)
	}
	for env, want := range map[string]string{
		"NODE_LIMIT":          "NODE_LIMIT: a limit must be positive, or off",
		"TIME_LIMIT":          `TIME_LIMIT: expected seconds or a duration such as 30s, got "soon"`,
		"RESPONSE_SIZE_LIMIT": `RESPONSE_SIZE_LIMIT: expected a size such as 16MiB or 1048576, got "big"`,
		"TOKEN_LIMIT":         "TOKEN_LIMIT: must be positive",
	} {
		value := map[string]string{"NODE_LIMIT": "0", "TIME_LIMIT": "soon", "RESPONSE_SIZE_LIMIT": "big", "TOKEN_LIMIT": "-1"}[env]
		err := loadLimits(&cfg, func(names ...string) string {
			if names[0] == env {
				return value
			}
			return ""
		})
		if err == nil || err.Error() != want {
			t.Errorf("%s=%s: %v, want %s", env, value, err, want)
		}
	}
	_ = limits.Defaults()
}
