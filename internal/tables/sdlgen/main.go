// Command sdlgen writes the Hasura part of the GraphQL schema from the table
// catalogue (internal/tables). `go generate ./...` runs it before gqlgen.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/freshgraph/freshgraph/internal/tables"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sdlgen OUTPUT.graphqls")
		os.Exit(2)
	}
	var buf bytes.Buffer
	if err := tables.WriteSDL(&buf); err != nil {
		fmt.Fprintln(os.Stderr, "sdlgen:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(os.Args[1], buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "sdlgen:", err)
		os.Exit(1)
	}
}
