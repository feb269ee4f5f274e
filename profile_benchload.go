//go:build benchload

package main

import (
	"log"
	"os"
	"runtime/pprof"
)

// A build for make bench-load (go build -tags benchload) writes a CPU
// profile of the whole run to FRESHGRAPH_CPUPROFILE, if it is set: where a
// request's CPU goes, measured out of process.
func init() {
	path := os.Getenv("FRESHGRAPH_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	stopProfiling = func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
