package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestStatementShape(t *testing.T) {
	for _, tt := range []struct{ sql, want string }{
		{`SELECT "id" FROM "users" WHERE "id" = $1 LIMIT 10`, `SELECT "id" FROM "users" WHERE "id" = $1 LIMIT ?`},
		{`SELECT 'it''s', E'a\'b', $$x$$, $tag$ y $tag$, 1.5e-3, -2`, `SELECT ?, ?, ?, ?, ?, -?`},
		{`SELECT t1.c_2, "we""ird 3" FROM t1 WHERE x::int4 > 0.5`, `SELECT t1.c_2, "we""ird 3" FROM t1 WHERE x::int4 > ?`},
		{`SELECT e'x', type'1', f($12)`, `SELECT ?, type?, f($12)`},
		{`SELECT 'unterminated`, `SELECT ?`},
		{`SELECT $tag$ never closed`, `SELECT ?`},
		{`SELECT json_build_object('name', name) FROM users`, `SELECT json_build_object(?, name) FROM users`},
	} {
		if got := StatementShape(tt.sql); got != tt.want {
			t.Errorf("StatementShape(%q)\n got  %q\n want %q", tt.sql, got, tt.want)
		}
	}
	for sql, name := range map[string]string{"  select 1": "SELECT", "WITH a AS (SELECT 1) SELECT 1": "WITH", "INSERT(": "INSERT", "": "SQL"} {
		if got := statementName(sql); got != name {
			t.Errorf("statementName(%q) = %q, want %q", sql, got, name)
		}
	}
}

// A webhook call carries the trace in traceparent, and its span names
// neither the URL's path nor its query, which may hold a secret.
func TestTransport(t *testing.T) {
	exporter := tracetest.NewInMemoryExporter()
	tr := New(sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter)), nil)
	var got string
	handler := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Get("traceparent")
		w.WriteHeader(http.StatusTeapot)
	}))
	defer handler.Close()
	ctx, parent := tr.Start(context.Background(), "parent")
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, handler.URL+"/hook/s3cr3t-path?token=s3cr3t", nil)
	resp, err := (&http.Client{Transport: tr.Transport(http.DefaultTransport)}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	parent.End()
	spans := exporter.GetSpans()
	if len(spans) != 2 {
		t.Fatalf("%d spans", len(spans))
	}
	call := spans[0]
	want := "00-" + call.SpanContext.TraceID().String() + "-" + call.SpanContext.SpanID().String() + "-01"
	if got != want || call.Parent.SpanID() != parent.SpanContext().SpanID() || call.Name != "POST" {
		t.Errorf("traceparent %q, want %q; span %q, parent %v", got, want, call.Name, call.Parent.SpanID())
	}
	for _, a := range call.Attributes {
		if strings.Contains(a.Value.String(), "s3cr3t") {
			t.Errorf("the span keeps %s=%s", a.Key, a.Value.String())
		}
	}
	if req.Header.Get("traceparent") != "" {
		t.Error("the caller's request was changed")
	}
}

// Off, nothing is made and nothing is wrapped.
func TestNilTracer(t *testing.T) {
	var tr *Tracer
	ctx, span := tr.Start(context.Background(), "x")
	span.End()
	if ctx != context.Background() || span.IsRecording() || tr.QueryTracer() != nil || tr.Transport(http.DefaultTransport) != http.DefaultTransport {
		t.Error("a nil Tracer did something")
	}
	h := http.NotFoundHandler()
	if got := tr.Handler(h, nil); got == nil {
		t.Error("no handler")
	}
	for _, env := range []map[string]string{{}, {"OTEL_SDK_DISABLED": "true", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"},
		{"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}} {
		if tr, _, err := FromEnv(context.Background(), func(k string) string { return env[k] }, "dev"); tr != nil || err != nil {
			t.Errorf("%v: %v, %v", env, tr, err)
		}
	}
	for env, want := range map[string]string{"OTEL_TRACES_EXPORTER=zipkin": `OTEL_TRACES_EXPORTER: "zipkin" is not supported`,
		"OTEL_EXPORTER_OTLP_PROTOCOL=grpc": `OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" is not supported: http/protobuf`,
		"OTEL_PROPAGATORS=xray":            `OTEL_PROPAGATORS: "xray" is not supported`} {
		k, v, _ := strings.Cut(env, "=")
		vars := map[string]string{k: v, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://x"}
		if _, _, err := FromEnv(context.Background(), func(k string) string { return vars[k] }, "dev"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", env, err)
		}
	}
}

// OTEL_PROPAGATORS: Hasura's B3 headers are read and sent beside W3C's.
func TestPropagators(t *testing.T) {
	p, err := Propagators("tracecontext, b3multi")
	if err != nil {
		t.Fatal(err)
	}
	in := http.Header{}
	in.Set("X-B3-TraceId", "463ac35c9f6413ad48485a3953bb6124")
	in.Set("X-B3-SpanId", "a2fb4a1d1a96d312")
	in.Set("X-B3-Sampled", "1")
	ctx := p.Extract(context.Background(), propagation.HeaderCarrier(in))
	sc := trace.SpanContextFromContext(ctx)
	if sc.TraceID().String() != "463ac35c9f6413ad48485a3953bb6124" || sc.SpanID().String() != "a2fb4a1d1a96d312" || !sc.IsSampled() {
		t.Fatalf("extracted %v", sc)
	}
	out := http.Header{}
	p.Inject(ctx, propagation.HeaderCarrier(out))
	if out.Get("traceparent") != "00-463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-01" ||
		out.Get("X-B3-TraceId") != "463ac35c9f6413ad48485a3953bb6124" || out.Get("b3") != "" {
		t.Errorf("injected %v", out)
	}
	if p, err := Propagators("b3"); err != nil {
		t.Fatal(err)
	} else if p.Inject(ctx, propagation.HeaderCarrier(out)); out.Get("b3") != "463ac35c9f6413ad48485a3953bb6124-a2fb4a1d1a96d312-1" {
		t.Errorf("b3: %q", out.Get("b3"))
	}
	if p, err := Propagators(""); p != nil || err != nil {
		t.Errorf("unset: %v, %v", p, err)
	}
	if _, err := Propagators("tracecontext,jaeger"); err == nil || !strings.Contains(err.Error(), `"jaeger" is not supported`) {
		t.Errorf("jaeger: %v", err)
	}
}
