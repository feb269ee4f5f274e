//go:build benchload

package main

import (
	"log"
	"os"

	"github.com/freshgraph/freshgraph/internal/cpuprofile"
)

// A build for make bench-load (go build -tags benchload) writes a CPU
// profile of the whole run to FRESHGRAPH_CPUPROFILE, if it is set.
func init() {
	stop, err := cpuprofile.Start(os.Getenv("FRESHGRAPH_CPUPROFILE"))
	if err != nil {
		log.Fatal(err)
	}
	stopProfiling = stop
}
