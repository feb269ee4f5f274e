//go:build linux

package livequery

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// socketPair returns an unpolled connection of network ("tcp" or "unix")
// and a plain one to its peer.
func socketPair(t *testing.T, network string) (*unpolledConn, net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s")
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			t.Error(err)
		}
		accepted <- c
	}()
	c, err := net.Dial(network, ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fd := socketFD(t, c)
	if !inPoller(t, fd) {
		t.Fatalf("fd %d of a dialled connection is not in Go's epoll set: the test cannot tell", fd)
	}
	u, err := unpolled(c)
	if err != nil {
		t.Fatal(err)
	}
	peer := <-accepted
	t.Cleanup(func() { u.Close(); peer.Close() })
	uc := u.(*unpolledConn)
	if inPoller(t, uc.fd) {
		t.Fatalf("fd %d is still in Go's epoll set", uc.fd)
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("the dialled connection is not closed: %v", err)
	}
	return uc, peer
}

func socketFD(t *testing.T, c net.Conn) int {
	raw, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	raw.Control(func(s uintptr) { fd = int(s) })
	return fd
}

// inPoller reports whether fd is in one of this process's epoll sets, as
// /proc/self/fdinfo lists them.
func inPoller(t *testing.T, fd int) bool {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if link, _ := os.Readlink("/proc/self/fd/" + e.Name()); link != "anon_inode:[eventpoll]" {
			continue
		}
		info, err := os.ReadFile("/proc/self/fdinfo/" + e.Name())
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(info), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "tfd:" && f[1] == strconv.Itoa(fd) {
				return true
			}
		}
	}
	return false
}

func TestUnpolledConn(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			t.Run("both ways, then EOF", func(t *testing.T) {
				u, peer := socketPair(t, network)
				big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: more than a socket buffer holds
				go func() {
					if _, err := u.Write(big); err != nil {
						t.Error(err)
					}
				}()
				got := make([]byte, len(big))
				if _, err := io.ReadFull(peer, got); err != nil || !bytes.Equal(got, big) {
					t.Fatalf("peer read %v", err)
				}
				go func() {
					peer.Write(big)
					peer.Close()
				}()
				all, err := io.ReadAll(u)
				if err != nil || !bytes.Equal(all, big) {
					t.Fatalf("read %d bytes, %v; want %d and EOF", len(all), err, len(big))
				}
				// The peer is gone: an error, not a SIGPIPE.
				var werr error
				for range 100 {
					if _, werr = u.Write([]byte("x")); werr != nil {
						break
					}
					time.Sleep(time.Millisecond)
				}
				if werr == nil {
					t.Fatal("writes to a closed peer succeed")
				}
			})
			t.Run("read deadline", func(t *testing.T) {
				u, peer := socketPair(t, network)
				start := time.Now()
				u.SetReadDeadline(start.Add(50 * time.Millisecond))
				_, err := u.Read(make([]byte, 10))
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() || !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("read: %v, want a timeout", err)
				}
				if d := time.Since(start); d < 50*time.Millisecond || d > 2*time.Second {
					t.Fatalf("timed out after %v, want 50 ms", d)
				}
				// No deadline: the read waits for the data.
				u.SetReadDeadline(time.Time{})
				go func() {
					time.Sleep(20 * time.Millisecond)
					peer.Write([]byte("late"))
				}()
				buf := make([]byte, 10)
				if n, err := u.Read(buf); err != nil || string(buf[:n]) != "late" {
					t.Fatalf("read %q, %v", buf[:n], err)
				}
			})
			t.Run("a deadline set during a read ends it", func(t *testing.T) {
				// pgconn ends a read this way when its context does.
				u, _ := socketPair(t, network)
				done := make(chan error, 1)
				go func() {
					_, err := u.Read(make([]byte, 10))
					done <- err
				}()
				time.Sleep(30 * time.Millisecond)
				u.SetDeadline(time.Unix(1, 0))
				select {
				case err := <-done:
					if !errors.Is(err, os.ErrDeadlineExceeded) {
						t.Fatalf("read: %v, want a timeout", err)
					}
				case <-time.After(2 * time.Second):
					t.Fatal("the read goes on past its deadline")
				}
			})
			t.Run("write deadline", func(t *testing.T) {
				u, _ := socketPair(t, network) // the peer never reads
				u.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
				n, err := u.Write(make([]byte, 64<<20))
				if !errors.Is(err, os.ErrDeadlineExceeded) || n == 0 || n == 64<<20 {
					t.Fatalf("wrote %d bytes, %v; want some and a timeout", n, err)
				}
			})
			t.Run("close ends a read and a write", func(t *testing.T) {
				u, _ := socketPair(t, network)
				reads, writes := make(chan error, 1), make(chan error, 1)
				go func() {
					_, err := u.Read(make([]byte, 10))
					reads <- err
				}()
				go func() {
					_, err := u.Write(make([]byte, 64<<20))
					writes <- err
				}()
				time.Sleep(30 * time.Millisecond)
				if err := u.Close(); err != nil {
					t.Fatal(err)
				}
				for _, ch := range []chan error{reads, writes} {
					select {
					case err := <-ch:
						if !errors.Is(err, net.ErrClosed) {
							t.Fatalf("%v, want net.ErrClosed", err)
						}
					case <-time.After(2 * time.Second):
						t.Fatal("a call goes on after Close")
					}
				}
				if err := u.Close(); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("second close: %v", err)
				}
				if err := u.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("deadline after close: %v", err)
				}
			})
		})
	}
}
