package requestlog

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Info lines wait for the batch; a warning takes everything out at once.
func TestBatchFlushesWarningsAtOnce(t *testing.T) {
	out := &lockedBuffer{}
	batch := NewBatch(out, time.Hour)
	logger := slog.New(NewTextHandler(batch))
	logger.Info("request", "status", 200)
	if got := out.String(); got != "" {
		t.Fatalf("an info line was written before its batch: %q", got)
	}
	logger.WarnContext(context.Background(), "slow")
	got := out.String()
	if !strings.Contains(got, "msg=request") || !strings.Contains(got, "msg=slow") {
		t.Fatalf("after a warning: %q", got)
	}
}

// A line reaches the writer once the delay has passed, with no call.
func TestBatchWritesWithinItsDelay(t *testing.T) {
	out := &lockedBuffer{}
	batch := NewBatch(out, 10*time.Millisecond)
	slog.New(NewTextHandler(batch)).Info("request")
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), "msg=request"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the line never reached the writer")
		}
	}
}

// With no delay every line is written before Write returns (the tests'
// server logs so, and reads its log right after a request).
func TestBatchWithoutDelayWritesThrough(t *testing.T) {
	out := &lockedBuffer{}
	slog.New(NewTextHandler(NewBatch(out, 0))).Info("request")
	if !strings.Contains(out.String(), "msg=request") {
		t.Fatalf("not written at once: %q", out.String())
	}
}
