// Package shutdown stops an http.Server so that only requests being answered
// hold it up. http.Server.Shutdown closes idle connections but waits for
// every other one, including a connection still sending its headers or
// trickling its body, which can take the whole grace period. The Tracker
// knows, for each connection, whether a handler is answering a request on it
// and whether that request's body is still arriving, so Stop can close the
// waiting connections at once, cut short the bodies still arriving, and wait
// only for the requests in flight.
package shutdown

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Tracker follows a server's connections and the requests on them.
type Tracker struct {
	mu    sync.Mutex
	conns map[net.Conn]*conn
}

type conn struct {
	net.Conn
	req *request // the request a handler is answering, if any
}

type request struct {
	method    string
	client    string
	path      string
	started   time.Time
	receiving bool // its body has not all arrived
}

type connKey struct{}

// Install makes t follow srv's connections; wrap srv's handler with Middleware.
func (t *Tracker) Install(srv *http.Server) {
	t.conns = map[net.Conn]*conn{}
	connState, connContext := srv.ConnState, srv.ConnContext
	srv.ConnState = func(c net.Conn, state http.ConnState) {
		t.mu.Lock()
		switch state {
		case http.StateNew:
			t.conns[c] = &conn{Conn: c}
		case http.StateHijacked, http.StateClosed:
			delete(t.conns, c) // a WebSocket is its owner's to end
		}
		t.mu.Unlock()
		if connState != nil {
			connState(c, state)
		}
	}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if connContext != nil {
			ctx = connContext(ctx, c)
		}
		return context.WithValue(ctx, connKey{}, c)
	}
}

// Middleware marks each request as being answered, and its body as arriving
// until it has been read.
func (t *Tracker) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nc, _ := r.Context().Value(connKey{}).(net.Conn)
		req := &request{method: r.Method, client: r.RemoteAddr, path: r.URL.Path, started: time.Now(),
			receiving: r.Body != nil && r.Body != http.NoBody}
		t.mu.Lock()
		c := t.conns[nc]
		if c != nil {
			c.req = req
		}
		t.mu.Unlock()
		if c == nil { // not served by the installed server (a test's handler)
			next.ServeHTTP(w, r)
			return
		}
		defer func() {
			t.mu.Lock()
			c.req = nil
			t.mu.Unlock()
		}()
		if req.receiving {
			r.Body = &body{ReadCloser: r.Body, t: t, req: req}
		}
		next.ServeHTTP(w, r)
	})
}

// body marks its request as received once a read ends the body.
type body struct {
	io.ReadCloser
	t   *Tracker
	req *request
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.t.mu.Lock()
		b.req.receiving = false
		b.t.mu.Unlock()
	}
	return n, err
}

// Stop shuts srv down: it stops accepting, closes every connection that no
// handler is answering a request on, cuts short the bodies still arriving
// (their reads fail at once), and waits for the requests in flight until
// grace ends. Then it closes what is left and logs each request it cut. It
// returns how many it cut.
func (t *Tracker) Stop(srv *http.Server, grace time.Duration, logger *slog.Logger) int {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()

	t.mu.Lock()
	for _, c := range t.conns {
		switch {
		case c.req == nil:
			_ = c.Close()
		case c.req.receiving:
			_ = c.SetReadDeadline(time.Now())
		}
	}
	t.mu.Unlock()

	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		return 0
	}
	t.mu.Lock()
	var cut []*request
	for _, c := range t.conns {
		if c.req != nil {
			cut = append(cut, c.req)
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
