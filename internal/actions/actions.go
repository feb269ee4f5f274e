// Package actions serves a Hasura project's Actions: custom queries and
// mutations (actions.yaml, actions.graphql) answered by the app's HTTP
// handlers. Each role's schema gets the actions it may run, their custom
// types and the relationships from their output objects to the tables it
// reads. A synchronous action's call POSTs Hasura's body to the handler
// and reads its JSON answer as the action's output type, field by field,
// as the request selects it. An asynchronous action's mutation writes the
// call to the durable log of internal/events and answers its id; a
// deliverer calls the handler, and <action>(id:) reads the result.
package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/tables"
	"github.com/freshgraph/freshgraph/internal/tracing"
	"github.com/freshgraph/freshgraph/internal/webhook"
)

// defaultTimeout is Hasura's for an action without one.
const defaultTimeout = 30 * time.Second

// answerLimit bounds the answer read from a handler.
const answerLimit = 16 << 20

// Root types' names.
const (
	queryRoot        = "query_root"
	mutationRoot     = "mutation_root"
	subscriptionRoot = "subscription_root"
)

// action is one action, resolved.
type action struct {
	name    string
	root    string               // of its call: query_root or mutation_root
	field   *ast.FieldDefinition // as actions.graphql declares it
	async   bool
	comment string
	url     string
	headers http.Header
	forward bool
	timeout time.Duration
	roles   map[string]bool
}

// fieldKey names a root field: its root type and name.
type fieldKey struct{ root, name string }

// relationship joins an output object type to a table: Mapping's From are
// the object's fields, To the table's columns.
type relationship struct {
	name string
	rel  tables.Relationship
}

// Service answers a project's actions.
type Service struct {
	// calls are the actions' own fields; results, an asynchronous
	// action's <action>(id:) in query_root and subscription_root.
	calls   map[fieldKey]*action
	results map[fieldKey]*action
	types   []*ast.Definition          // the custom types of actions.graphql
	typeOf  map[string]*ast.Definition // by name
	rels    map[string][]relationship  // by output object type
	client  *http.Client
	// Wake is called once an asynchronous action's call is written, for
	// the deliverer to take it at once.
	Wake      func()
	followers *followers
}

// New resolves md's actions (their handlers' {{VAR}}s and headers from
// the environment, their relationships against the catalogue); nil when
// there are none.
func New(md *metadata.Metadata, cat *tables.Catalogue, getenv func(string) string, tracer *tracing.Tracer) (*Service, error) {
	if md == nil || md.Actions == nil || md.Actions.SDL == nil || len(md.Actions.Actions) == 0 {
		return nil, nil
	}
	a := md.Actions
	s := &Service{calls: map[fieldKey]*action{}, results: map[fieldKey]*action{}, typeOf: map[string]*ast.Definition{},
		rels: map[string][]relationship{}, Wake: func() {}}
	for _, act := range a.Actions {
		root, sdlRoot := mutationRoot, "Mutation"
		if act.Definition.Type == "query" {
			root, sdlRoot = queryRoot, "Query"
		}
		resolved := &action{name: act.Name, root: root, field: metadata.ActionField(a.SDL, sdlRoot, act.Name),
			async: act.Definition.Kind == "asynchronous", comment: act.Comment,
			forward: act.Definition.ForwardClientHeaders, timeout: defaultTimeout, roles: map[string]bool{}}
		if t := act.Definition.Timeout; t != nil {
			resolved.timeout = time.Duration(*t) * time.Second
		}
		var err error
		if resolved.url, resolved.headers, err = webhook.Resolve(act.Definition.Handler, act.Definition.Headers, getenv); err != nil {
			return nil, fmt.Errorf("%s: action %s: %w", a.File, act.Name, err)
		}
		for _, p := range act.Permissions {
			resolved.roles[p.Role] = true
		}
		s.calls[fieldKey{root, act.Name}] = resolved
		if resolved.async {
			s.results[fieldKey{queryRoot, act.Name}] = resolved
			s.results[fieldKey{subscriptionRoot, act.Name}] = resolved
		}
	}
	for _, def := range a.SDL.Definitions {
		if def.Name != "Query" && def.Name != "Mutation" {
			s.types = append(s.types, def)
			s.typeOf[def.Name] = def
		}
	}
	for _, o := range a.CustomTypes.Objects {
		for _, r := range o.Relationships {
			rel, err := resolveRelationship(cat, r)
			if err != nil {
				return nil, fmt.Errorf("%s: custom type %s: relationship %s: %w", a.File, o.Name, r.Name, err)
			}
			s.rels[o.Name] = append(s.rels[o.Name], relationship{name: r.Name, rel: rel})
		}
	}
	s.client = webhook.NewClient(0, tracer) // each call is bounded by its timeout
	s.followers = newFollowers()
	return s, nil
}

// resolveRelationship finds r's table and columns in the catalogue.
func resolveRelationship(cat *tables.Catalogue, r metadata.ActionRelationship) (tables.Relationship, error) {
	target, ok := cat.BySQL(catalog.Name{Schema: r.RemoteTable.Schema, Table: r.RemoteTable.Name})
	if !ok {
		return tables.Relationship{}, fmt.Errorf("table %s is not tracked", r.RemoteTable)
	}
	rel := tables.Relationship{Name: r.Name, Array: r.Type == "array", Target: target}
	for _, field := range slices.Sorted(maps.Keys(r.FieldMapping)) {
		column := r.FieldMapping[field]
		if _, ok := target.ColumnBySQL(column); !ok {
			return tables.Relationship{}, fmt.Errorf("table %s has no column %s", r.RemoteTable, column)
		}
		rel.Mapping = append(rel.Mapping, tables.ColumnPair{From: field, To: column})
	}
	return rel, nil
}

// may reports whether role may run a (and read its results).
func (a *action) may(role string) bool { return role == string(auth.RoleAdmin) || a.roles[role] }

// SDL is the part of the schema of v's role that the actions make: the
// custom types (but the scalars the rest of the schema has, which exists
// says), the fields of the actions the role may run, an asynchronous
// action's result type and fields, and the relationships of output types
// to the tables the role reads; "" when it may run none.
func (s *Service) SDL(v *tables.View, exists func(typeName string) bool) string {
	if s == nil {
		return ""
	}
	doc := &ast.SchemaDocument{}
	byRoot := map[string]*ast.Definition{}
	add := func(root string, f *ast.FieldDefinition) {
		ext := byRoot[root]
		if ext == nil {
			ext = &ast.Definition{Kind: ast.Object, Name: root}
			byRoot[root] = ext
			doc.Extensions = append(doc.Extensions, ext)
		}
		ext.Fields = append(ext.Fields, f)
	}
	async := false
	for _, a := range sortedActions(s.calls) {
		if !a.may(v.Role) {
			continue
		}
		if !a.async {
			add(a.root, a.field)
			continue
		}
		async = true
		mutation := *a.field
		mutation.Type = ast.NonNullNamedType("uuid", nil)
		add(mutationRoot, &mutation)
		result := &ast.FieldDefinition{Name: a.name, Description: a.comment, Type: ast.NamedType(a.name, nil),
			Arguments: ast.ArgumentDefinitionList{{Name: "id", Type: ast.NonNullNamedType("uuid", nil)}}}
		add(queryRoot, result)
		add(subscriptionRoot, result)
		doc.Definitions = append(doc.Definitions, resultType(a))
	}
	if len(doc.Extensions) == 0 {
		return ""
	}
	for _, def := range s.types {
		if def.Kind == ast.Scalar && exists(def.Name) {
			continue
		}
		doc.Definitions = append(doc.Definitions, def)
	}
	if async {
		for _, name := range []string{"uuid", "timestamptz", "json"} {
			if !exists(name) && s.typeOf[name] == nil {
				doc.Definitions = append(doc.Definitions, &ast.Definition{Kind: ast.Scalar, Name: name})
			}
		}
	}
	var b strings.Builder
	formatter.NewFormatter(&b).FormatSchemaDocument(doc)
	for _, typeName := range slices.Sorted(maps.Keys(s.rels)) {
		var fields []string
		for _, r := range s.rels[typeName] {
			fields = append(fields, tables.RelationshipFields(v, r.name, r.rel.Target, r.rel.Array)...)
		}
		if len(fields) > 0 {
			fmt.Fprintf(&b, "\nextend type %s {\n%s\n}\n", typeName, strings.Join(fields, "\n"))
		}
	}
	return b.String()
}

// resultType is an asynchronous action's result, as Hasura names and
// describes it.
func resultType(a *action) *ast.Definition {
	return &ast.Definition{Kind: ast.Object, Name: a.name, Description: fmt.Sprintf("fields of action: %q", a.name),
		Fields: ast.FieldList{
			{Name: "created_at", Description: "the time at which this action was created", Type: ast.NonNullNamedType("timestamptz", nil)},
			{Name: "errors", Description: "errors related to the invocation", Type: ast.NamedType("json", nil)},
			{Name: "id", Description: "the unique id of an action", Type: ast.NonNullNamedType("uuid", nil)},
			{Name: "output", Description: "the output fields of this action", Type: a.field.Type},
		}}
}

// sortedActions are the actions by root type and name, so that each
// role's SDL is written the same way at every start.
func sortedActions(m map[fieldKey]*action) []*action {
	list := slices.Collect(maps.Values(m))
	slices.SortFunc(list, func(a, b *action) int { return strings.Compare(a.root+"."+a.name, b.root+"."+b.name) })
	return list
}

// Serves reports whether rootType's field name is an action's (or an
// asynchronous action's result) that role may run.
func (s *Service) Serves(rootType, name, role string) bool {
	if s == nil {
		return false
	}
	key := fieldKey{rootType, name}
	a, ok := s.calls[key]
	if !ok {
		a, ok = s.results[key]
	}
	return ok && a.may(role)
}

// Enqueues reports whether one of a mutation's fields writes an
// asynchronous action's call.
func (s *Service) Enqueues(fields []graphql.CollectedField) bool {
	if s == nil {
		return false
	}
	for _, f := range fields {
		if a, ok := s.calls[fieldKey{mutationRoot, f.Name}]; ok && a.async {
			return true
		}
	}
	return false
}

// Call is what an action's field is answered with beyond the field: the
// caller, its session variables as a handler receives them, for
// forward_client_headers the client's headers, the connection of the
// request (in its transaction, if any) and the caller's role's view of
// the tables, for relationships.
type Call struct {
	Caller           auth.Caller
	SessionVariables map[string]string
	ClientHeaders    http.Header
	DB               database.Conn
	View             *tables.View
}

// Run answers the action field f of rootType and returns its JSON: a
// synchronous action's output as f selects it, an asynchronous action's
// id, or an asynchronous action's result.
func (s *Service) Run(ctx context.Context, op *graphql.OperationContext, schema *ast.Schema, rootType string, f graphql.CollectedField, call Call) ([]byte, error) {
	if a, ok := s.results[fieldKey{rootType, f.Name}]; ok {
		return s.result(ctx, op, schema, a, f, call)
	}
	a := s.calls[fieldKey{rootType, f.Name}]
	input := f.ArgumentMap(op.Variables)
	if a.async {
		return s.enqueue(ctx, a, input, call)
	}
	body, err := json.Marshal(map[string]any{
		"action":            map[string]string{"name": a.name},
		"input":             input,
		"session_variables": call.SessionVariables,
		"request_query":     op.RawQuery,
	})
	if err != nil {
		return nil, err
	}
	answer, err := s.call(ctx, a, body, forwarded(a, call.ClientHeaders)).decoded()
	if err != nil {
		return nil, err
	}
	p := s.projector(op, schema)
	var out bytes.Buffer
	if err := p.value(&out, answer, f.Definition.Type, f.Selections, ""); err != nil {
		return nil, err
	}
	return p.fill(ctx, out.Bytes(), call)
}

// droppedHeaders are the client's headers never forwarded to a handler,
// as Hasura drops them (they describe the client's own connection), and
// the X-Forwarded- headers Hasura sends some of them as instead.
var (
	droppedHeaders = []string{"Content-Length", "Content-Md5", "User-Agent", "Host", "Origin", "Referer", "Accept",
		"Accept-Encoding", "Accept-Language", "Accept-Datetime", "Cache-Control", "Connection", "Dnt", "Content-Type"}
	forwardedAs = map[string]string{"Host": "X-Forwarded-Host", "User-Agent": "X-Forwarded-User-Agent", "Origin": "X-Forwarded-Origin"}
)

// forwarded are the client's headers a's handler gets: none unless it
// has forward_client_headers, and never the ones Hasura drops nor the
// X-Hasura- ones (the admin secret, the role and session variables, which
// the body carries).
func forwarded(a *action, client http.Header) http.Header {
	if !a.forward || len(client) == 0 {
		return nil
	}
	h := http.Header{}
	for name, values := range client {
		name = http.CanonicalHeaderKey(name)
		if as, ok := forwardedAs[name]; ok {
			h[as] = values
		}
		if !slices.Contains(droppedHeaders, name) && !strings.HasPrefix(name, "X-Hasura-") {
			h[name] = values
		}
	}
	return h
}

// reply is what a handler's call came to.
type reply struct {
	status   int // 0: no answer
	raw      []byte
	duration time.Duration
	err      error // no answer, or one too large to read
}

// call POSTs body to a's handler, with the client's forwarded headers.
func (s *Service) call(ctx context.Context, a *action, body []byte, client http.Header) reply {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return reply{err: unexpected("the action's handler URL is not valid")}
	}
	maps.Copy(req.Header, client)
	maps.Copy(req.Header, a.headers)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "freshgraph")
	resp, err := s.client.Do(req)
	if err != nil {
		// Hasura's words for a timeout and a refused connection alike.
		return reply{duration: time.Since(start), err: unexpected("http exception when calling webhook")}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, answerLimit+1))
	r := reply{status: resp.StatusCode, raw: raw, duration: time.Since(start)}
	if err != nil || len(raw) > answerLimit {
		r.err = unexpected("the action's handler's answer could not be read whole")
	}
	return r
}

// decoded is a 2xx answer, decoded; any other is an error.
func (r reply) decoded() (any, error) {
	if r.err != nil {
		return nil, r.err
	}
	var answer any
	decoder := json.NewDecoder(bytes.NewReader(r.raw))
	decoder.UseNumber()
	if decoder.Decode(&answer) != nil {
		return nil, unexpected("not a valid json response from webhook")
	}
	switch {
	case r.status >= 200 && r.status < 300:
		return answer, nil
	case r.status >= 400 && r.status < 500:
		return nil, handlerError(answer)
	}
	return nil, unexpected("internal error") // Hasura's words for a status neither 2xx nor 4xx
}

// handlerError is a 4xx answer {message, extensions} as a GraphQL error.
func handlerError(answer any) error {
	obj, _ := answer.(map[string]any)
	message, _ := obj["message"].(string)
	if message == "" {
		return unexpected("the action's handler refused the call without a message")
	}
	e := &hasura.HandlerError{Message: message}
	if ext, ok := obj["extensions"].(map[string]any); ok {
		e.Extensions = ext
	} else if code, ok := obj["code"].(string); ok {
		e.Extensions = map[string]any{"path": "$", "code": code}
	}
	return e
}

func unexpected(message string) error { return hasura.Errorf(hasura.CodeUnexpected, "%s", message) }

// errorJSON is err as an asynchronous action's errors, as Hasura keeps
// them: {path, error, code}.
func errorJSON(err error) json.RawMessage {
	out := map[string]any{"path": "$", "error": err.Error(), "code": string(hasura.CodeUnexpected)}
	var he *hasura.HandlerError
	var e *hasura.Error
	switch {
	case errors.As(err, &he):
		if code, ok := he.Extensions["code"].(string); ok {
			out["code"] = code
		}
	case errors.As(err, &e):
		out["code"] = string(e.Code)
	}
	raw, _ := json.Marshal(out)
	return raw
}
