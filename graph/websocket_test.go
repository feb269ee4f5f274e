package graph

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// stuckSocket is a client that never reads: every write blocks until the
// socket is closed.
type stuckSocket struct {
	mu        sync.Mutex
	closeCode int
	closed    chan struct{}
	once      sync.Once
	blocked   chan struct{} // receives when a write starts blocking
}

func (s *stuckSocket) ReadMessage() (int, []byte, error) {
	<-s.closed
	return 0, nil, errors.New("closed")
}

func (s *stuckSocket) WriteMessage(int, []byte) error {
	select {
	case s.blocked <- struct{}{}:
	default:
	}
	<-s.closed
	return errors.New("closed")
}

func (s *stuckSocket) WriteControl(_ int, data []byte, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(data) >= 2 {
		s.closeCode = int(data[0])<<8 | int(data[1])
	}
	return nil
}

func (s *stuckSocket) SetWriteDeadline(time.Time) error { return nil }

func (s *stuckSocket) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

func TestSlowClientIsClosedAndNeverBlocksTheSender(t *testing.T) {
	sock := &stuckSocket{closed: make(chan struct{}), blocked: make(chan struct{}, 1)}
	tr := &Websocket{Ctx: context.Background(), conns: map[*wsConn]struct{}{}}
	ctx, cancel := context.WithCancel(context.Background())
	c := &wsConn{t: tr, ws: sock, ctx: ctx, cancel: cancel, subs: map[string]context.CancelFunc{}}
	tr.conns[c] = struct{}{}
	context.AfterFunc(ctx, c.shut)

	// The first message leaves with the writer, which then blocks for good.
	c.send([]byte(`{"type":"next"}`))
	<-sock.blocked
	// The hub's side: sending must return at once however stuck the client,
	// and the message after a full queue closes the connection.
	done := make(chan struct{})
	go func() {
		for range maxQueued + 1 {
			c.send([]byte(`{"type":"next"}`))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("send blocked on a client that does not read")
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a client with a full queue was not closed")
	}
	sock.mu.Lock()
	code := sock.closeCode
	sock.mu.Unlock()
	if code != websocket.ClosePolicyViolation {
		t.Errorf("close code %d, want %d", code, websocket.ClosePolicyViolation)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		tr.mu.Lock()
		n := len(tr.conns)
		tr.mu.Unlock()
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the closed connection was not forgotten")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
