package hasura

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"reflect"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/freshgraph/freshgraph/internal/tracing"
)

// Transport answers GraphQL over HTTP as Hasura's /v1/graphql does: POST with a
// JSON body that is one request or an array of them (a batch, answered with an
// array), GET with query parameters for queries, and HTTP 200 for every answer,
// errors included. A response carries either data or errors, never both, since
// Hasura runs each request as a whole.
type Transport struct {
	// CheckBatch refuses a batch of n requests before any of it runs.
	CheckBatch func(ctx context.Context, n int) error
	// ReadTimeout is the server's deadline for a whole request, named in
	// the answer to a body that did not arrive in time.
	ReadTimeout time.Duration
	// Planned answers a request from a plan made by an earlier one when it
	// can (resp non-nil); otherwise it returns the context to execute the
	// request in.
	Planned func(ctx context.Context, params *graphql.RawParams) (context.Context, *graphql.Response)
	// Observe, if set, is told of each operation answered: its type
	// (query, mutation, subscription; unknown when it failed before its
	// type was known), its answer, and how long it took.
	Observe func(operationType string, resp *graphql.Response, took time.Duration)
	// Tracer, if set, makes a span of each operation.
	Tracer *tracing.Tracer
}

var _ graphql.Transport = Transport{}

// Supports accepts every non-upgrade request, so that a wrong method or
// content type still gets an answer in Hasura's shape.
func (Transport) Supports(r *http.Request) bool { return r.Header.Get("Upgrade") == "" }

// Do executes the request.
func (t Transport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	ctx := r.Context()
	var out []byte
	switch r.Method {
	case http.MethodGet:
		params, err := paramsFromURL(r)
		if err != nil {
			out = AppendResponse(out, t.refuse(ctx, exec, err))
			break
		}
		out = AppendResponse(out, t.execute(ctx, exec, params, false))
	case http.MethodPost:
		out = t.doPost(ctx, r, exec)
	default:
		w.Header().Set("Allow", "GET, POST")
		out = AppendResponse(out, t.refuse(ctx, exec,
			&Error{Code: CodeMethodNotAllowed, Message: "only GET and POST are supported on this endpoint"}))
	}
	_, _ = w.Write(out)
}

func (t Transport) doPost(ctx context.Context, r *http.Request, exec graphql.GraphExecutor) []byte {
	if !isJSON(r.Header.Get("Content-Type")) {
		// Browsers send form and text/plain bodies cross-site without a
		// preflight; refusing them keeps cookie-authenticated calls safe from CSRF.
		return AppendResponse(nil, t.refuse(ctx, exec,
			&Error{Code: CodeInvalidHeaders, Message: "Content-Type must be application/json"}))
	}
	body, err := readBody(r)
	if err != nil {
		if maxErr, ok := errors.AsType[*http.MaxBytesError](err); ok {
			err = &Error{Code: CodeBadRequest, Message: fmt.Sprintf("request body is larger than %d bytes", maxErr.Limit), Limit: "body_size_limit"}
		} else if netErr, ok := errors.AsType[net.Error](err); ok && netErr.Timeout() {
			err = &Error{Code: CodeBadRequest, Message: fmt.Sprintf("the request was not received within %s", t.ReadTimeout), Limit: "body_read_timeout"}
		} else {
			err = &Error{Code: CodeBadRequest, Message: "could not read the request body"}
		}
		return AppendResponse(nil, t.refuse(ctx, exec, err))
	}
	body = bytes.TrimLeft(body, " \t\r\n")
	if len(body) > 0 && body[0] == '[' {
		var batch []json.RawMessage
		if err := decodeJSON(body, &batch); err != nil {
			return AppendResponse(nil, t.refuse(ctx, exec, err))
		}
		if t.CheckBatch != nil {
			if err := t.CheckBatch(ctx, len(batch)); err != nil {
				return AppendResponse(nil, t.refuse(ctx, exec, err))
			}
		}
		out := []byte{'['}
		for i, raw := range batch {
			if i > 0 {
				out = append(out, ',')
			}
			out = AppendResponse(out, t.executeRaw(ctx, exec, raw))
		}
		return append(out, ']')
	}
	return AppendResponse(nil, t.executeRaw(ctx, exec, body))
}

// isJSON reports whether a Content-Type is application/json, with any
// parameters; the common exact forms are told without parsing.
func isJSON(contentType string) bool {
	switch contentType {
	case "application/json", "application/json; charset=utf-8":
		return true
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json"
}

// readBody reads the whole body, into one buffer of its declared length
// when it declares a small one (the server's body limit still applies).
func readBody(r *http.Request) ([]byte, error) {
	if r.ContentLength <= 0 || r.ContentLength > 64<<10 {
		return io.ReadAll(r.Body)
	}
	body := make([]byte, r.ContentLength)
	if _, err := io.ReadFull(r.Body, body); err != nil {
		return nil, err
	}
	// Reaching the end lets net/http reuse the connection at once.
	var end [1]byte
	_, _ = r.Body.Read(end[:])
	return body, nil
}

func (t Transport) executeRaw(ctx context.Context, exec graphql.GraphExecutor, body []byte) *graphql.Response {
	var params graphql.RawParams
	if err := decodeParams(body, &params); err != nil {
		return t.refuse(ctx, exec, err)
	}
	return t.execute(ctx, exec, &params, true)
}

// decodeJSON decodes one JSON value, keeping numbers as json.Number as gqlgen's
// Int and Float unmarshallers expect.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &Error{Code: CodeInvalidJSON, Message: "invalid JSON in request body: " + jsonProblem(err)}
	}
	if dec.More() {
		return &Error{Code: CodeInvalidJSON, Message: "invalid JSON in request body: unexpected data after the top-level value"}
	}
	return nil
}

// jsonProblem describes a decoding error without echoing the body, which may
// hold passwords.
func jsonProblem(err error) string {
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok {
		if te.Field == "" {
			return "expected " + jsonTypeOf(te.Type) + ", found " + te.Value
		}
		return "field \"" + te.Field + "\" must not be " + te.Value
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	if se, ok := errors.AsType[*json.SyntaxError](err); ok {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	return "malformed request"
}

// jsonTypeOf names the JSON value a Go type decodes: what a client sends.
func jsonTypeOf(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Pointer:
		return jsonTypeOf(t.Elem())
	}
	return "number"
}

func paramsFromURL(r *http.Request) (*graphql.RawParams, error) {
	q := r.URL.Query()
	params := &graphql.RawParams{Query: q.Get("query"), OperationName: q.Get("operationName")}
	if v := q.Get("variables"); v != "" {
		if err := decodeJSON([]byte(v), &params.Variables); err != nil {
			return nil, err
		}
	}
	return params, nil
}

func (t Transport) execute(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams, allowMutation bool) *graphql.Response {
	if t.Observe == nil && t.Tracer == nil {
		resp, _ := t.answer(ctx, exec, params, allowMutation)
		return resp
	}
	ctx, span := t.Tracer.Start(ctx, "GraphQL operation")
	start := time.Now()
	resp, op := t.answer(ctx, exec, params, allowMutation)
	if t.Observe != nil {
		t.Observe(op, resp, time.Since(start))
	}
	EndOperationSpan(span, op, params.OperationName, resp)
	return resp
}

// EndOperationSpan names an operation's span as OpenTelemetry's GraphQL
// conventions do ("query GetUser"), marks it failed by its first error's
// code (never its message, which may quote a value), and ends it.
func EndOperationSpan(span trace.Span, op, name string, resp *graphql.Response) {
	if !span.IsRecording() {
		return
	}
	attrs := []attribute.KeyValue{attribute.String("graphql.operation.type", op)}
	if name != "" {
		attrs = append(attrs, attribute.String("graphql.operation.name", name))
		span.SetName(op + " " + name)
	} else {
		span.SetName(op)
	}
	span.SetAttributes(attrs...)
	if resp != nil && len(resp.Errors) > 0 {
		code := ErrorCode(resp.Errors[0])
		tracing.Fail(span, code)
	}
	span.End()
}

// refuse answers a request refused before it could be read as an operation.
func (t Transport) refuse(ctx context.Context, exec graphql.GraphExecutor, err error) *graphql.Response {
	resp := errorResponse(ctx, exec, err)
	if t.Observe != nil {
		t.Observe("unknown", resp, 0)
	}
	return resp
}

// answer answers one operation, and names its type.
func (t Transport) answer(ctx context.Context, exec graphql.GraphExecutor, params *graphql.RawParams, allowMutation bool) (*graphql.Response, string) {
	const unknown = "unknown"
	if params.Query == "" {
		return errorResponse(ctx, exec, &Error{Code: CodeParseFailed, Message: `key "query" not found`}), unknown
	}
	if t.Planned != nil {
		var resp *graphql.Response
		if ctx, resp = t.Planned(ctx, params); resp != nil {
			return resp, "query" // only queries are planned
		}
	}
	ctx = graphql.StartOperationTrace(ctx) // a plan answers without gqlgen, which needs it
	start := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		return exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs), unknown
	}
	op := string(opCtx.Operation.Operation)
	switch opCtx.Operation.Operation {
	case ast.Mutation:
		if !allowMutation {
			// A GET can be triggered cross-site by a link or an image.
			return errorResponse(ctx, exec, &Error{Code: CodeValidationFailed, Message: "mutations are not allowed over GET; use POST"}), op
		}
	case ast.Subscription:
		if err := OneSubscriptionField(opCtx); err != nil {
			return errorResponse(ctx, exec, err), op
		}
		return errorResponse(ctx, exec, &Error{Code: CodeUnexpectedPayload, Message: "subscriptions are not supported over HTTP, use websockets instead"}), op
	}
	responses, ctx := exec.DispatchOperation(ctx, opCtx)
	return responses(ctx), op
}

// OneSubscriptionField is Hasura's rule that a subscription has one root
// field (after fragments, @skip and @include, and merging by alias).
func OneSubscriptionField(op *graphql.OperationContext) *Error {
	if len(graphql.CollectFields(op, op.Operation.SelectionSet, nil)) != 1 {
		return &Error{Code: CodeValidationFailed, Message: "subscriptions must select one top level field", Path: "$"}
	}
	return nil
}

func errorResponse(ctx context.Context, exec graphql.GraphExecutor, err error) *graphql.Response {
	return exec.DispatchError(ctx, gqlerror.List{gqlerror.WrapPath(nil, err)})
}

// AppendResponse writes resp as Hasura does: {"data": …} or {"errors": […]}.
// The data is gqlgen's own valid JSON and is copied as is, not re-encoded.
func AppendResponse(out []byte, resp *graphql.Response) []byte {
	if len(resp.Errors) > 0 {
		b, err := json.Marshal(struct {
			Errors gqlerror.List `json:"errors"`
		}{resp.Errors})
		if err != nil { // cannot happen: messages and codes are strings
			b = []byte(`{"errors":[{"message":"unexpected error","extensions":{"code":"unexpected","path":"$"}}]}`)
		}
		return append(out, b...)
	}
	out = append(out, `{"data":`...)
	out = append(out, resp.Data...)
	return append(out, '}')
}

// WriteError answers a request that fails before any GraphQL is executed,
// e.g. for wrong credentials, in Hasura's shape with HTTP 200.
func WriteError(w http.ResponseWriter, err error) {
	he, ok := errors.AsType[*Error](err)
	if !ok {
		he = internalError
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(AppendResponse(nil, &graphql.Response{Errors: gqlerror.List{he.gqlError()}}))
}
