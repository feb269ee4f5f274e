// Package requestlog gives every HTTP request an id, logs one line per request
// and turns a panic into a logged 500 instead of a dropped connection. Log
// records written with a request's context carry its id, so an error a client
// sees can be found in the log.
package requestlog

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/freshgraph/freshgraph/internal/forwarded"
)

// Header carries the request id, in and out (Hasura sends x-request-id too).
const Header = "X-Request-Id"

type idKey struct{}

// ID returns the id of the request ctx belongs to, or "".
func ID(ctx context.Context) string {
	id, _ := ctx.Value(idKey{}).(string)
	return id
}

// Handler wraps a slog.Handler so that records logged with a request's context
// carry its request_id.
type Handler struct {
	slog.Handler
	// Batch, if set, is what Handler writes to: a warning or an error is
	// flushed at once, the access log's lines within the batch's delay.
	Batch *Batch
	// plainText: Handler is NewTextHandler's, writing to Batch, with no
	// attributes or groups added.
	plainText bool
}

// Handle adds the request id and the trace's, if any.
func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := ID(ctx); id != "" {
		r.AddAttrs(slog.String("request_id", id))
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	err := h.Handler.Handle(ctx, r)
	if h.Batch != nil && r.Level >= slog.LevelWarn {
		if ferr := h.Batch.Flush(); err == nil {
			err = ferr
		}
	}
	return err
}

// WithAttrs keeps the wrapper.
func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{Handler: h.Handler.WithAttrs(attrs), Batch: h.Batch}
}

// WithGroup keeps the wrapper.
func (h Handler) WithGroup(name string) slog.Handler {
	return Handler{Handler: h.Handler.WithGroup(name), Batch: h.Batch}
}

// Middleware assigns the request id (keeping a sane one sent by a proxy), logs
// the request when it ends with the address it came from (through the
// trusted proxies), and recovers from panics. It never logs headers,
// bodies or query strings: they can hold secrets.
//
// With traced (requests come with an OpenTelemetry span), the line names
// the request's trace; without, no time is spent looking for one.
func Middleware(logger *slog.Logger, proxies forwarded.Proxies, traced bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(Header)
			if !saneID(id) {
				id = newID()
			}
			ctx := context.WithValue(r.Context(), idKey{}, id)
			w.Header().Set(Header, id)
			rec := &recorder{ResponseWriter: w, status: http.StatusOK}
			start := time.Now()
			defer func() {
				if v := recover(); v != nil {
					if v == http.ErrAbortHandler {
						panic(v)
					}
					logger.ErrorContext(ctx, "panic", "panic", v, "stack", string(debug.Stack()))
					if !rec.wrote {
						http.Error(rec, "internal server error", http.StatusInternalServerError)
					}
				}
				end := time.Now()
				a := access{method: r.Method, path: r.URL.Path, status: rec.status, bytes: rec.bytes, took: end.Sub(start), id: id,
					client: proxies.Client(r, false)}
				if sc := trace.SpanContextFromContext(ctx); traced && sc.IsValid() {
					a.traceID = sc.TraceID().String()
				}
				logAccess(logger, end, a)
			}()
			next.ServeHTTP(rec, r.WithContext(ctx))
		})
	}
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// newID returns 96 random bits in hex. An id must be unique, not secret:
// the runtime's generator (ChaCha8, seeded by the OS) gives that without
// crypto/rand's system call and locking on every request.
func newID() string {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
	binary.LittleEndian.PutUint32(b[8:], rand.Uint32())
	return hex.EncodeToString(b[:])
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Hijack hands the connection to a WebSocket upgrade.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	r.status, r.wrote = http.StatusSwitchingProtocols, true
	return http.NewResponseController(r.ResponseWriter).Hijack()
}
