package actions

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/events"
	"github.com/freshgraph/freshgraph/internal/hasura"
)

// enqueue writes an asynchronous action's call to the event log, in the
// request's transaction if it has one, and answers its id.
func (s *Service) enqueue(ctx context.Context, a *action, input map[string]any, call Call) ([]byte, error) {
	inputJSON, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	vars, err := json.Marshal(call.SessionVariables)
	if err != nil {
		return nil, err
	}
	var headers json.RawMessage
	if h := forwarded(a, call.ClientHeaders); len(h) > 0 {
		if headers, err = json.Marshal(h); err != nil {
			return nil, err
		}
	}
	id, err := events.LogAction(ctx, call.DB, a.name, inputJSON, vars, headers)
	if err != nil {
		return nil, err
	}
	return []byte(strconv.Quote(id)), nil
}

// AsyncActions are the asynchronous actions and their handlers' timeouts
// (events.ActionRunner).
func (s *Service) AsyncActions() map[string]time.Duration {
	out := map[string]time.Duration{}
	if s == nil {
		return out
	}
	for _, a := range s.calls {
		if a.async {
			out[a.name] = a.timeout
		}
	}
	return out
}

// RunAsync calls the handler of a logged call of the asynchronous action
// name (events.ActionRunner): Hasura's body (request_query null, as the
// call is not the request's), the forwarded headers; the answer is kept
// only if it fits the output type, whole.
func (s *Service) RunAsync(ctx context.Context, name string, input, sessionVariables, headers json.RawMessage) events.ActionResult {
	a := s.calls[fieldKey{mutationRoot, name}]
	if a == nil || !a.async {
		return events.ActionResult{Errors: errorJSON(unexpected("the action " + name + " is no longer in the metadata"))}
	}
	body, err := json.Marshal(map[string]any{
		"action":            map[string]string{"name": a.name},
		"input":             input,
		"session_variables": sessionVariables,
		"request_query":     nil,
	})
	if err != nil {
		return events.ActionResult{Errors: errorJSON(err)}
	}
	var client http.Header
	if len(headers) > 0 {
		_ = json.Unmarshal(headers, &client)
	}
	r := s.call(ctx, a, body, client)
	res := events.ActionResult{Status: r.status, Duration: r.duration, Response: string(r.raw), Cut: r.status == 0 && ctx.Err() != nil}
	if r.err != nil && r.status == 0 {
		res.Response = r.err.Error()
	}
	answer, err := r.decoded()
	if err == nil {
		err = s.checker().value(&bytes.Buffer{}, answer, a.field.Type, nil, "")
	}
	if err != nil {
		res.Errors = errorJSON(err)
		return res
	}
	res.Output = r.raw
	return res
}

// result answers <action>(id:): the call's id, created_at, errors and
// output, as f selects them; null for an id that is not the action's or,
// but for the admin, whose call had other session variables than the
// caller's (as Hasura, a caller reads only its own calls' results).
func (s *Service) result(ctx context.Context, op *graphql.OperationContext, schema *ast.Schema, a *action, f graphql.CollectedField, call Call) ([]byte, error) {
	id, _ := f.ArgumentMap(op.Variables)["id"].(string)
	if _, err := uuid.Parse(id); err != nil {
		return nil, &hasura.Error{Code: hasura.CodeDataException, Message: `invalid input syntax for type uuid: "` + id + `"`}
	}
	vars, err := json.Marshal(call.SessionVariables)
	if err != nil {
		return nil, err
	}
	c, err := events.ReadAction(ctx, call.DB, a.name, id, call.Caller.Role == auth.RoleAdmin, vars)
	if err != nil || c == nil {
		return []byte("null"), err
	}
	p := s.projector(op, schema)
	var out bytes.Buffer
	out.WriteByte('{')
	for i, sf := range graphql.CollectFields(op, f.Selections, []string{a.name}) {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(strconv.Quote(sf.Alias))
		out.WriteByte(':')
		switch sf.Name {
		case "__typename":
			out.WriteString(strconv.Quote(a.name))
		case "id":
			out.WriteString(strconv.Quote(c.ID))
		case "created_at":
			out.Write(c.CreatedAt)
		case "errors":
			out.Write(orNull(c.Errors))
		case "output":
			if !c.Done || c.Output == nil {
				out.WriteString("null")
				continue
			}
			var answer any
			decoder := json.NewDecoder(bytes.NewReader(c.Output))
			decoder.UseNumber()
			if err := decoder.Decode(&answer); err != nil {
				return nil, err
			}
			if err := p.value(&out, answer, sf.Definition.Type, sf.Selections, ""); err != nil {
				return nil, err
			}
		}
	}
	out.WriteByte('}')
	return p.fill(ctx, out.Bytes(), call)
}

func orNull(raw []byte) []byte {
	if raw == nil {
		return []byte("null")
	}
	return raw
}

// followers are the subscriptions to asynchronous actions' results, by
// the call's id.
type followers struct {
	mu   sync.Mutex
	byID map[string]map[*follower]struct{}
}

func newFollowers() *followers { return &followers{byID: map[string]map[*follower]struct{}{}} }

// follower is one subscription: it reads the result again when the call
// is done, and sends it if it changed.
type follower struct {
	ctx  context.Context
	read func(context.Context) ([]byte, error)
	send func([]byte, error)
	mu   sync.Mutex
	last []byte
}

// refresh reads the result and sends it unless it is the last one sent.
func (f *follower) refresh() {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.read(f.ctx)
	if f.ctx.Err() != nil {
		return
	}
	if err == nil && bytes.Equal(data, f.last) {
		return
	}
	f.last = data
	f.send(data, err)
}

// Follow keeps the subscription to <action>(id:) f: its result at once,
// then whenever the call is done (ActionsChannel, from any instance),
// until ctx ends. send gets the field's JSON or the error.
func (s *Service) Follow(ctx context.Context, op *graphql.OperationContext, schema *ast.Schema, f graphql.CollectedField, call Call, send func([]byte, error)) {
	a := s.results[fieldKey{subscriptionRoot, f.Name}]
	id, _ := f.ArgumentMap(op.Variables)["id"].(string)
	key := id
	if u, err := uuid.Parse(id); err == nil {
		key = u.String()
	}
	fl := &follower{ctx: ctx, send: send, read: func(ctx context.Context) ([]byte, error) {
		return s.result(ctx, op, schema, a, f, call)
	}}
	s.followers.mu.Lock()
	set := s.followers.byID[key]
	if set == nil {
		set = map[*follower]struct{}{}
		s.followers.byID[key] = set
	}
	set[fl] = struct{}{}
	s.followers.mu.Unlock()
	context.AfterFunc(ctx, func() {
		s.followers.mu.Lock()
		delete(set, fl)
		if len(s.followers.byID[key]) == 0 {
			delete(s.followers.byID, key) // set, or none: a set is made with its first follower
		}
		s.followers.mu.Unlock()
	})
	go fl.refresh()
}

// Listen follows ActionsChannel until ctx ends, refreshing the
// subscriptions to each call that is done; after a lost connection, every
// subscription, since calls done meanwhile were not announced.
func (s *Service) Listen(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger) {
	if s == nil || len(s.results) == 0 {
		return
	}
	l := database.Listener(pool, logger, "asynchronous actions")
	l.Handle(events.ActionsChannel, listener{s})
	_ = l.Listen(ctx)
}

type listener struct{ s *Service }

func (l listener) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	l.s.refresh(n.Payload)
	return nil
}

func (l listener) HandleBacklog(context.Context, string, *pgx.Conn) error {
	l.s.refresh("")
	return nil
}

// refresh refreshes the subscriptions to the call id ("": to every call).
func (s *Service) refresh(id string) {
	s.followers.mu.Lock()
	var due []*follower
	for callID, set := range s.followers.byID {
		if id == "" || callID == id {
			for f := range set {
				due = append(due, f)
			}
		}
	}
	s.followers.mu.Unlock()
	for _, f := range due {
		go f.refresh()
	}
}
