package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape reads s's /v1/metrics with the secret, parsed as Prometheus does.
func scrape(t *testing.T, s *testServer, secret string) map[string]*dto.MetricFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	body, resp := rawDo(t, s.Client(), req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/v1/metrics: %d %s", resp.StatusCode, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	return families
}

// value is the value of the series of family with labels (name=value,
// …), or -1 when there is none.
func value(families map[string]*dto.MetricFamily, family string, labels ...string) float64 {
	f := families[family]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		for i := 0; i+1 < len(labels); i += 2 {
			found := false
			for _, l := range m.Label {
				if l.GetName() == labels[i] && l.GetValue() == labels[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

// /v1/metrics, under Hasura's names: requests by operation type and
// outcome (a plan's answer, gqlgen's, a WebSocket's), the execution time
// of the successful ones, WebSocket connections and subscriptions as they
// open and close, the pool's figures, Go's; only to the scraper that has
// the secret.
// metricDelta is how much a series is to grow between two scrapes.
type metricDelta struct {
	family string
	labels []string // name, value, …
	want   float64
}

func expectDeltas(t *testing.T, before, after map[string]*dto.MetricFamily, deltas []metricDelta) {
	t.Helper()
	for _, d := range deltas {
		if got := value(after, d.family, d.labels...) - max(value(before, d.family, d.labels...), 0); got != d.want {
			t.Errorf("%s%v: %v more, want %v", d.family, d.labels, got, d.want)
		}
	}
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	const secret = metricsSecret
	s := newTestServer(t, func(c *config) { *c = testConfig(t, map[string]string{"HASURA_GRAPHQL_METRICS_SECRET": secret}) })
	before := scrape(t, s, secret)
	for range 3 {
		s.gql(t, `{ users_by_pk(id: "`+alice+`") { id } }`, nil, adminHeaders) // planned from the second on
	}
	s.gql(t, `{ nope }`, nil, adminHeaders)                // fails validation: its type is unknown
	s.gql(t, `mutation { __typename }`, nil, adminHeaders) // a mutation
	s.gql(t, `mutation { signOut }`, nil, map[string]string{"X-Hasura-Admin-Secret": "wrong"})
	ws := liveAs(t, s, "graphql-transport-ws", "admin", "")
	ws.start("1", `subscription { users(limit: 1) { id } }`, nil)
	ws.result("1")
	ws.start("2", `subscription { users_stream(batch_size: 1, cursor: {initial_value: {id: "`+alice+`"}}) { id } }`, nil)
	ws.start("3", `{ __typename }`, nil)
	ws.result("3")
	// A write that changes live queries' answers is pushed: the latency of
	// each group's push is recorded (users(limit: 1) had no user yet, so
	// both groups' answers change).
	ws.start("4", `subscription { users(order_by: {email: asc}) { email } }`, nil)
	ws.result("4")
	s.exec(t, `INSERT INTO users (email) VALUES ('metrics@example.com')`)
	ws.result("4")
	ws.result("1")
	// (A run records its latency once its pushes are sent.)
	after := scrape(t, s, secret)
	for deadline := time.Now().Add(2 * time.Second); value(after, "freshgraph_live_push_latency_seconds") < 2 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
		after = scrape(t, s, secret)
	}

	expectDeltas(t, before, after, []metricDelta{
		{"hasura_graphql_requests_total", []string{"operation_type", "query", "response_status", "success"}, 4},
		{"hasura_graphql_requests_total", []string{"operation_type", "unknown", "response_status", "failed"}, 1},
		{"hasura_graphql_requests_total", []string{"operation_type", "mutation", "response_status", "success"}, 1},
		{"hasura_graphql_requests_total", []string{"operation_type", "subscription", "response_status", "success"}, 3},
		{"hasura_graphql_execution_time_seconds", []string{"operation_type", "query"}, 4},
		{"hasura_graphql_execution_time_seconds", []string{"operation_type", "mutation"}, 1},
		{"hasura_websocket_connections", nil, 1},
		{"hasura_active_subscriptions", []string{"subscription_kind", "live-query"}, 2},
		{"freshgraph_live_push_latency_seconds", nil, 2},
		{"hasura_active_subscriptions", []string{"subscription_kind", "streaming"}, 1},
		// users_by_pk learnt once, then answered twice from its plan; the
		// invalid query and the mutation are learnt, and have none.
		{"freshgraph_query_plans_total", []string{"result", "hit"}, 2},
		{"freshgraph_query_plans_total", []string{"result", "miss"}, 3},
	})
	if v := value(after, "hasura_postgres_connections", "source_name", "default", "conn_info", "DATABASE_URL"); v < 1 {
		t.Errorf("hasura_postgres_connections: %v", v)
	}
	for _, family := range []string{"hasura_postgres_max_connections", "freshgraph_postgres_pool_empty_acquires_total", "go_goroutines", "process_resident_memory_bytes"} {
		if value(after, family) < 0 {
			t.Errorf("no %s", family)
		}
	}

	// A closed connection's subscriptions end, and so does its count.
	_ = ws.conn.CloseNow()
	deadline := time.Now().Add(5 * time.Second)
	for {
		now := scrape(t, s, secret)
		done := value(now, "hasura_websocket_connections") == value(before, "hasura_websocket_connections") &&
			value(now, "hasura_active_subscriptions", "subscription_kind", "live-query") == 0
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the close: %v connections, %v live queries", value(now, "hasura_websocket_connections"),
				value(now, "hasura_active_subscriptions", "subscription_kind", "live-query"))
		}
		time.Sleep(20 * time.Millisecond)
	}

	// HTTP connections are counted until they close, and a WebSocket's not
	// at all: with the client's idle ones closed, only the scrape's is open.
	s.Client().CloseIdleConnections()
	for deadline := time.Now().Add(5 * time.Second); ; {
		conns := value(scrape(t, s, secret), "hasura_http_connections")
		s.Client().CloseIdleConnections()
		if conns == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("hasura_http_connections: %v, want 1 (the scrape's)", conns)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Only with the secret; and never without one outside embedded mode.
	for _, auth := range []string{"", "Bearer nope", "Basic " + secret, secret} {
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		body, resp := rawDo(t, s.Client(), req)
		if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "go_goroutines") {
			t.Errorf("Authorization %q: %d %s", auth, resp.StatusCode, body)
		}
	}
	open := newTestServer(t)
	req, _ := http.NewRequest(http.MethodGet, open.URL+"/v1/metrics", nil)
	body, resp := rawDo(t, open.Client(), req)
	if resp.StatusCode != http.StatusNotFound || string(body) != `{"path":"$","error":"resource does not exist","code":"not-found"}` {
		t.Errorf("no secret: %d %s", resp.StatusCode, body)
	}
}

// Errors by code, limits' refusals by limit, and the sessions the session
// API reads and ends move as each happens.
func TestMetricsErrorsLimitsAndSessions(t *testing.T) {
	t.Parallel()
	const secret = metricsSecret
	s := newTestServer(t, func(c *config) {
		*c = testConfig(t, map[string]string{"HASURA_GRAPHQL_METRICS_SECRET": secret,
			"DEPTH_LIMIT": "3", "BATCH_LIMIT": "2", "WEBSOCKET_OPERATION_LIMIT": "1", "SESSION_CLEANUP_INTERVAL": "50ms",
			"BODY_SIZE_LIMIT": "2KiB"})
	})
	before := scrape(t, s, secret)

	s.gql(t, `{ nope }`, nil, nil)                                        // validation-failed
	s.gql(t, `{ users { accounts { user { id } } } }`, nil, adminHeaders) // depth_limit: validation-failed
	batch := `[{"query":"{ __typename }"},{"query":"{ __typename }"},{"query":"{ __typename }"}]`
	if got := string(s.post(t, batch, nil)); !strings.Contains(got, "batch_limit of 2") {
		t.Fatalf("batch: %s", got)
	}
	if got := string(s.post(t, `{"query":"`+strings.Repeat(" ", 4096)+`{ __typename }"}`, nil)); !strings.Contains(got, "larger than 2048 bytes") {
		t.Fatalf("a body over the limit: %s", got)
	}
	ws := liveAs(t, s, "graphql-transport-ws", "admin", "")
	ws.start("1", `subscription { users { id } }`, nil)
	ws.result("1")
	ws.start("2", `subscription { users { id } }`, nil) // websocket_operation_limit: bad-request

	a, other := newBrowser(t), newBrowser(t)
	signUpAs(t, a, s, "metrics-a@example.com", "A")
	for range 2 {
		a.gql(s, sessionQuery, nil) // a live session: read, with its user
	}
	withCookie(t, s, "not-a-session", sessionQuery) // no live session: read, none
	s.gql(t, sessionQuery, nil, nil)                // no credentials: nothing to read
	signUpAs(t, other, s, "metrics-b@example.com", "B")
	other.gql(s, `mutation { signIn(email: "metrics-a@example.com", password: "correct horse battery") { user { id } } }`, nil)
	a.gql(s, `mutation { signOutEverywhere(keepCurrent: true) }`, nil) // ends other's
	signedOut := a.cookie(s).Value
	a.gql(s, `mutation { signOut }`, nil)
	withCookie(t, s, signedOut, `mutation { signOut }`) // no live session: none ended
	withCookie(t, s, signedOut, sessionQuery)           // read: none
	s.exec(t, `UPDATE sessions SET expires = now() - interval '1 second' WHERE "userId" = (SELECT id FROM users WHERE email = 'metrics-b@example.com')`)
	// The cleanup deletes the expired session within its interval.
	after := scrape(t, s, secret)
	for deadline := time.Now().Add(5 * time.Second); value(after, "freshgraph_sessions_ended_total", "reason", "expired") < 1 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		after = scrape(t, s, secret)
	}
	expectDeltas(t, before, after, []metricDelta{
		{"freshgraph_graphql_errors_total", []string{"code", "validation-failed"}, 2},
		{"freshgraph_graphql_errors_total", []string{"code", "bad-request"}, 3},
		{"freshgraph_limit_refusals_total", []string{"limit", "body_size_limit"}, 1},
		{"freshgraph_limit_refusals_total", []string{"limit", "depth_limit"}, 1},
		{"freshgraph_limit_refusals_total", []string{"limit", "batch_limit"}, 1},
		{"freshgraph_limit_refusals_total", []string{"limit", "websocket_operation_limit"}, 1},
		{"hasura_graphql_requests_total", []string{"operation_type", "unknown", "response_status", "failed"}, 5},
		{"freshgraph_sessions_read_total", []string{"result", "user"}, 2},
		{"freshgraph_sessions_read_total", []string{"result", "none"}, 1},
		{"freshgraph_sessions_ended_total", []string{"reason", "sign_out_everywhere"}, 1},
		{"freshgraph_sessions_ended_total", []string{"reason", "sign_out"}, 1},
		{"freshgraph_sessions_ended_total", []string{"reason", "expired"}, 1},
		{"freshgraph_sessions_ended_total", []string{"reason", "revoked"}, 0},
	})
}
