package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/live"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/tablestest"
)

// fuzzSocket is a client that sends its frames one after another, then
// waits until idle (or the server has closed the connection), then goes
// away. It keeps what the server sends.
type fuzzSocket struct {
	in   [][]byte
	idle func() bool

	mu     sync.Mutex
	sent   [][]byte
	closes [][]byte // close frames' payloads
	hung   bool     // operations still running 10 s after the last frame

	closed chan struct{}
	once   sync.Once
}

var _ frames = (*fuzzSocket)(nil)

func (s *fuzzSocket) ReadMessage() (int, []byte, error) {
	select {
	case <-s.closed:
		return 0, nil, errors.New("closed")
	default:
	}
	if len(s.in) > 0 {
		m := s.in[0]
		s.in = s.in[1:]
		return websocket.TextMessage, m, nil
	}
	deadline := time.Now().Add(10 * time.Second)
	for !s.idle() {
		if time.Now().After(deadline) {
			s.mu.Lock()
			s.hung = true
			s.mu.Unlock()
			break
		}
		select {
		case <-s.closed:
			return 0, nil, errors.New("closed")
		case <-time.After(time.Millisecond):
		}
	}
	return 0, nil, io.EOF
}

func (s *fuzzSocket) WriteMessage(_ int, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, bytes.Clone(data))
	return nil
}

// maxControlPayload is the most a WebSocket control frame may carry (RFC
// 6455 5.5); gorilla's WriteControl refuses a longer one.
const maxControlPayload = 125

func (s *fuzzSocket) WriteControl(messageType int, data []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if messageType == websocket.CloseMessage {
		s.closes = append(s.closes, bytes.Clone(data))
	}
	if len(data) > maxControlPayload {
		return errors.New("websocket: invalid control frame")
	}
	return nil
}

func (s *fuzzSocket) SetWriteDeadline(time.Time) error { return nil }

func (s *fuzzSocket) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// countingExecutor counts the queries and mutations running: each is
// dispatched on a goroutine of its own once CreateOperationContext has
// accepted it, and has answered when its response handler returns.
type countingExecutor struct {
	graphql.GraphExecutor
	running atomic.Int64
}

func (e *countingExecutor) CreateOperationContext(ctx context.Context, params *graphql.RawParams) (*graphql.OperationContext, gqlerror.List) {
	op, errs := e.GraphExecutor.CreateOperationContext(ctx, params)
	if errs == nil && op.Operation.Operation != ast.Subscription {
		e.running.Add(1)
	}
	return op, errs
}

func (e *countingExecutor) DispatchOperation(ctx context.Context, op *graphql.OperationContext) (graphql.ResponseHandler, context.Context) {
	responses, ctx := e.GraphExecutor.DispatchOperation(ctx, op)
	return func(ctx context.Context) *graphql.Response {
		defer e.running.Add(-1)
		return responses(ctx)
	}, ctx
}

// unreachablePool is a pool whose every connection attempt is refused at
// once: an operation runs up to its first statement, which fails.
func unreachablePool(t testing.TB) *pgxpool.Pool {
	pool, err := pgxpool.New(context.Background(), "postgres://fuzz@127.0.0.1:1/fuzz?sslmode=disable&connect_timeout=1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// wsCallers are who a connection may be: by its upgrade request, or by the
// headers of its connection_init.
var wsCallers = []auth.Caller{
	{Role: auth.RoleAnonymous},
	{Role: auth.RoleAdmin},
	{Role: auth.RoleUser, SessionToken: "session-token"},
	{Role: auth.RoleUser, UserID: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", Expires: time.Now().Add(24 * time.Hour)},
}

// Flags of FuzzWebsocket's mode byte; bits 1-3 pick what Identify answers
// (0: an error, else wsCallers[n-1 mod 4]), bits 4-5 the upgrade's caller.
const (
	modeLegacy = 1 << 0
	modeNoInit = 1 << 6
)

// FuzzWebsocket runs a connection, over a fake socket and the server's
// executor (with a database that refuses every connection), through a
// connection_init with the fuzzed payload, a subscribe (or start) with the
// fuzzed payload, then the fuzzed frames of rest, one per line. It checks
// that the connection never panics, nor does a resolver; that it ends, with
// every goroutine it started, once the client goes; that no operation hangs;
// that every message sent is a JSON message of the protocol, an operation's
// only after connection_ack and only for an id the client sent; and that
// every close frame is one a client can receive.
func FuzzWebsocket(f *testing.F) {
	const (
		sessionSub = `{"query": "subscription { session { expires user { id name email } } }"}`
		byPK       = `{"query": "query Q($id: uuid!) { users_by_pk(id: $id) { id name } }", "variables": {"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}`
		headers    = `{"headers": {"Authorization": "Bearer x.y.z", "X-Hasura-Role": "user"}}`
	)
	for _, seed := range []struct {
		mode            byte
		init, sub, rest string
	}{
		{0b0010, headers, sessionSub, `{"type":"ping"}` + "\n" + `{"id":"1","type":"complete"}`},
		{0b0011, headers, sessionSub, `{"id":"1","type":"stop"}` + "\n" + `{"type":"connection_terminate"}`},
		{0b0100, `{}`, byPK, `{"id":"2","type":"subscribe","payload":{"query":"{ __typename session { expires } }"}}`},
		{0b0110, `{"headers": {"Cookie": "a=b"}}`, `{"query": "{ users(where: {name: {_eq: \"x\"}}, limit: 5) { id } }"}`, ``},
		{0b1000, headers, `{"query": "mutation ($e: String!, $p: String!) { signIn(email: $e, password: $p) { expires } }", "variables": {"e": "a@example.com", "p": "hunter2hunter2"}}`, ``},
		{0b1010, ``, `{"query": "mutation { signOut updateUserProfile(name: \"n\") { id } }"}`, ``},
		{0b0000, headers, sessionSub, ``},
		{0b0001, headers, sessionSub, ``},
		{0b0010, headers, `{"query": "subscription { session { expires } __typename }"}`, ``},
		{0b0010, headers, `{"query": "subscription S { ...F } fragment F on subscription_root { s: session { user { id } u2: user { name } } }", "operationName": "S"}`, ``},
		{0b0010, headers, `{"query": "{ __schema { queryType { name } } }"}`, ``},
		{0b0010, headers, `{"query": 1}`, ``},
		{0b0010, headers, `not json`, ``},
		{0b0010, headers, `{"query": "{"}`, ``},
		{0b0010, headers, sessionSub, `{"id":"1","type":"subscribe","payload":{}}`},
		{0b0010, headers, sessionSub, `{"type":"connection_init"}`},
		{0b0010, headers, sessionSub, `{"type":"unknown"}`},
		{0b0010, headers, sessionSub, `{not json`},
		{0b0010, `{"headers": {"Authorization": 5, "": "x"}}`, sessionSub, `{"type":"pong"}`},
		{0b0010, `[1, 2]`, sessionSub, ``},
		{modeNoInit | 0b0010, ``, sessionSub, ``},
		{0b110010, headers, sessionSub, `{"id":"3","type":"start","payload":` + byPK + `}`},
		// Close reasons that quote the client at length.
		{0b0010, headers, sessionSub, `{"type":"` + strings.Repeat("t", 110) + `"}`},
		{0b0010, headers, sessionSub, `{"id":"` + strings.Repeat("i", 100) + `","type":"subscribe","payload":{"query":"subscription { session { expires } }"}}` + "\n" +
			`{"id":"` + strings.Repeat("i", 100) + `","type":"subscribe","payload":{}}`},
	} {
		f.Add(seed.mode, []byte(seed.init), []byte(seed.sub), []byte(seed.rest))
	}

	log := &tablestest.PanicLog{}
	logger := slog.New(log)
	pool := unreachablePool(f)
	cfg := session.Config{Secrets: []string{strings.Repeat("websocket-fuzz-secret-", 2)}, MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour}
	resolver := &Resolver{DB: pool, Accounts: accounts.NewService(pool, cfg), Live: live.NewHub(pool, logger)}
	schemas := testSchemas(f, log, resolver)
	exec := schemas.Executor(auth.RoleAnonymous)

	f.Fuzz(func(t *testing.T, mode byte, initPayload, subPayload, rest []byte) {
		baseline := runtime.NumGoroutine()
		legacy := mode&modeLegacy != 0
		subscribe := "subscribe"
		if legacy {
			subscribe = "start"
		}
		var in [][]byte
		if mode&modeNoInit == 0 {
			if len(initPayload) == 0 {
				in = append(in, []byte(`{"type":"connection_init"}`))
			} else {
				in = append(in, []byte(`{"type":"connection_init","payload":`+string(initPayload)+`}`))
			}
		}
		in = append(in, []byte(`{"id":"1","type":"`+subscribe+`","payload":`+string(subPayload)+`}`))
		if len(rest) > 0 {
			in = append(in, bytes.Split(rest, []byte("\n"))...)
		}
		ids := clientIDs(in)

		counting := &countingExecutor{GraphExecutor: exec}
		sock := &fuzzSocket{in: in, closed: make(chan struct{})}
		tr := &Websocket{
			Ctx: context.Background(),
			Identify: func(*http.Request) (auth.Caller, error) {
				n := int(mode>>1) & 7
				if n == 0 {
					return auth.Caller{}, errors.New("malformed Authorization header")
				}
				return wsCallers[(n-1)%len(wsCallers)], nil
			},
			InitTimeout: 10 * time.Second,
			Operations:  3,
			Limits:      limits.Defaults(),
			Resolver:    resolver,
			Schemas:     schemas,
			conns:       map[*wsConn]struct{}{},
		}
		// As Websocket.Do sets a connection up.
		upgrade := httptest.NewRequest(http.MethodGet, "/v1/graphql", nil)
		upgrade.RemoteAddr = "192.0.2.1:1234"
		ctx, cancel := context.WithCancel(withExchange(tr.Ctx, upgrade))
		c := &wsConn{
			t: tr, ws: sock, exec: counting, ctx: ctx, cancel: cancel, legacy: legacy,
			caller: wsCallers[int(mode>>4)&3],
			subs:   map[string]context.CancelFunc{},
		}
		// The client stays until the operations have answered and the
		// answers have been written.
		sock.idle = func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return counting.running.Load() == 0 && len(c.queue) == 0 && !c.writing
		}
		tr.conns[c] = struct{}{}
		context.AfterFunc(ctx, c.shut)
		c.read()

		// The connection ends with its reader, and its goroutines with it.
		deadline := time.Now().Add(10 * time.Second)
		for {
			tr.mu.Lock()
			n := len(tr.conns)
			tr.mu.Unlock()
			if n == 0 && runtime.NumGoroutine() <= baseline {
				break
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Fatalf("10 s after the client left: %d connections, %d goroutines (%d before):\n%s",
					n, runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(time.Millisecond)
		}
		select {
		case <-sock.closed:
		default:
			t.Fatal("the socket was not closed")
		}
		if p := log.Take(); len(p) > 0 {
			t.Fatalf("%d panics in resolvers, the first:\n%s", len(p), p[0])
		}

		sock.mu.Lock()
		defer sock.mu.Unlock()
		if sock.hung {
			t.Fatalf("operations still running 10 s after the last frame; sent:\n%s", bytes.Join(sock.sent, []byte("\n")))
		}
		checkSent(t, sock.sent, ids, legacy)
		for _, cl := range sock.closes {
			checkCloseFrame(t, cl)
		}
	})
}

// clientIDs are the ids of the subscribe and start messages among frames,
// read as the server reads them.
func clientIDs(frames [][]byte) map[string]bool {
	ids := map[string]bool{}
	for _, fr := range frames {
		var m wsMessage
		if json.Unmarshal(fr, &m) == nil && (m.Type == "subscribe" || m.Type == "start") {
			ids[m.ID] = true
		}
	}
	return ids
}

// checkSent fails unless every message is a JSON message of the protocol,
// and those of operations come after connection_ack and carry an id the
// client sent.
func checkSent(t *testing.T, sent [][]byte, ids map[string]bool, legacy bool) {
	t.Helper()
	result := "next"
	if legacy {
		result = "data"
	}
	acked := false
	for _, raw := range sent {
		var m struct {
			ID      *string         `json:"id"`
			Type    string          `json:"type"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("sent a message that is not a JSON object: %v\n%s", err, raw)
		}
		switch m.Type {
		case "connection_ack":
			acked = true
			continue
		case "ka", "ping", "pong":
			continue
		case "connection_error":
			var p struct{ Message *string }
			if !legacy || json.Unmarshal(m.Payload, &p) != nil || p.Message == nil {
				t.Fatalf("sent %s", raw)
			}
			continue
		case result, "error", "complete":
		default:
			t.Fatalf("sent a message of type %q: %s", m.Type, raw)
		}
		switch {
		case !acked:
			t.Fatalf("answered an operation before connection_ack: %s", raw)
		case m.ID == nil || *m.ID == "" || !ids[*m.ID]:
			t.Fatalf("sent a message for an id the client never used: %s", raw)
		case m.Type == result:
			var p map[string]json.RawMessage
			if json.Unmarshal(m.Payload, &p) != nil {
				t.Fatalf("sent a result whose payload is not an object: %s", raw)
			}
			_, data := p["data"]
			_, errs := p["errors"]
			if data == errs {
				t.Fatalf("sent a result without exactly one of data and errors: %s", raw)
			}
		case m.Type == "error":
			var errs []struct {
				Message *string `json:"message"`
			}
			if json.Unmarshal(m.Payload, &errs) != nil || len(errs) == 0 || errs[0].Message == nil {
				t.Fatalf("sent an error message without errors: %s", raw)
			}
		}
	}
}

// checkCloseFrame fails unless payload is a close frame a client receives:
// a code of the protocols' and a reason that fits a control frame.
func checkCloseFrame(t *testing.T, payload []byte) {
	t.Helper()
	if len(payload) < 2 {
		t.Fatalf("close frame %q has no code", payload)
	}
	code := int(payload[0])<<8 | int(payload[1])
	if code != websocket.ClosePolicyViolation && (code < 4400 || code > 4499) {
		t.Fatalf("close code %d", code)
	}
	if len(payload) > maxControlPayload {
		t.Fatalf("close frame of %d bytes (code %d, reason %.40q…): longer than a control frame may be, so it is never sent and the client sees the connection drop without a code",
			len(payload), code, payload[2:])
	}
}

// dialWebsocket connects a gorilla client to Websocket.Do, with the
// graphql-transport-ws protocol, for an anonymous caller, and sends frames,
// connection_init first.
func dialWebsocket(t *testing.T, frames ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	tr := &Websocket{
		Ctx:          ctx,
		KeepAlive:    time.Hour,
		InitTimeout:  10 * time.Second,
		MessageBytes: 1 << 20,
		Resolver:     &Resolver{Live: live.NewHub(nil, slog.New(&tablestest.PanicLog{}))},
	}
	tr.Schemas = testSchemas(t, &tablestest.PanicLog{}, tr.Resolver)
	exec := tr.Schemas.Executor(auth.RoleAnonymous)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { tr.Do(w, r, exec) }))
	t.Cleanup(srv.Close)
	dialer := websocket.Dialer{Subprotocols: []string{protocolTransportWS}}
	ws, _, err := dialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	for _, fr := range append([]string{`{"type":"connection_init"}`}, frames...) {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(fr)); err != nil {
			t.Fatal(err)
		}
	}
	return ws
}

// closedWith reads until the connection ends and checks that the server
// closed it with code; it returns the messages read before.
func closedWith(t *testing.T, ws *websocket.Conn, code int) []string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var read []string
	for {
		_, msg, err := ws.ReadMessage()
		if err == nil {
			read = append(read, string(msg))
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != code {
			t.Fatalf("the connection ended with %v (after %q), want close code %d", err, read, code)
		}
		return read
	}
}

// TestCloseFrameCarriesTheCodeWhateverTheClientSent: the reasons of some
// close frames quote the client (an unknown message type, a duplicate
// operation id), and a close frame is a control frame of at most 125 bytes.
// gorilla refuses a longer one, closeWith drops the error, and the client
// sees the connection drop (1006) instead of the protocol's close code.
func TestCloseFrameCarriesTheCodeWhateverTheClientSent(t *testing.T) {
	long := strings.Repeat("x", 200)
	t.Run("unknown message type", func(t *testing.T) {
		closedWith(t, dialWebsocket(t, `{"type":"`+long+`"}`), 4400)
	})
	t.Run("duplicate operation id", func(t *testing.T) {
		sub := `{"id":"` + long + `","type":"subscribe","payload":{"query":"subscription { session { expires } }"}}`
		closedWith(t, dialWebsocket(t, sub, sub), 4409)
	})
}

// TestSubscribeWithoutIDIsRefused: an operation is known to the client by
// its id only, so graphql-ws refuses a subscribe without one (4400, invalid
// message). Accepted, it ran under the id "", and the server's error and
// complete messages for it went out with no id at all (wsMessage.ID is
// omitempty) while its next messages carried "id":"". Found by
// FuzzWebsocket (testdata/fuzz/FuzzWebsocket/1c170b0b9f37bd57).
func TestSubscribeWithoutIDIsRefused(t *testing.T) {
	for _, frame := range []string{
		`{"type":"subscribe","payload":{"query":"{ __typename }"}}`,
		`{"id":"","type":"subscribe","payload":{"query":"{ __typename }"}}`,
		`{"type":"subscribe"}`,
	} {
		t.Run(frame, func(t *testing.T) {
			// connection_ack may or may not get out before the close.
			for _, msg := range closedWith(t, dialWebsocket(t, frame), 4400) {
				if msg != `{"type":"connection_ack"}` {
					t.Errorf("before the close: %s, want nothing but connection_ack", msg)
				}
			}
		})
	}
}
