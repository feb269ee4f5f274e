// Package graphiql serves GraphiQL, talking to /v1/graphql with the browser's
// cookies. By default its scripts come from a CDN, as gqlgen's and Hasura's
// do; with an assets directory (GRAPHIQL_ASSETS_DIR, like Hasura's
// HASURA_GRAPHQL_CONSOLE_ASSETS_DIR; `make graphiql-assets` fills one) they
// are served from this server, so GraphiQL works offline.
package graphiql

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"

	"github.com/99designs/gqlgen/graphql/playground"
)

// AssetsPath is where the local assets are served.
const AssetsPath = "/graphiql/assets/"

// Assets are the files an assets directory must hold.
var Assets = []string{"graphiql.min.js", "graphiql.min.css", "react.production.min.js", "react-dom.production.min.js"}

// Routes are GraphiQL's handlers: the page, and, with local assets, the assets.
type Routes struct {
	Page   http.Handler
	Assets http.Handler // nil without an assets directory
}

// New returns GraphiQL's routes; assetsDir "" loads the assets from the CDN.
func New(assetsDir string) (*Routes, error) {
	opts := []playground.GraphiqlConfigOption{playground.WithStoragePrefix("freshgraph:")}
	r := &Routes{}
	if assetsDir != "" {
		sri := map[string]string{}
		for _, name := range Assets {
			b, err := os.ReadFile(filepath.Join(assetsDir, name))
			if err != nil {
				return nil, fmt.Errorf("GRAPHIQL_ASSETS_DIR: %w (run `make graphiql-assets` to fill it)", err)
			}
			// Subresource integrity, as the CDN page has: the browser runs
			// exactly the files that were installed.
			sum := sha256.Sum256(b)
			sri[name] = "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
		}
		opts = append(opts,
			playground.WithGraphiqlVersion(AssetsPath+"graphiql.min.js", AssetsPath+"graphiql.min.css",
				sri["graphiql.min.js"], sri["graphiql.min.css"]),
			playground.WithGraphiqlReactVersion(AssetsPath+"react.production.min.js", AssetsPath+"react-dom.production.min.js",
				sri["react.production.min.js"], sri["react-dom.production.min.js"]))
		files := http.StripPrefix(AssetsPath, http.FileServer(http.Dir(assetsDir)))
		allowed := map[string]bool{}
		for _, name := range Assets {
			allowed[AssetsPath+name] = true
		}
		r.Assets = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if !allowed[req.URL.Path] {
				http.NotFound(w, req)
				return
			}
			files.ServeHTTP(w, req)
		})
	}
	r.Page = playground.Handler("freshgraph", "/v1/graphql", opts...)
	return r, nil
}
