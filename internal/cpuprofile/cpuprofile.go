// Package cpuprofile starts a CPU profile written to a file, for make
// bench-load's servers: where a request's CPU goes, measured out of process.
package cpuprofile

import (
	"os"
	"runtime/pprof"
)

// Start profiles the process into the file at path until stop is called;
// with no path it does nothing.
func Start(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}, nil
}
