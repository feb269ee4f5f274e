package requestlog

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// Batch writes log lines to w in batches: a line reaches w within the
// batch's delay, or sooner when the buffer fills or Flush is called. The
// access log writes a line per request; one write(2) each costs a request
// about 5% of its CPU, batching a few per delay next to nothing.
type Batch struct {
	delay   time.Duration
	mu      sync.Mutex
	buf     *bufio.Writer
	pending bool // a flush is scheduled
}

// NewBatch returns a Batch writing to w at most delay after a line; with
// no delay, each line is written before Write returns.
func NewBatch(w io.Writer, delay time.Duration) *Batch {
	return &Batch{delay: delay, buf: bufio.NewWriterSize(w, 64<<10)}
}

// Write buffers p (one log record: slog handlers write a record at once).
func (b *Batch) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.delay <= 0 {
		if ferr := b.buf.Flush(); err == nil {
			err = ferr
		}
		return n, err
	}
	if !b.pending && b.buf.Buffered() > 0 {
		b.pending = true
		time.AfterFunc(b.delay, func() { _ = b.Flush() })
	}
	return n, err
}

// Flush writes what is buffered now.
func (b *Batch) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	return b.buf.Flush()
}
