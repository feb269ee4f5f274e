package graph

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/forwarded"
	"github.com/freshgraph/freshgraph/internal/session"
)

// exchange is what the session API's resolvers know of the request they run
// in — the address it comes from — and the session cookie changes they ask
// for. Query root fields resolve concurrently, so they never touch the
// ResponseWriter: they queue cookie changes here, and the writer writes them
// before the first byte of the response. HTTP stays here, at the edge.
type exchange struct {
	// client is where the request comes from: its address for the rate
	// limits, both for the list of a user's sessions.
	client authjs.Client
	// headers are the request's (a WebSocket's: its upgrade request's),
	// for the actions that forward them to their handlers.
	headers http.Header
	// host is the request's Host, which Go keeps apart from its headers.
	host    string
	mu      sync.Mutex
	cookies []session.Cookie
	// noCookies: a WebSocket cannot set cookies, so none are kept.
	noCookies bool
}

// clientHeaders are the request's headers with its Host, for the actions
// that forward them to their handlers.
func (ex *exchange) clientHeaders() http.Header {
	h := ex.headers.Clone()
	if ex.host != "" {
		if h == nil {
			h = http.Header{}
		}
		h.Set("Host", ex.host)
	}
	return h
}

type exchangeKey struct{}

// WithExchange gives the resolvers of r their exchange: ctx carrying it,
// and w wrapped to write the session cookie changes they queue with
// cookies. address is where r comes from (forwarded.Proxies.Client).
func WithExchange(ctx context.Context, w http.ResponseWriter, r *http.Request, address string, cookies *session.Cookies) (context.Context, http.ResponseWriter) {
	cw := &cookieWriter{ResponseWriter: w, ex: exchange{client: clientOf(r, address), headers: r.Header, host: r.Host}, cookies: cookies}
	return context.WithValue(ctx, exchangeKey{}, &cw.ex), cw
}

// withExchange returns ctx carrying a WebSocket's exchange: the client of
// its upgrade request (as its own exchange has it), and no cookies.
func withExchange(ctx context.Context, r *http.Request) context.Context {
	client := exchangeFrom(r.Context()).client
	if client.Address == "" {
		client = clientOf(r, forwarded.Peer(r.RemoteAddr))
	}
	return context.WithValue(ctx, exchangeKey{}, &exchange{client: client, headers: r.Header, host: r.Host, noCookies: true})
}

// maxUserAgent bounds the User-Agent kept with a session: a real one is a
// few hundred bytes.
const maxUserAgent = 512

// clientOf is r's client: its address, and its user agent.
func clientOf(r *http.Request, address string) authjs.Client {
	ua := r.UserAgent()
	if len(ua) > maxUserAgent {
		ua = ua[:maxUserAgent]
	}
	return authjs.Client{Address: address, UserAgent: strings.ToValidUTF8(ua, "")}
}

func exchangeFrom(ctx context.Context) *exchange {
	if ex, ok := ctx.Value(exchangeKey{}).(*exchange); ok {
		return ex
	}
	return &exchange{noCookies: true}
}

// setCookie queues c for the response.
func (ex *exchange) setCookie(c session.Cookie) {
	if ex.noCookies || c == (session.Cookie{}) {
		return
	}
	ex.mu.Lock()
	defer ex.mu.Unlock()
	ex.cookies = append(ex.cookies, c)
}

type cookieWriter struct {
	http.ResponseWriter
	ex      exchange // the request's, in one allocation with its writer
	cookies *session.Cookies
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
		// Encoding a token cannot fail with a valid key; a cookie left
		// unset is a session the client does not get, never a wrong one.
		_ = w.cookies.Set(w.ResponseWriter, c)
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
