// Package tracing exports OpenTelemetry traces, off unless configured with
// the standard OTEL_* variables: a span per HTTP request, per GraphQL
// operation, per root field and per SQL statement (its shape, never a
// value), with W3C trace context (traceparent) read from requests and sent
// on the calls freshgraph makes (Actions' and triggers' webhooks).
//
// Every method works on a nil *Tracer, which records nothing at the cost of
// a nil check, so the instrumentation costs nothing while tracing is off.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.37.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracer makes freshgraph's spans. A nil *Tracer makes none.
type Tracer struct {
	provider   trace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
}

// New traces into provider, reading and sending the trace context as
// propagator does (nil: W3C trace context and baggage, OpenTelemetry's
// default).
func New(provider trace.TracerProvider, propagator propagation.TextMapPropagator) *Tracer {
	if propagator == nil {
		propagator = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	return &Tracer{
		provider:   provider,
		tracer:     provider.Tracer("github.com/freshgraph/freshgraph"),
		propagator: propagator,
	}
}

// Propagators reads OTEL_PROPAGATORS's list: tracecontext and baggage (W3C,
// the default), b3 (one header) and b3multi (X-B3-* headers, Hasura's
// default), or none. Each is read from a request, and all are sent.
func Propagators(list string) (propagation.TextMapPropagator, error) {
	if list == "" {
		return nil, nil
	}
	var all []propagation.TextMapPropagator
	for _, name := range strings.Split(list, ",") {
		switch name = strings.TrimSpace(name); name {
		case "tracecontext":
			all = append(all, propagation.TraceContext{})
		case "baggage":
			all = append(all, propagation.Baggage{})
		case "b3":
			all = append(all, b3.New(b3.WithInjectEncoding(b3.B3SingleHeader)))
		case "b3multi":
			all = append(all, b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader)))
		case "none":
		default:
			return nil, fmt.Errorf("OTEL_PROPAGATORS: %q is not supported: tracecontext, baggage, b3, b3multi or none", name)
		}
	}
	return propagation.NewCompositeTextMapPropagator(all...), nil
}

// FromEnv is the tracer the OTEL_* variables ask for, and the function that
// flushes its spans at shutdown; nil (off) unless an OTLP endpoint is set
// (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT).
// OTEL_SDK_DISABLED=true or OTEL_TRACES_EXPORTER=none turn it off. The
// exporter speaks OTLP over HTTP (http/protobuf); the SDK reads the rest
// (headers, timeout, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
// OTEL_TRACES_SAMPLER, OTEL_BSP_*).
func FromEnv(ctx context.Context, getenv func(string) string, version string) (*Tracer, func(context.Context) error, error) {
	none := func(context.Context) error { return nil }
	if strings.EqualFold(getenv("OTEL_SDK_DISABLED"), "true") {
		return nil, none, nil
	}
	switch exporter := getenv("OTEL_TRACES_EXPORTER"); exporter {
	case "none":
		return nil, none, nil
	case "", "otlp":
	default:
		return nil, none, fmt.Errorf("OTEL_TRACES_EXPORTER: %q is not supported: otlp or none", exporter)
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		return nil, none, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := getenv(name); p != "" {
			if p != "http/protobuf" {
				return nil, none, fmt.Errorf("%s: %q is not supported: http/protobuf", name, p)
			}
			break
		}
	}
	// The endpoint as the variables give it (the SDK reads the others from
	// the environment itself).
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if endpoint == "" {
		endpoint = strings.TrimSuffix(getenv("OTEL_EXPORTER_OTLP_ENDPOINT"), "/") + "/v1/traces"
	}
	propagator, err := Propagators(getenv("OTEL_PROPAGATORS"))
	if err != nil {
		return nil, none, err
	}
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, none, fmt.Errorf("OpenTelemetry exporter: %w", err)
	}
	// The service's own name first, so that OTEL_SERVICE_NAME and
	// OTEL_RESOURCE_ATTRIBUTES override it.
	res, err := resource.New(ctx,
		resource.WithAttributes(semconv.ServiceName("freshgraph"), semconv.ServiceVersion(version)),
		resource.WithFromEnv(), resource.WithTelemetrySDK())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, none, fmt.Errorf("OpenTelemetry resource: %w", err)
	}
	provider := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return New(provider, propagator), provider.Shutdown, nil
}

// noSpan is what a nil Tracer starts: it records nothing, and ending it
// ends nothing.
// It is boxed once: converting noop.Span to trace.Span at each call would
// allocate.
var noSpan trace.Span = noop.Span{}

// Start starts a span named name under the span of ctx.
func (t *Tracer) Start(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noSpan
	}
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// StartRootField starts the span of one root field of an operation of type
// op (query, mutation, subscription), named as Hasura names it ("Postgres
// Query for root field users").
func (t *Tracer) StartRootField(ctx context.Context, op, alias string) (context.Context, trace.Span) {
	if t == nil {
		return ctx, noSpan
	}
	kind := "Query"
	switch op {
	case "mutation":
		kind = "Mutation"
	case "subscription":
		kind = "Subscription"
	}
	return t.tracer.Start(ctx, "Postgres "+kind+" for root field "+alias,
		trace.WithAttributes(attribute.String("graphql.field.alias", alias), attribute.String("graphql.operation.type", op)))
}

// EndRootField ends a root field's span, marked failed when the field
// failed (its errors are the operation's).
func EndRootField(span trace.Span, failed bool) {
	if failed {
		span.SetStatus(codes.Error, "the field failed")
	}
	span.End()
}

// Handler traces each request next serves, in a server span that continues
// the caller's trace (traceparent). route names a request's span by the
// route it takes ("POST /v1/graphql"), never by its path's values.
func (t *Tracer) Handler(next http.Handler, route func(*http.Request) string) http.Handler {
	if t == nil {
		return next
	}
	return otelhttp.NewHandler(next, "",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithPropagators(t.propagator),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return route(r) }),
		// A WebSocket lives for hours: each of its operations is a trace of
		// its own, not a child of one endless span.
		otelhttp.WithFilter(func(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }))
}

// Transport traces the calls base makes (webhooks): a client span each,
// under the caller's span or starting a trace of its own (an event's
// delivery), with the trace context sent in traceparent. The span names
// the method and host only: a handler's URL may carry a secret.
func (t *Tracer) Transport(base http.RoundTripper) http.RoundTripper {
	if t == nil {
		return base
	}
	return roundTripper{t: t, base: base}
}

type roundTripper struct {
	t    *Tracer
	base http.RoundTripper
}

func (rt roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, span := rt.t.tracer.Start(r.Context(), r.Method, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.HTTPRequestMethodKey.String(r.Method), semconv.ServerAddress(r.URL.Hostname())))
	defer span.End()
	r = r.Clone(ctx)
	rt.t.propagator.Inject(ctx, propagation.HeaderCarrier(r.Header))
	resp, err := rt.base.RoundTrip(r)
	if err != nil {
		span.SetStatus(codes.Error, "the call failed")
		return resp, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 500 {
		span.SetStatus(codes.Error, resp.Status)
	}
	return resp, nil
}

// Inject writes the trace context of ctx into the headers of a call
// freshgraph makes, so the callee's spans join the trace.
func (t *Tracer) Inject(ctx context.Context, header http.Header) {
	if t != nil {
		t.propagator.Inject(ctx, propagation.HeaderCarrier(header))
	}
}

// Fail marks span failed by an error's code (extensions.code): never by its
// message, which may quote a value of the request.
func Fail(span trace.Span, code string) {
	span.SetStatus(codes.Error, code)
	span.SetAttributes(attribute.String("graphql.error.code", code))
}

// QueryTracer makes a span of each SQL statement run under a span of a
// request (not those of background work, such as the live queries' runs
// outside a request): the statement's shape, its literals replaced by ?,
// and never its arguments.
func (t *Tracer) QueryTracer() pgx.QueryTracer {
	if t == nil {
		return nil
	}
	return queryTracer{t}
}

type queryTracer struct{ t *Tracer }

// statementShapeLimit bounds the statement text a span keeps.
const statementShapeLimit = 4096

func (q queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	shape := StatementShape(data.SQL)
	if len(shape) > statementShapeLimit {
		shape = shape[:statementShapeLimit] + "…"
	}
	ctx, _ = q.t.tracer.Start(ctx, statementName(shape), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(semconv.DBSystemNamePostgreSQL, semconv.DBQueryText(shape)))
	return ctx
}

func (q queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	if data.Err != nil {
		// Only the class of failure: PostgreSQL's message may quote a value.
		span.SetStatus(codes.Error, "statement failed")
	}
	span.SetAttributes(attribute.Int64("db.response.rows_affected", data.CommandTag.RowsAffected()))
	span.End()
}

// statementName is a statement span's name: its first keyword, as
// OpenTelemetry's database conventions name spans (SELECT, WITH, INSERT, …).
func statementName(shape string) string {
	word, _, _ := strings.Cut(strings.TrimSpace(shape), " ")
	word = strings.ToUpper(strings.TrimRight(word, "(;\n\t"))
	if word == "" || len(word) > 16 {
		return "SQL"
	}
	return word
}

// StatementShape is sql with its literals (strings, dollar-quoted strings,
// numbers) replaced by ?, so that no value a request sent can appear in a
// span, even one written into the statement. Parameters ($1), identifiers
// ("users") and keywords stay.
func StatementShape(sql string) string {
	var b strings.Builder
	b.Grow(len(sql))
	for i := 0; i < len(sql); {
		c := sql[i]
		switch {
		case c == '\'' || (c == 'E' || c == 'e') && i+1 < len(sql) && sql[i+1] == '\'' && !identChar(prev(sql, i)):
			escapes := c != '\''
			if escapes {
				i++
			}
			i = skipQuoted(sql, i, '\'', escapes)
			b.WriteByte('?')
		case c == '"':
			end := skipQuoted(sql, i, '"', false)
			b.WriteString(sql[i:end])
			i = end
		case c == '$' && i+1 < len(sql) && (sql[i+1] == '$' || isLetter(sql[i+1])):
			if end, ok := skipDollarQuoted(sql, i); ok {
				b.WriteByte('?')
				i = end
				continue
			}
			b.WriteByte(c)
			i++
		case c == '$' || identChar(c) && !isDigit(c):
			// A parameter ($12) or an identifier (t1, col_2): words stay whole.
			j := i + 1
			for j < len(sql) && identChar(sql[j]) {
				j++
			}
			b.WriteString(sql[i:j])
			i = j
		case isDigit(c) || c == '.' && i+1 < len(sql) && isDigit(sql[i+1]):
			j := i
			for j < len(sql) && (isDigit(sql[j]) || sql[j] == '.' || sql[j] == 'e' || sql[j] == 'E' ||
				(sql[j] == '+' || sql[j] == '-') && (sql[j-1] == 'e' || sql[j-1] == 'E')) {
				j++
			}
			b.WriteByte('?')
			i = j
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

// skipQuoted returns the index after the quoted text that starts at
// sql[i] == quote; a doubled quote is one quote, and with escapes so is a
// backslash's next byte.
func skipQuoted(sql string, i int, quote byte, escapes bool) int {
	for j := i + 1; j < len(sql); j++ {
		switch {
		case escapes && sql[j] == '\\':
			j++
		case sql[j] == quote:
			if j+1 < len(sql) && sql[j+1] == quote {
				j++
				continue
			}
			return j + 1
		}
	}
	return len(sql)
}

// skipDollarQuoted returns the index after the dollar-quoted string that
// starts at sql[i] ($$…$$ or $tag$…$tag$).
func skipDollarQuoted(sql string, i int) (int, bool) {
	j := i + 1
	for j < len(sql) && sql[j] != '$' {
		if !identChar(sql[j]) {
			return 0, false
		}
		j++
	}
	if j >= len(sql) {
		return 0, false
	}
	tag := sql[i : j+1]
	end := strings.Index(sql[j+1:], tag)
	if end < 0 {
		return len(sql), true
	}
	return j + 1 + end + len(tag), true
}

func prev(s string, i int) byte {
	if i == 0 {
		return ' '
	}
	return s[i-1]
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}
func identChar(c byte) bool {
	return isLetter(c) || isDigit(c) || c == '$'
}
