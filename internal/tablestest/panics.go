package tablestest

import (
	"context"
	"log/slog"
	"strings"
	"sync"
)

// PanicLog is a slog.Handler that keeps the records about panics, which
// hasura.RecoverFunc logs before answering as for any other error: a
// fuzz test fails on what it holds.
type PanicLog struct {
	mu     sync.Mutex
	panics []string
}

// Enabled takes every record.
func (*PanicLog) Enabled(context.Context, slog.Level) bool { return true }

// WithAttrs is not used by the server's loggers.
func (*PanicLog) WithAttrs([]slog.Attr) slog.Handler { panic("unused") }

// WithGroup is not used by the server's loggers.
func (*PanicLog) WithGroup(string) slog.Handler { panic("unused") }

// Handle keeps a record about a panic, its attributes included.
func (h *PanicLog) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool {
			b.WriteString(" " + a.String())
			return true
		})
		h.mu.Lock()
		h.panics = append(h.panics, b.String())
		h.mu.Unlock()
	}
	return nil
}

// Take returns the panics kept since the last Take.
func (h *PanicLog) Take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.panics
	h.panics = nil
	return p
}
