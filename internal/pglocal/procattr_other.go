//go:build !linux

package pglocal

import "syscall"

// setParentDeathSignal is a no-op: parent-death signals are Linux-only, so
// elsewhere a crash of ours leaves the server running until the next Stop
// or reboot (the next Start then reports its lock file).
func setParentDeathSignal(*syscall.SysProcAttr) {}
