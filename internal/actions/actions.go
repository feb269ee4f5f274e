// Package actions serves a Hasura project's synchronous Actions: custom
// queries and mutations (actions.yaml, actions.graphql) answered by the
// app's HTTP handlers. Each role's schema gets the actions it may run and
// their custom types; a call POSTs Hasura's body to the handler and reads
// its JSON answer as the action's output type, field by field, as the
// request selects it.
package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/webhook"
)

// defaultTimeout is Hasura's for an action without one.
const defaultTimeout = 30 * time.Second

// answerLimit bounds the answer read from a handler.
const answerLimit = 16 << 20

// action is one synchronous action, resolved.
type action struct {
	name    string
	root    string // query_root or mutation_root
	field   *ast.FieldDefinition
	url     string
	headers http.Header
	forward bool
	timeout time.Duration
	roles   map[string]bool
}

// fieldKey names an action's field: its root type and name.
type fieldKey struct{ root, name string }

// Service answers a project's synchronous actions.
type Service struct {
	byField map[fieldKey]*action
	types   []*ast.Definition // the custom types of actions.graphql
	client  *http.Client
}

// New resolves md's synchronous actions (their handlers' {{VAR}}s and
// headers from the environment); nil when there are none.
func New(md *metadata.Metadata, getenv func(string) string) (*Service, error) {
	if md == nil || md.Actions == nil || md.Actions.SDL == nil {
		return nil, nil
	}
	a := md.Actions
	s := &Service{byField: map[fieldKey]*action{}}
	for _, act := range a.Actions {
		if act.Definition.Kind == "asynchronous" {
			continue
		}
		root, sdlRoot := "mutation_root", "Mutation"
		if act.Definition.Type == "query" {
			root, sdlRoot = "query_root", "Query"
		}
		resolved := &action{name: act.Name, root: root, field: metadata.ActionField(a.SDL, sdlRoot, act.Name),
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
		s.byField[fieldKey{root, act.Name}] = resolved
	}
	if len(s.byField) == 0 {
		return nil, nil
	}
	for _, def := range a.SDL.Definitions {
		if def.Name != "Query" && def.Name != "Mutation" {
			s.types = append(s.types, def)
		}
	}
	s.client = webhook.NewClient(0) // each call is a request's, bounded by its timeout
	return s, nil
}

// may reports whether role may run a.
func (a *action) may(role string) bool { return role == "admin" || a.roles[role] }

// SDL is the part of role's schema the actions make: the custom types
// (but the scalars the rest of the schema has, which exists says), and
// the fields of the actions the role may run; "" when it may run none.
func (s *Service) SDL(role string, exists func(typeName string) bool) string {
	if s == nil {
		return ""
	}
	doc := &ast.SchemaDocument{}
	byRoot := map[string]*ast.Definition{}
	for _, a := range sortedActions(s.byField) {
		if !a.may(role) {
			continue
		}
		ext := byRoot[a.root]
		if ext == nil {
			ext = &ast.Definition{Kind: ast.Object, Name: a.root}
			byRoot[a.root] = ext
			doc.Extensions = append(doc.Extensions, ext)
		}
		ext.Fields = append(ext.Fields, a.field)
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
	var b strings.Builder
	formatter.NewFormatter(&b).FormatSchemaDocument(doc)
	return b.String()
}

// sortedActions are the actions by root type and name, so that each
// role's SDL is written the same way at every start.
func sortedActions(m map[fieldKey]*action) []*action {
	list := slices.Collect(maps.Values(m))
	slices.SortFunc(list, func(a, b *action) int { return strings.Compare(a.root+"."+a.name, b.root+"."+b.name) })
	return list
}

// Serves reports whether rootType's field name is an action role may run.
func (s *Service) Serves(rootType, name, role string) bool {
	if s == nil {
		return false
	}
	a, ok := s.byField[fieldKey{rootType, name}]
	return ok && a.may(role)
}

// Call is what a handler is called with beyond the field: the caller's
// session variables and, for forward_client_headers, the client's headers.
type Call struct {
	SessionVariables map[string]string
	ClientHeaders    http.Header
}

// Run calls the handler of the action f of rootType and returns its answer
// as f selects it, in JSON.
func (s *Service) Run(ctx context.Context, op *graphql.OperationContext, schema *ast.Schema, rootType string, f graphql.CollectedField, call Call) ([]byte, error) {
	a := s.byField[fieldKey{rootType, f.Name}]
	body, err := json.Marshal(map[string]any{
		"action":            map[string]string{"name": a.name},
		"input":             f.ArgumentMap(op.Variables),
		"session_variables": call.SessionVariables,
		"request_query":     op.RawQuery,
	})
	if err != nil {
		return nil, err
	}
	answer, err := s.call(ctx, a, body, call.ClientHeaders)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	p := projector{op: op, schema: schema}
	if err := p.value(&out, answer, f.Definition.Type, f.Selections, ""); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// droppedHeaders are the client's headers never forwarded to a handler,
// as Hasura drops them (they describe the client's own connection).
var droppedHeaders = []string{"Content-Length", "Content-Md5", "User-Agent", "Host", "Origin", "Referer", "Accept",
	"Accept-Encoding", "Accept-Language", "Accept-Datetime", "Cache-Control", "Connection", "Dnt", "Content-Type"}

// call POSTs body to a's handler and returns its 2xx answer, decoded.
func (s *Service) call(ctx context.Context, a *action, body []byte, client http.Header) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, a.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return nil, unexpected("the action's handler URL is not valid")
	}
	if a.forward {
		for name, values := range client {
			if !slices.Contains(droppedHeaders, http.CanonicalHeaderKey(name)) {
				req.Header[http.CanonicalHeaderKey(name)] = values
			}
		}
	}
	for name, values := range a.headers {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "freshgraph")
	resp, err := s.client.Do(req)
	if err != nil {
		var netErr net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
			return nil, unexpected("http exception when calling webhook") // as Hasura, a timeout too
		}
		return nil, unexpected("http exception when calling webhook")
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, answerLimit+1))
	if err != nil || len(raw) > answerLimit {
		return nil, unexpected("the action's handler's answer could not be read whole")
	}
	var answer any
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	if decoder.Decode(&answer) != nil {
		return nil, unexpected("not a valid json response from webhook")
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return answer, nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
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
