// Package builtin is the Hasura metadata of the tables freshgraph itself
// creates (migrations/): the Auth.js tables, their relationships, and role
// user's permissions, in the layout a Hasura project's metadata has, so that
// they are described and checked the way a project's tables are.
package builtin

import (
	"embed"
	"io/fs"
	"sync"

	"github.com/freshgraph/freshgraph/internal/metadata"
)

//go:embed metadata
var files embed.FS

// Metadata is the built-in metadata, read once: the engine's permissions
// and the check at start share it. Callers must not change it.
var Metadata = sync.OnceValues(func() (*metadata.Metadata, error) {
	sub, err := fs.Sub(files, "metadata")
	if err != nil {
		return nil, err
	}
	return metadata.LoadFS(sub, "internal/builtin/metadata")
})
