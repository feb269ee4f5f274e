package graph

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
)

// exchange is the HTTP request a resolver runs in, and the Set-Cookie lines
// its resolvers add. Query root fields resolve concurrently, so they never
// touch the ResponseWriter: they queue cookies here, and the writer adds them
// before the first byte of the response.
type exchange struct {
	r       *http.Request
	mu      sync.Mutex
	cookies []string
	// noCookies: a WebSocket cannot set cookies, so none are kept.
	noCookies bool
}

type exchangeKey struct{}

// HTTPMiddleware gives the resolvers of each request its exchange.
func HTTPMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ex := &exchange{}
		r = r.WithContext(context.WithValue(r.Context(), exchangeKey{}, ex))
		ex.r = r
		next.ServeHTTP(&cookieWriter{ResponseWriter: w, ex: ex}, r)
	})
}

func exchangeFrom(ctx context.Context) *exchange {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return ex
	}
	// Outside HTTP (a WebSocket message): no request to read, no cookie to set.
	return &exchange{r: (&http.Request{Header: http.Header{}}).WithContext(ctx)}
}

// cookieSink collects what one call sets on its http.ResponseWriter; only the
// Set-Cookie lines are kept (see exchange.keep).
type cookieSink struct{ header http.Header }

func (s *cookieSink) Header() http.Header         { return s.header }
func (s *cookieSink) Write(b []byte) (int, error) { return len(b), nil }
func (s *cookieSink) WriteHeader(int)             {}

// sink returns a ResponseWriter for one call; pass it to keep afterwards.
func (ex *exchange) sink() *cookieSink { return &cookieSink{header: http.Header{}} }

// keep queues the cookies s collected for the response.
func (ex *exchange) keep(s *cookieSink) {
	if ex.noCookies {
		return
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.cookies = append(ex.cookies, s.header.Values("Set-Cookie")...)
}

type cookieWriter struct {
	http.ResponseWriter
	ex      *exchange
	flushed bool
}

func (w *cookieWriter) flush() {
	if w.flushed {
		return
	}
	w.flushed = true
	w.ex.mu.Lock()
	defer w.ex.mu.Unlock()
	for _, c := range w.ex.cookies {
		w.Header().Add("Set-Cookie", c)
	}
}

func (w *cookieWriter) WriteHeader(status int) {
	w.flush()
	w.ResponseWriter.WriteHeader(status)
}

func (w *cookieWriter) Write(b []byte) (int, error) {
	w.flush()
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *cookieWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrade.
func (w *cookieWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
