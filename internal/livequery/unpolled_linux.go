//go:build linux

package livequery

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// unpolled takes c's socket out of Go's network poller: the returned
// connection waits for the socket with poll(2), and only while a Read or
// Write has to.
//
// Why: Go keeps every socket in its epoll set, edge-triggered, and an idle
// Go process keeps a thread in epoll_wait, so each message the walsender
// sends — three per committed transaction — wakes that thread, and the
// walsender pays for the wake-up, even while the stream's reader sleeps
// on purpose (readGap) to take a storm's messages in one read. Outside the
// poller, a message sent while nobody reads wakes nobody. Measured with
// pgbench's writers and a freshgraph instance following them, this halved
// the walsender's and the hub's CPU per transaction.
//
// A connection of another kind (a test's pipe, a TLS connection someone
// dialled already) is returned as it is.
func unpolled(c net.Conn) (net.Conn, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c, nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return c, nil
	}
	fd := -1
	var dupErr error
	if err := raw.Control(func(s uintptr) { fd, dupErr = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return nil, err
	}
	if dupErr != nil {
		c.Close()
		return nil, os.NewSyscallError("fcntl", dupErr)
	}
	u := &unpolledConn{fd: fd, readWake: -1, writeWake: -1, local: c.LocalAddr(), remote: c.RemoteAddr()}
	// Closing the original takes it out of the epoll set (Go deletes it
	// before closing); the socket lives on in fd.
	c.Close()
	if err := unix.SetNonblock(fd, true); err != nil {
		u.closeFDs()
		return nil, os.NewSyscallError("fcntl", err)
	}
	for _, wake := range []*int{&u.readWake, &u.writeWake} {
		if *wake, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
			u.closeFDs()
			return nil, os.NewSyscallError("eventfd", err)
		}
	}
	return u, nil
}

// unpolledConn is a nonblocking socket outside Go's poller. A blocked Read
// or Write polls the socket and its direction's eventfd, which Close and
// a change of that direction's deadline write to, so that the poll ends
// and the new state is seen.
type unpolledConn struct {
	fd, readWake, writeWake int
	local, remote           net.Addr
	// One Read and one Write at a time; Close takes both, so no call is
	// inside the socket when it is closed.
	readMu, writeMu sync.Mutex
	// Held to signal an eventfd from outside Read and Write (a deadline's
	// change), and by Close to close them.
	wakeMu sync.RWMutex
	closed atomic.Bool
	// Deadlines as Unix nanoseconds; 0 is none.
	readDeadline, writeDeadline atomic.Int64
}

func (c *unpolledConn) Read(b []byte) (int, error) {
	c.readMu.Lock()
	defer c.readMu.Unlock()
	for {
		if c.closed.Load() {
			return 0, c.opError("read", net.ErrClosed)
		}
		if len(b) == 0 {
			return 0, nil
		}
		n, err := unix.Read(c.fd, b)
		switch {
		case err == nil && n == 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := c.wait(unix.POLLIN, c.readWake, &c.readDeadline); err != nil {
				return 0, c.opError("read", err)
			}
		default:
			return 0, c.opError("read", os.NewSyscallError("read", err))
		}
	}
}

func (c *unpolledConn) Write(b []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	written := 0
	for written < len(b) {
		if c.closed.Load() {
			return written, c.opError("write", net.ErrClosed)
		}
		// MSG_NOSIGNAL: a peer gone is an EPIPE error, not a SIGPIPE.
		n, err := unix.SendmsgN(c.fd, b[written:], nil, nil, unix.MSG_NOSIGNAL)
		written += max(n, 0)
		switch err {
		case nil, unix.EINTR:
		case unix.EAGAIN:
			if err := c.wait(unix.POLLOUT, c.writeWake, &c.writeDeadline); err != nil {
				return written, c.opError("write", err)
			}
		default:
			return written, c.opError("write", os.NewSyscallError("write", err))
		}
	}
	return written, nil
}

// wait polls the socket for events until they come, the deadline passes
// or the connection is closed.
func (c *unpolledConn) wait(events int16, wake int, deadline *atomic.Int64) error {
	for {
		if c.closed.Load() {
			return net.ErrClosed
		}
		timeout := -1
		if d := deadline.Load(); d != 0 {
			left := time.Until(time.Unix(0, d))
			if left <= 0 {
				return os.ErrDeadlineExceeded
			}
			timeout = int((left + time.Millisecond - 1) / time.Millisecond)
		}
		fds := []unix.PollFd{{Fd: int32(c.fd), Events: events}, {Fd: int32(wake), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, timeout); err != nil && err != unix.EINTR {
			return os.NewSyscallError("poll", err)
		}
		if fds[1].Revents != 0 {
			var buf [8]byte
			_, _ = unix.Read(wake, buf[:])
		}
		if fds[0].Revents != 0 {
			return nil // ready, hung up or failed: the read or write says which
		}
	}
}

func (c *unpolledConn) Close() error {
	if c.closed.Swap(true) {
		return c.opError("close", net.ErrClosed)
	}
	signal(c.readWake)
	signal(c.writeWake)
	c.readMu.Lock()
	defer c.readMu.Unlock()
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	c.wakeMu.Lock()
	defer c.wakeMu.Unlock()
	if err := c.closeFDs(); err != nil {
		return c.opError("close", os.NewSyscallError("close", err))
	}
	return nil
}

func (c *unpolledConn) closeFDs() error {
	err := unix.Close(c.fd)
	for _, wake := range []int{c.readWake, c.writeWake} {
		if wake >= 0 {
			unix.Close(wake)
		}
	}
	return err
}

func (c *unpolledConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *unpolledConn) SetReadDeadline(t time.Time) error {
	return c.setDeadline(t, &c.readDeadline, c.readWake)
}

func (c *unpolledConn) SetWriteDeadline(t time.Time) error {
	return c.setDeadline(t, &c.writeDeadline, c.writeWake)
}

func (c *unpolledConn) setDeadline(t time.Time, deadline *atomic.Int64, wake int) error {
	c.wakeMu.RLock()
	defer c.wakeMu.RUnlock()
	if c.closed.Load() {
		return c.opError("set deadline", net.ErrClosed)
	}
	var d int64
	if !t.IsZero() {
		d = max(t.UnixNano(), 1)
	}
	if deadline.Swap(d) != d {
		signal(wake) // a poll under way recomputes its timeout
	}
	return nil
}

// signal makes an eventfd readable: its counter goes up by one.
func signal(wake int) {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(wake, one[:])
}

func (c *unpolledConn) LocalAddr() net.Addr  { return c.local }
func (c *unpolledConn) RemoteAddr() net.Addr { return c.remote }

func (c *unpolledConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: c.local.Network(), Source: c.local, Addr: c.remote, Err: err}
}
