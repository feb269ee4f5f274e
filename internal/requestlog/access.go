package requestlog

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// NewTextHandler is the server's log handler: slog's text format, written
// to b. Its access lines are formatted by hand (appendAccess), byte for byte
// what slog's text handler writes for them, at a fraction of its cost: the
// access line is the one record every request writes.
func NewTextHandler(b *Batch) Handler { return NewHandler(b, false, slog.LevelInfo) }

// NewHandler is the server's log handler, written to b: slog's text format
// (NewTextHandler) or, with json, one JSON object per line with the same
// keys (time, level, msg, request_id, …), for a log pipeline to read.
// Records below level are not written.
func NewHandler(b *Batch, json bool, level slog.Leveler) Handler {
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return Handler{Handler: slog.NewJSONHandler(b, opts), Batch: b}
	}
	return Handler{Handler: slog.NewTextHandler(b, opts), Batch: b, plainText: true}
}

// ParseLevel reads a log level as Hasura's HASURA_GRAPHQL_LOG_LEVEL names
// it: debug, info, warn or error.
func ParseLevel(s string) (slog.Level, bool) {
	switch s {
	case "debug":
		return slog.LevelDebug, true
	case "info":
		return slog.LevelInfo, true
	case "warn":
		return slog.LevelWarn, true
	case "error":
		return slog.LevelError, true
	}
	return 0, false
}

// access is what the access line says of a request.
type access struct {
	method, path string
	status       int
	bytes        int
	took         time.Duration
	id           string
	client       string // the address the request came from (forwarded.Proxies.Client)
	traceID      string // the request's trace, when traced
}

// logAccess writes a's line, of a request that ended at end: by hand when
// the logger is NewTextHandler's as made (no attributes or groups added)
// and a's strings need no quoting, through slog otherwise.
func logAccess(logger *slog.Logger, end time.Time, a access) {
	if !logger.Enabled(context.Background(), slog.LevelInfo) {
		return // HASURA_GRAPHQL_LOG_LEVEL=warn or error: no access lines
	}
	if h, ok := logger.Handler().(Handler); ok && h.plainText {
		bp := lineBuffers.Get().(*[]byte)
		line, ok := appendAccess((*bp)[:0], end, a)
		if ok {
			_, _ = h.Batch.Write(line)
		}
		*bp = line
		lineBuffers.Put(bp)
		if ok {
			return
		}
	}
	// The id goes as an attribute, as Handler would add it from a
	// request's context, without walking the contexts for it.
	attrs := []slog.Attr{slog.String("method", a.method), slog.String("path", a.path),
		slog.Int("status", a.status), slog.Int("bytes", a.bytes), slog.Duration("took", a.took), slog.String("client", a.client),
		slog.String("request_id", a.id)}
	if a.traceID != "" {
		attrs = append(attrs, slog.String("trace_id", a.traceID))
	}
	logger.LogAttrs(context.Background(), slog.LevelInfo, "request", attrs...)
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendAccess appends the access line slog's text handler writes for a
// record at now; false if a string would need quoting or now is outside
// what it formats as plain digits (then slog writes it).
func appendAccess(b []byte, now time.Time, a access) ([]byte, bool) {
	if !plain(a.method) || !plain(a.path) || !plain(a.id) || !plain(a.client) {
		return b, false
	}
	b = append(b, "time="...)
	b, ok := appendRFC3339Millis(b, now)
	if !ok {
		return b, false
	}
	b = append(b, " level=INFO msg=request method="...)
	b = append(b, a.method...)
	b = append(b, " path="...)
	b = append(b, a.path...)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(a.status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(a.bytes), 10)
	b = append(b, " took="...)
	b = append(b, a.took.String()...)
	b = append(b, " client="...)
	b = append(b, a.client...)
	b = append(b, " request_id="...)
	b = append(b, a.id...)
	if a.traceID != "" {
		b = append(b, " trace_id="...)
		b = append(b, a.traceID...)
	}
	return append(b, '\n'), true
}

// plain reports whether slog writes s unquoted, for a conservative set of
// bytes: those of a URL path, a method and a request id.
func plain(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '/' || c == '-' || c == '.' ||
			c == '_' || c == '~' || c == '%' || c == ':' || c == '@' || c == '!' || c == '$' || c == '&' || c == '\'' ||
			c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';') {
			return false
		}
	}
	return true
}

// appendRFC3339Millis is slog's time format: RFC 3339 with exactly three
// digits of milliseconds (truncated), in t's zone; false for a year outside
// 0–9999 or a zone offset in seconds, which Go formats otherwise.
func appendRFC3339Millis(b []byte, t time.Time) ([]byte, bool) {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	_, offset := t.Zone()
	if year < 0 || year > 9999 || offset%60 != 0 {
		return b, false
	}
	b = appendDigits(b, year, 4)
	b = append(b, '-')
	b = appendDigits(b, int(month), 2)
	b = append(b, '-')
	b = appendDigits(b, day, 2)
	b = append(b, 'T')
	b = appendDigits(b, hour, 2)
	b = append(b, ':')
	b = appendDigits(b, minute, 2)
	b = append(b, ':')
	b = appendDigits(b, sec, 2)
	b = append(b, '.')
	b = appendDigits(b, t.Nanosecond()/int(time.Millisecond), 3)
	if offset == 0 {
		return append(b, 'Z'), true
	}
	sign := byte('+')
	if offset < 0 {
		sign, offset = '-', -offset
	}
	b = append(b, sign)
	b = appendDigits(b, offset/3600, 2)
	b = append(b, ':')
	return appendDigits(b, offset/60%60, 2), true
}

// appendDigits appends n (non-negative) in exactly width digits.
func appendDigits(b []byte, n, width int) []byte {
	start := len(b)
	for range width {
		b = append(b, '0')
	}
	for i := len(b) - 1; i >= start && n > 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return b
}
