package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// gatedSocket is a client that reads a message only when let: each write
// waits for a value on gate, and is then recorded.
type gatedSocket struct {
	mu      sync.Mutex
	written []string
	gate    chan struct{}
	waiting chan struct{} // receives when a write starts waiting
	closed  chan struct{}
	once    sync.Once
}

func (s *gatedSocket) ReadMessage() (int, []byte, error) {
	<-s.closed
	return 0, nil, errors.New("closed")
}

func (s *gatedSocket) WriteMessage(_ int, data []byte) error {
	s.waiting <- struct{}{}
	select {
	case <-s.gate:
	case <-s.closed:
		return errors.New("closed")
	}
	s.mu.Lock()
	s.written = append(s.written, string(data))
	s.mu.Unlock()
	return nil
}

func (s *gatedSocket) WriteControl(int, []byte, time.Time) error { return nil }
func (s *gatedSocket) SetWriteDeadline(time.Time) error          { return nil }
func (s *gatedSocket) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// A live operation keeps only its latest result unsent: a burst of results
// of more operations than maxQueued, or many results of one while the
// client reads slowly, neither closes the client nor grows the queue; the
// client gets each operation's newest result, and never the result it was
// sent last over again.
func TestLiveResultsWaitAsTheLatestOnly(t *testing.T) {
	sock := &gatedSocket{gate: make(chan struct{}), waiting: make(chan struct{}), closed: make(chan struct{})}
	tr := &Websocket{Ctx: context.Background(), conns: map[*wsConn]struct{}{}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &wsConn{t: tr, ws: sock, ctx: ctx, cancel: cancel, subs: map[string]context.CancelFunc{}}
	tr.conns[c] = struct{}{}
	context.AfterFunc(ctx, c.shut)
	queueLen := func() int {
		c.mu.Lock()
		defer c.mu.Unlock()
		return len(c.queue)
	}

	c.send([]byte("first"))
	<-sock.waiting // the writer holds "first" until let
	ops := make([]*opQueue, 2*maxQueued)
	for i := range ops {
		ops[i] = &opQueue{latestOnly: true}
		for v := range 10 {
			c.enqueue(fmt.Appendf(nil, "op %d v%d", i, v), ops[i], nil)
		}
	}
	if ctx.Err() != nil {
		t.Fatal("a burst of live results closed the client")
	}
	if n := queueLen(); n != len(ops) {
		t.Fatalf("%d messages queued for %d operations", n, len(ops))
	}
	// The writer takes the queue in one batch once "first" is written.
	go func() { sock.gate <- struct{}{} }()
	for range len(ops) {
		<-sock.waiting
		sock.gate <- struct{}{}
	}
	// The writer has stopped: a new message starts it again.
	c.send([]byte("second"))
	<-sock.waiting // "second" waits
	c.enqueue([]byte("op 0 v10"), ops[0], nil)
	c.enqueue([]byte("op 0 v9"), ops[0], nil) // what it was sent last: the waiting v10 goes
	c.enqueue([]byte("op 1 v10"), ops[1], nil)
	if n := queueLen(); n != 1 {
		t.Fatalf("%d messages queued, want op 1's only", n)
	}
	go func() { sock.gate <- struct{}{} }() // "second"
	<-sock.waiting
	sock.gate <- struct{}{} // op 1 v10
	// A result being written counts as sent: one that comes back to it
	// while it is written takes the newer one waiting out.
	written := func(n int) {
		deadline := time.Now().Add(5 * time.Second)
		for {
			sock.mu.Lock()
			got := len(sock.written)
			sock.mu.Unlock()
			if got == n || time.Now().After(deadline) {
				return
			}
			time.Sleep(time.Millisecond)
		}
	}
	written(len(ops) + 3)
	c.enqueue([]byte("op 2 v20"), ops[2], nil)
	<-sock.waiting // v20 is being written
	c.enqueue([]byte("op 2 v21"), ops[2], nil)
	c.enqueue([]byte("op 2 v20"), ops[2], nil)
	if n := queueLen(); n != 0 {
		t.Fatalf("%d messages queued, want none: the client is being sent v20", n)
	}
	sock.gate <- struct{}{}
	written(len(ops) + 4)
	want := []string{"first"}
	for i := range ops {
		want = append(want, fmt.Sprintf("op %d v9", i))
	}
	want = append(want, "second", "op 1 v10", "op 2 v20")
	sock.mu.Lock()
	defer sock.mu.Unlock()
	if !slices.Equal(sock.written, want) {
		t.Errorf("written\n %q\nwant\n %q", sock.written, want)
	}
}
