// Package shutdown stops an http.Server so that only requests being answered
// hold it up. http.Server.Shutdown closes idle connections but waits for
// every other one, including a connection still sending its headers, which
// can take the whole grace period. The Tracker knows, for each connection,
// whether a handler is answering a request on it, so Stop can close the
// connections no request has started on at once and wait only for the
// requests that have: their bodies may still be arriving, within the
// server's ReadTimeout counted from the request's start, as at any other
// time (a rolling deploy must not lose a request a client is still sending).
package shutdown

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Tracker follows a server's connections and the requests on them.
type Tracker struct {
	mu    sync.Mutex
	conns map[net.Conn]*conn
}

// conn is one of the server's connections. Its request is set and read
// without the Tracker's lock: each request would otherwise take it.
type conn struct {
	net.Conn
	req atomic.Pointer[request] // the request a handler is answering, if any
}

type request struct {
	method  string
	client  string
	path    string
	started time.Time
}

type connKey struct{}

// Install makes t follow srv's connections; wrap srv's handler with Middleware.
func (t *Tracker) Install(srv *http.Server) {
	t.conns = map[net.Conn]*conn{}
	connState, connContext := srv.ConnState, srv.ConnContext
	// A connection is followed from its context, which the server makes
	// just before the connection's StateNew; every one it makes ends in
	// StateHijacked or StateClosed.
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if connContext != nil {
			ctx = connContext(ctx, c)
		}
		tc := &conn{Conn: c}
		t.mu.Lock()
		t.conns[c] = tc
		t.mu.Unlock()
		return context.WithValue(ctx, connKey{}, tc)
	}
	srv.ConnState = func(c net.Conn, state http.ConnState) {
		switch state {
		case http.StateHijacked, http.StateClosed:
			t.mu.Lock()
			delete(t.conns, c) // a WebSocket is its owner's to end
			t.mu.Unlock()
		}
		if connState != nil {
			connState(c, state)
		}
	}
}

// Middleware marks each request as being answered.
func (t *Tracker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(connKey{}).(*conn)
		if c == nil { // not served by the installed server (a test's handler)
			next.ServeHTTP(w, r)
			return
		}
		req := &request{method: r.Method, client: r.RemoteAddr, path: r.URL.Path, started: time.Now()}
		c.req.Store(req)
		defer c.req.Store(nil)
		next.ServeHTTP(w, r)
	})
}

// Stop shuts srv down: it stops accepting, closes every connection that no
// handler is answering a request on (idle, or its headers still arriving),
// and waits for the requests in flight until grace ends; a body still
// arriving keeps the deadline the server gave its request. Then it closes what is left and logs each request it cut. It
// returns how many it cut.
func (t *Tracker) Stop(srv *http.Server, grace time.Duration, logger *slog.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()

	t.mu.Lock()
	for _, c := range t.conns {
		if c.req.Load() == nil {
			_ = c.Close()
		}
	}
	t.mu.Unlock()

	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		return 0
	}
	t.mu.Lock()
	var cut []*request
	for _, c := range t.conns {
		if req := c.req.Load(); req != nil {
			cut = append(cut, req)
		}
	}
	t.mu.Unlock()
	slices.SortFunc(cut, func(a, b *request) int { return a.started.Compare(b.started) })
	for _, r := range cut {
		logger.Warn("shutdown grace ended: request cut", "method", r.method, "path", r.path,
			"client", r.client, "running_for", time.Since(r.started).Round(time.Millisecond))
	}
	_ = srv.Close()
	return len(cut)
}
