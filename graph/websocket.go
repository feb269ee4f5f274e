package graph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/live"
	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/tables"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

// Websocket is the GraphQL-over-WebSocket transport of /v1/graphql: the
// graphql-transport-ws protocol and the legacy graphql-ws (Apollo's
// subscriptions-transport-ws), for `subscription { session }` and for queries
// and mutations. It is written for many idle connections: after the upgrade
// a connection keeps one goroutine (its reader, on a shallow stack), small
// buffers, and no goroutine per subscription; its writer runs only while
// there is something to send, and pings for every connection come from one
// ticker. A live operation keeps at most its latest result unsent, and a
// stream waits for its client (opQueue); a client whose unsent messages
// fill the queue, or that takes writeWait to take one, is closed, so a slow
// client never holds up the others.
type Websocket struct {
	// Ctx ends every connection when the server stops.
	Ctx context.Context
	// Identify authenticates the headers a client sends in connection_init.
	Identify func(*http.Request) (auth.Caller, error)
	// AllowedOrigins are host patterns ("app.example.com", "*.example.com")
	// whose pages may connect; same-origin pages always may.
	AllowedOrigins []string
	// KeepAlive is how often idle connections are pinged.
	KeepAlive time.Duration
	// InitTimeout is how long a client has to send connection_init.
	InitTimeout time.Duration
	// MessageBytes bounds a message from the client, and so its frames.
	MessageBytes int64
	// Operations bounds the operations one connection runs at once.
	Operations int
	// Limits are applied to each query and mutation as to an HTTP request.
	Limits   limits.Config
	Resolver *Resolver
	// LiveQueries keeps subscription_root's table fields live.
	LiveQueries *livequery.Hub
	// Schemas give each caller its role's executor, whatever role the
	// upgrade request had.
	Schemas *Schemas
	// Metrics count the connections, subscriptions and operations.
	Metrics *metrics.Metrics
	// Tracer makes a span of each query and mutation (nil: none).
	Tracer *tracing.Tracer

	start sync.Once
	mu    sync.Mutex
	conns map[*wsConn]struct{}
}

var _ graphql.Transport = (*Websocket)(nil)

const (
	protocolTransportWS = "graphql-transport-ws"
	protocolLegacy      = "graphql-ws"
	// maxQueued is how many messages may wait for a slow client, and
	// maxQueuedBytes how many bytes (one message of any size may wait).
	maxQueued      = 64
	maxQueuedBytes = 4 << 20
	writeWait      = 10 * time.Second
	// maxCloseReason keeps a close frame, a control frame of at most 125
	// bytes with its 2-byte code, sendable whatever text a client sent.
	maxCloseReason = 123
)

// Supports takes WebSocket upgrades.
func (t *Websocket) Supports(r *http.Request) bool {
	return strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// checkOrigin admits clients without an Origin (not browsers), same-origin
// pages, and the allowed origins: the session cookie rides on the upgrade,
// so another site's page must not open one.
func (t *Websocket) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, pattern := range t.AllowedOrigins {
		if ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}

// Do upgrades the connection and hands it to a reader goroutine of its own;
// the HTTP handler's deep stack is not kept for the connection's lifetime.
func (t *Websocket) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.start.Do(func() {
		t.conns = map[*wsConn]struct{}{}
		go t.ping()
	})
	upgrader := websocket.Upgrader{
		ReadBufferSize:  1024,
		WriteBufferPool: writeBuffers, // idle connections hold no write buffer
		Subprotocols:    []string{protocolTransportWS, protocolLegacy},
		CheckOrigin:     t.checkOrigin,
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered (403 for a foreign origin)
	}
	ws.SetReadLimit(t.MessageBytes)
	// Operations on the socket see the client's address (it counts for the
	// sign-in limits), not the whole upgrade request, which an idle
	// connection need not keep; cookies cannot be set over a socket.
	ctx, cancel := context.WithCancel(withExchange(t.Ctx, r))
	c := &wsConn{
		t: t, ws: ws, exec: exec, ctx: ctx, cancel: cancel,
		legacy: ws.Subprotocol() == protocolLegacy,
		caller: auth.CallerFrom(r.Context()),
		subs:   map[string]context.CancelFunc{},
	}
	if ws.Subprotocol() == "" {
		c.closeWith(4406, "Subprotocol not acceptable")
		return
	}
	t.mu.Lock()
	t.conns[c] = struct{}{}
	t.mu.Unlock()
	context.AfterFunc(ctx, c.shut)
	context.AfterFunc(ctx, t.Metrics.WebSocketOpened())
	go c.read()
}

var writeBuffers = &sync.Pool{}

// ping sends every connection a keep-alive message each KeepAlive.
func (t *Websocket) ping() {
	tick := time.NewTicker(t.KeepAlive)
	defer tick.Stop()
	ping, ka := []byte(`{"type":"ping"}`), []byte(`{"type":"ka"}`)
	for {
		select {
		case <-t.Ctx.Done():
			return
		case <-tick.C:
		}
		t.mu.Lock()
		conns := make([]*wsConn, 0, len(t.conns))
		for c := range t.conns {
			conns = append(conns, c)
		}
		t.mu.Unlock()
		for _, c := range conns {
			if c.legacy {
				c.send(ka)
			} else {
				c.send(ping)
			}
		}
	}
}

// frames is what a connection needs of its socket (*websocket.Conn).
type frames interface {
	ReadMessage() (int, []byte, error)
	WriteMessage(messageType int, data []byte) error
	WriteControl(messageType int, data []byte, deadline time.Time) error
	SetWriteDeadline(t time.Time) error
	Close() error
}

// wsConn is one client connection.
type wsConn struct {
	t      *Websocket
	ws     frames
	exec   graphql.GraphExecutor
	ctx    context.Context
	cancel context.CancelFunc
	legacy bool

	mu          sync.Mutex
	caller      auth.Caller
	initialised bool
	subs        map[string]context.CancelFunc
	queue       []queued
	queuedBytes int // of the plain messages
	queuedPlain int // how many plain messages are queued
	writing     bool
	closed      bool
	// closing is a close to send once the queue is written.
	closing *closeFrame
}

// queued is a message waiting to be written, and the operation it is
// for (nil: none, a keep-alive or an ack).
type queued struct {
	msg []byte
	op  *opQueue
}

// opQueue is an operation's share of its connection's queue.
//
// A live operation's (a live query's, the session's, an action's:
// latestOnly) result waiting to be written is replaced by a newer one, as
// the client wants the current state, not every state it was too slow to
// read — so a burst of every operation's result, or a client slower than
// the changes, costs one message an operation, not a growing queue. A
// newer result that is what the client was last sent takes the waiting one
// out instead: never the same result twice.
//
// A stream's batches are each sent; while one waits (backlogged) the
// stream runs no further, so it goes at its client's pace.
type opQueue struct {
	latestOnly bool
	written    [sha256.Size]byte // the last result taken to be written
	hasWritten bool
	waiting    int    // its messages in the queue
	taken      func() // a stream's: called once none waits
}

type closeFrame struct {
	code   int
	reason string
}

type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func (c *wsConn) read() {
	defer c.cancel()
	timer := time.AfterFunc(c.t.InitTimeout, func() {
		c.mu.Lock()
		ok := c.initialised
		c.mu.Unlock()
		if !ok {
			c.closeWith(4408, "Connection initialisation timeout")
		}
	})
	defer timer.Stop()
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		var m wsMessage
		if err := json.Unmarshal(data, &m); err != nil {
			c.closeWith(4400, "Invalid message")
			return
		}
		switch m.Type {
		case "connection_init":
			if !c.init(m.Payload) {
				return
			}
		case "ping":
			c.sendJSON(wsMessage{Type: "pong"})
		case "pong":
		case "subscribe", "start":
			if m.ID == "" { // graphql-ws refuses it too: its answers could name no operation
				c.closeWith(4400, "Invalid message")
				return
			}
			c.mu.Lock()
			ok := c.initialised
			c.mu.Unlock()
			if !ok {
				c.closeWith(4401, "Unauthorized")
				return
			}
			if !c.start(m.ID, m.Payload) {
				return
			}
		case "complete", "stop":
			c.stop(m.ID)
		case "connection_terminate":
			return
		default:
			c.closeWith(4400, "Unknown message type "+m.Type)
			return
		}
	}
}

// init answers connection_init. Headers in its payload ({"headers": {…}},
// as Hasura's clients send them) authenticate the connection; without them
// the caller of the upgrade request stands.
func (c *wsConn) init(payload json.RawMessage) bool {
	c.mu.Lock()
	again := c.initialised
	c.mu.Unlock()
	if again && !c.legacy {
		c.closeWith(4429, "Too many initialisation requests")
		return false
	}
	// The legacy protocol may initialise again, with other headers, as
	// Hasura's own test client does before each operation; operations
	// started before keep the caller they started with.
	var p struct {
		Headers map[string]any `json:"headers"`
	}
	_ = json.Unmarshal(payload, &p)
	if len(p.Headers) > 0 {
		r := (&http.Request{Header: http.Header{}}).WithContext(c.ctx)
		for k, v := range p.Headers {
			if s, ok := v.(string); ok {
				r.Header.Set(k, s)
			}
		}
		caller, err := c.t.Identify(r)
		if err != nil {
			if c.legacy {
				c.sendJSON(map[string]any{"type": "connection_error", "payload": map[string]any{"message": err.Error()}})
			}
			c.closeWith(4403, "Forbidden")
			return false
		}
		c.mu.Lock()
		c.caller = caller
		c.exec = c.t.Schemas.Executor(caller.Role)
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.initialised = true
	c.mu.Unlock()
	c.sendJSON(wsMessage{Type: "connection_ack"})
	if c.legacy {
		c.send([]byte(`{"type":"ka"}`))
	}
	return true
}

// start runs an operation: the session subscription through the live hub,
// queries and mutations once.
func (c *wsConn) start(id string, payload json.RawMessage) bool {
	c.mu.Lock()
	if _, dup := c.subs[id]; dup {
		c.mu.Unlock()
		c.closeWith(4409, "Subscriber for "+id+" already exists")
		return false
	}
	if limit := c.t.Operations; limit > 0 && len(c.subs) >= limit {
		c.mu.Unlock()
		resp := c.exec.DispatchError(c.ctx, gqlerror.List{gqlerror.WrapPath(nil, &hasura.Error{
			Code:    hasura.CodeBadRequest,
			Message: fmt.Sprintf("websocket_operation_limit of %d reached: complete an operation before starting another", limit),
			Limit:   "websocket_operation_limit",
		})})
		c.t.Metrics.ObserveRequest("unknown", resp, 0)
		c.sendErrors(id, resp)
		return true
	}
	ctx, cancel := context.WithCancel(auth.WithCaller(c.ctx, c.caller))
	c.subs[id] = cancel
	c.mu.Unlock()

	var params graphql.RawParams
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&params); err != nil {
		c.t.Metrics.ObserveRequest("unknown", c.fail(ctx, id, &hasura.Error{Code: hasura.CodeInvalidJSON, Message: "invalid subscribe payload"}), 0)
		return true
	}
	start := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	ctx = graphql.StartOperationTrace(ctx)
	opCtx, errs := c.exec.CreateOperationContext(ctx, &params)
	if errs != nil {
		resp := c.exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs)
		c.t.Metrics.ObserveRequest("unknown", resp, 0)
		c.sendErrors(id, resp)
		c.stop(id)
		return true
	}
	if opCtx.Operation.Operation != ast.Subscription {
		go func() {
			ctx, cancel := c.t.Limits.Start(ctx, auth.CallerFrom(ctx).Role)
			defer cancel()
			ctx, span := c.t.Tracer.Start(ctx, "GraphQL operation")
			start := time.Now()
			responses, ctx := c.exec.DispatchOperation(ctx, opCtx)
			resp := responses(ctx)
			c.t.Metrics.ObserveRequest(string(opCtx.Operation.Operation), resp, time.Since(start))
			hasura.EndOperationSpan(span, string(opCtx.Operation.Operation), opCtx.Operation.Name, resp)
			c.sendResult(id, resp)
			c.complete(id)
		}()
		return true
	}
	if err := hasura.OneSubscriptionField(opCtx); err != nil {
		c.t.Metrics.ObserveRequest("subscription", c.fail(ctx, id, err), 0)
		return true
	}
	fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil)
	ctx = graphql.WithOperationContext(ctx, opCtx)
	c.t.Metrics.ObserveRequest("subscription", &graphql.Response{}, 0)
	if rf, ok := c.t.Schemas.View(auth.CallerFrom(ctx).Role).SubscriptionField(fields[0].Name); ok {
		kind := metrics.LiveQuery
		if rf.Kind == tables.SelectStream {
			kind = metrics.Streaming
		}
		context.AfterFunc(ctx, c.t.Metrics.SubscriptionStarted(kind))
		c.followTable(ctx, opCtx, rf, fields[0], id)
		return true
	}
	context.AfterFunc(ctx, c.t.Metrics.SubscriptionStarted(metrics.LiveQuery))
	if c.t.Resolver.Actions.Serves("subscription_root", fields[0].Name, string(auth.CallerFrom(ctx).Role)) {
		c.followAction(ctx, opCtx, fields[0], id)
		return true
	}
	if c.t.Schemas.Original(fields[0].Name) != "session" {
		c.fail(ctx, id, &hasura.Error{Code: hasura.CodeValidationFailed, Message: "subscription must not select an introspection top level field", Path: "$"})
		return true
	}
	c.followSession(ctx, opCtx, fields[0], id)
	return true
}

// followTable subscribes id to a table's root field: the live query hub
// sends each answer that differs from the last (a stream: each batch).
func (c *wsConn) followTable(ctx context.Context, op *graphql.OperationContext, rf tables.RootField, f graphql.CollectedField, id string) {
	caller := auth.CallerFrom(ctx)
	q, err := engine.CompileLive(op, rf, f, c.t.Schemas.View(caller.Role), caller, c.t.Limits.ResponseBytes)
	if err != nil {
		c.fail(ctx, id, err)
		return
	}
	idJSON, _ := json.Marshal(id)
	head := `{"id":` + string(idJSON) + `,"type":"` + c.resultType() + `","payload":`
	alias := strconv.Quote(f.Alias)
	var started, refused atomic.Bool
	share := &opQueue{latestOnly: len(q.Position) == 0} // a stream's batches are each sent
	var sub atomic.Pointer[livequery.Subscription]
	var backlogged func() bool // a live query's results are folded, never held back
	if !share.latestOnly {
		share.taken = func() {
			if s := sub.Load(); s != nil {
				s.Taken()
			}
		}
		backlogged = func() bool { return c.backlogged(share) }
	}
	subscribed := c.t.LiveQueries.Subscribe(ctx, caller.Role, q, func(r livequery.Result) {
		if refused.Load() {
			// A run that was under way when the subscription was refused:
			// nothing follows the refusal's complete.
			return
		}
		if first := !started.Swap(true); first && r.Err != nil {
			// A query that fails at once is refused, as Hasura refuses a
			// subscription whose first run fails; later failures are
			// results, and the subscription goes on.
			refused.Store(true)
			c.fail(ctx, id, gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, r.Err))
			return
		}
		msg := make([]byte, 0, len(head)+len(r.Data)+len(alias)+16)
		msg = append(msg, head...)
		if r.Err != nil {
			// As Hasura sends a failed run: the data null, the errors.
			resp := c.exec.DispatchError(ctx, gqlerror.List{gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, r.Err)})
			errs, _ := json.Marshal(resp.Errors)
			msg = append(msg, `{"data":null,"errors":`...)
			msg = append(msg, errs...)
			msg = append(msg, "}}"...)
		} else {
			msg = append(msg, `{"data":{`...)
			msg = append(msg, alias...)
			msg = append(msg, ':')
			msg = append(msg, r.Data...)
			msg = append(msg, "}}}"...)
		}
		c.enqueue(msg, share, nil)
	}, backlogged)
	if subscribed != nil && !share.latestOnly {
		sub.Store(subscribed)
		subscribed.Taken() // a batch taken before the store would not have said so
	}
}

// followAction subscribes id to an asynchronous action's result: sent at
// once, and again when the call is done.
func (c *wsConn) followAction(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, id string) {
	idJSON, _ := json.Marshal(id)
	head := `{"id":` + string(idJSON) + `,"type":"` + c.resultType() + `","payload":{"data":{` + strconv.Quote(f.Alias) + `:`
	var started, refused atomic.Bool
	share := &opQueue{latestOnly: true}
	c.t.Schemas.FollowAction(ctx, op, f, func(data []byte, err error) {
		if refused.Load() {
			return
		}
		if first := !started.Swap(true); first && err != nil {
			refused.Store(true)
			c.fail(ctx, id, gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, err))
			return
		}
		if err != nil {
			resp := c.exec.DispatchError(ctx, gqlerror.List{gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, err)})
			errs, _ := json.Marshal(resp.Errors)
			c.enqueue([]byte(`{"id":`+string(idJSON)+`,"type":"`+c.resultType()+`","payload":{"data":null,"errors":`+string(errs)+`}}`), share, nil)
			return
		}
		c.enqueue([]byte(head+string(data)+"}}}"), share, nil)
	})
}

// followSession subscribes id to the caller's session: its user is read by
// the hub (once per change and selection), and each state is rendered as the
// session query renders it.
func (c *wsConn) followSession(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, id string) {
	caller := auth.CallerFrom(ctx)
	shape, err := newSessionShape(op, f, c.t.Schemas.View(caller.Role), caller)
	if err != nil {
		c.fail(ctx, id, err)
		return
	}
	src := live.Source{Caller: caller, User: shape.user}
	for _, sf := range shape.fields {
		src.WithExpires = src.WithExpires || sf.Name == "expires"
	}
	alias, _ := json.Marshal(f.Alias)
	var wasLive atomic.Bool
	share := &opQueue{latestOnly: true}
	c.t.Resolver.Live.Subscribe(ctx, src, func(sess *authjs.Session) {
		// The connection's own cookie session ended (signed out, revoked,
		// expired): the connection is closed once its null is written, as
		// every operation on it runs as that session.
		ended := sess == nil && caller.SessionToken != "" && wasLive.Load()
		wasLive.Store(sess != nil)
		data := []byte("null")
		if sess != nil {
			var err error
			if data, err = shape.render(sess); err != nil {
				return
			}
		}
		var msg bytes.Buffer
		idJSON, _ := json.Marshal(id)
		msg.WriteString(`{"id":`)
		msg.Write(idJSON)
		msg.WriteString(`,"type":"` + c.resultType() + `","payload":{"data":{`)
		msg.Write(alias)
		msg.WriteByte(':')
		msg.Write(data)
		msg.WriteString("}}}")
		if ended {
			c.sendThenClose(msg.Bytes(), 4401, "Unauthorized: the session ended")
			return
		}
		c.enqueue(msg.Bytes(), share, nil)
	})
}

func (c *wsConn) resultType() string {
	if c.legacy {
		return "data"
	}
	return "next"
}

// sendResult sends one response in Hasura's shape (data or errors).
func (c *wsConn) sendResult(id string, resp *graphql.Response) {
	if resp == nil {
		return
	}
	idJSON, _ := json.Marshal(id)
	msg := []byte(`{"id":` + string(idJSON) + `,"type":"` + c.resultType() + `","payload":`)
	msg = hasura.AppendResponse(msg, resp)
	c.send(append(msg, '}'))
}

// sendErrors reports a request that could not run: graphql-transport-ws has
// an error message for it; the legacy protocol gets the errors as data.
func (c *wsConn) sendErrors(id string, resp *graphql.Response) {
	if c.legacy {
		c.sendResult(id, resp)
		c.sendJSON(wsMessage{ID: id, Type: "complete"})
		return
	}
	payload, _ := json.Marshal(resp.Errors)
	c.sendJSON(wsMessage{ID: id, Type: "error", Payload: payload})
}

func (c *wsConn) fail(ctx context.Context, id string, err error) *graphql.Response {
	resp := c.exec.DispatchError(ctx, gqlerror.List{gqlerror.WrapPath(nil, err)})
	c.sendErrors(id, resp)
	c.stop(id)
	return resp
}

// complete ends id from the server's side.
func (c *wsConn) complete(id string) {
	c.sendJSON(wsMessage{ID: id, Type: "complete"})
	c.stop(id)
}

// stop ends the operation id.
func (c *wsConn) stop(id string) {
	c.mu.Lock()
	cancel := c.subs[id]
	delete(c.subs, id)
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
}

func (c *wsConn) sendJSON(v any) {
	b, err := json.Marshal(v)
	if err == nil {
		c.send(b)
	}
}

// send queues msg and starts the writer if it is not running. It never
// blocks; a client with more than maxQueued messages beyond one an
// operation (or maxQueuedBytes) unsent is too slow and is closed.
func (c *wsConn) send(msg []byte) { c.enqueue(msg, nil, nil) }

// sendThenClose queues msg, and closes the connection with code once it
// and every message before it are written.
func (c *wsConn) sendThenClose(msg []byte, code int, reason string) {
	c.enqueue(msg, nil, &closeFrame{code: code, reason: reason})
}

// enqueue queues msg for op (nil: none): a live operation's in place of its
// result still waiting, if there is one.
func (c *wsConn) enqueue(msg []byte, op *opQueue, closing *closeFrame) {
	c.mu.Lock()
	if closing != nil {
		c.closing = closing
	}
	if c.closed {
		c.mu.Unlock()
		return
	}
	if op != nil && op.latestOnly {
		for i := len(c.queue) - 1; i >= 0 && op.waiting > 0; i-- {
			if c.queue[i].op != op {
				continue
			}
			if op.hasWritten && sha256.Sum256(msg) == op.written {
				c.queue = slices.Delete(c.queue, i, i+1) // back to what the client has
				op.waiting--
			} else {
				c.queue[i].msg = msg
			}
			c.mu.Unlock()
			return
		}
	} else {
		// A stream has one batch waiting at most (backlogged), bar a
		// write's run: beyond one an operation, the client is slow.
		if c.queuedPlain >= maxQueued+len(c.subs) || c.queuedPlain > 0 && c.queuedBytes+len(msg) > maxQueuedBytes {
			c.mu.Unlock()
			c.closeWith(websocket.ClosePolicyViolation, "client too slow: messages not read")
			return
		}
		c.queuedPlain++
		c.queuedBytes += len(msg)
	}
	if op != nil {
		op.waiting++
	}
	c.queue = append(c.queue, queued{msg: msg, op: op})
	if !c.writing {
		c.writing = true
		go c.write()
	}
	c.mu.Unlock()
}

// backlogged reports whether op has a message not yet taken for writing.
func (c *wsConn) backlogged(op *opQueue) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return op.waiting > 0
}

// write sends the queue until it is empty, then stops.
func (c *wsConn) write() {
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue, c.queuedBytes, c.queuedPlain = nil, 0, 0
		// Taken is as good as sent: a result that comes while these are
		// written is compared with them (if a write fails, the
		// connection ends).
		var taken []func()
		for _, m := range batch {
			if m.op == nil {
				continue
			}
			if m.op.waiting--; m.op.waiting == 0 && m.op.taken != nil {
				taken = append(taken, m.op.taken)
			}
			if m.op.latestOnly {
				m.op.written, m.op.hasWritten = sha256.Sum256(m.msg), true
			}
		}
		if len(batch) == 0 || c.closed {
			c.writing = false
			closing := c.closing
			c.mu.Unlock()
			if closing != nil && len(batch) == 0 {
				c.closeWith(closing.code, closing.reason)
			}
			return
		}
		c.mu.Unlock()
		for _, f := range taken {
			f() // the stream may run on while these are written
		}
		for _, m := range batch {
			_ = c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.TextMessage, m.msg); err != nil {
				c.cancel()
				return
			}
		}
	}
}

// closeWith closes the connection with a protocol close code.
func (c *wsConn) closeWith(code int, reason string) {
	if len(reason) > maxCloseReason {
		reason = strings.ToValidUTF8(reason[:maxCloseReason], "")
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.cancel()
}

// shut releases the connection once its context ends (client gone, server
// stopping, or closed by the server): its operations end with it.
func (c *wsConn) shut() {
	c.mu.Lock()
	c.closed = true
	subs := c.subs
	c.subs = nil
	c.mu.Unlock()
	for _, cancel := range subs {
		cancel()
	}
	_ = c.ws.Close()
	c.t.mu.Lock()
	delete(c.t.conns, c)
	c.t.mu.Unlock()
}
