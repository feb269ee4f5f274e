package main

import (
	"encoding/json"
	"strings"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/freshgraph/freshgraph/internal/tracing"
)

// tracedServer is a test server whose spans go to an in-process exporter.
func tracedServer(t *testing.T) (*testServer, *tracetest.InMemoryExporter) {
	t.Helper()
	exporter := tracetest.NewInMemoryExporter()
	provider := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	t.Cleanup(func() { _ = provider.Shutdown(t.Context()) })
	s := newTestServer(t, func(c *config) { c.Tracer = tracing.New(provider, nil) })
	return s, exporter
}

// A request continues the caller's trace (traceparent): a span for the
// request, one for the operation, one per root field, one per SQL
// statement, each under the one before, with no value of the request in
// any span; the access line names the trace.
func TestTraces(t *testing.T) {
	t.Parallel()
	s, exporter := tracedServer(t)
	const (
		traceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
		callerSpan  = "00f067aa0ba902b7"
		secretEmail = "secret-value@example.com"
		alice       = "11111111-1111-1111-1111-111111111111"
	)
	s.exec(t, `INSERT INTO users (id, email) VALUES ($1, 'alice@example.com')`, alice)
	query := `query GetUser($id: uuid!) { users_by_pk(id: $id) { id name }
		users(where: {email: {_eq: "` + secretEmail + `"}}, limit: 7777) { id } }`
	for i := range 3 { // learnt, then answered from its plan
		exporter.Reset()
		q, _ := json.Marshal(query)
		body := `{"query":` + string(q) + `,"variables":{"id":"` + alice + `"},"operationName":"GetUser"}`
		got := s.post(t, body, map[string]string{"traceparent": "00-" + traceID + "-" + callerSpan + "-01", "X-Hasura-Admin-Secret": testAdminSecret})
		if !strings.Contains(string(got), alice) {
			t.Fatalf("answer: %s", got)
		}
		spans := exporter.GetSpans()
		byName := map[string]tracetest.SpanStub{}
		for _, sp := range spans {
			if sp.SpanContext.TraceID().String() != traceID {
				t.Errorf("span %q is in trace %s", sp.Name, sp.SpanContext.TraceID())
			}
			byName[sp.Name] = sp
			for _, text := range append([]string{sp.Name, sp.Status.Description}, attributeValues(sp)...) {
				for _, value := range []string{secretEmail, "7777", alice} {
					if strings.Contains(text, value) {
						t.Errorf("span %q holds the value %s: %s", sp.Name, value, text)
					}
				}
			}
		}
		parentOf := func(name, parent string) {
			t.Helper()
			sp, ok := byName[name]
			p, pok := byName[parent]
			if !ok || !pok || sp.Parent.SpanID() != p.SpanContext.SpanID() {
				t.Errorf("request %d: no span %q under %q; spans: %v", i, name, parent, names(spans))
			}
		}
		if req, ok := byName["POST /v1/graphql"]; !ok || req.Parent.SpanID().String() != callerSpan || req.SpanKind != trace.SpanKindServer {
			t.Errorf("request %d: no server span under the caller's; spans: %v", i, names(spans))
		}
		parentOf("query GetUser", "POST /v1/graphql")
		parentOf("Postgres Query for root field users_by_pk", "query GetUser")
		parentOf("Postgres Query for root field users", "query GetUser")
		statements := 0
		for _, sp := range spans {
			if sp.SpanKind == trace.SpanKindClient {
				statements++
				if p := sp.Parent.SpanID(); p != byName["Postgres Query for root field users_by_pk"].SpanContext.SpanID() &&
					p != byName["Postgres Query for root field users"].SpanContext.SpanID() {
					t.Errorf("statement span %q is under no root field", sp.Name)
				}
				if text := attribute(sp, "db.query.text"); !strings.Contains(text, "$") || !strings.Contains(text, "users") {
					t.Errorf("statement span %q: db.query.text %q", sp.Name, text)
				}
			}
		}
		if statements < 2 {
			t.Errorf("request %d: %d statement spans; spans: %v", i, statements, names(spans))
		}
	}
	if !strings.Contains(s.log.String(), "trace_id="+traceID) {
		t.Errorf("no access line with the trace id:\n%s", s.log.String())
	}

	// A failed operation's span says so, by its code.
	exporter.Reset()
	s.gql(t, `{ nope }`, nil, nil)
	for _, sp := range exporter.GetSpans() {
		if sp.Name == "unknown" && (sp.Status.Description != "validation-failed" || attribute(sp, "graphql.error.code") != "validation-failed") {
			t.Errorf("failed operation: %+v", sp.Status)
		}
	}
	// Each query over a WebSocket is a trace of its own, not a child of the
	// connection's.
	exporter.Reset()
	ws := liveAs(t, s, "graphql-transport-ws", "admin", "")
	ws.start("1", `query Named { users { id } }`, nil)
	ws.result("1")
	if spans := exporter.GetSpans(); len(spans) < 3 || spans[len(spans)-1].Name != "query Named" || spans[len(spans)-1].Parent.IsValid() {
		t.Errorf("a WebSocket query: %v", names(spans))
	}

	// Requests without a traceparent start traces of their own.
	exporter.Reset()
	get(t, s.URL+"/healthz")
	if spans := exporter.GetSpans(); len(spans) != 1 || spans[0].Name != "GET /healthz" || spans[0].Parent.IsValid() {
		t.Errorf("healthz: %v", names(spans))
	}
}

func attributeValues(sp tracetest.SpanStub) []string {
	var out []string
	for _, a := range sp.Attributes {
		out = append(out, a.Value.String())
	}
	return out
}

func attribute(sp tracetest.SpanStub, key string) string {
	for _, a := range sp.Attributes {
		if string(a.Key) == key {
			return a.Value.String()
		}
	}
	return ""
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, sp := range spans {
		out = append(out, sp.Name)
	}
	return out
}
