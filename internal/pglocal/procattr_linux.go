package pglocal

import "syscall"

// setParentDeathSignal makes the kernel fast-shut-down postgres if our
// process dies without calling Stop. SIGINT, not SIGKILL: a killed
// postmaster leaves its backends and shared memory behind for a while.
// The kernel sends it when the thread that started postgres exits; Go only
// ends threads of goroutines that exit while locked (go.dev/issue/27505),
// which Start's callers do not do.
func setParentDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGINT }
