//go:build !linux

package livequery

import "net"

// unpolled is Linux's way of sparing the stream's reader and the
// walsender a wake-up per message (see unpolled_linux.go); elsewhere the
// connection stays in Go's poller.
func unpolled(c net.Conn) (net.Conn, error) { return c, nil }
