// Package graphiql serves GraphiQL with the Explorer, talking to /v1/graphql
// with the browser's cookies, so its docs pane and Explorer show the schema
// of the signed-in role. Its scripts are the pinned builds embedded in the
// binary (assets/, refreshed from npm by web/graphiql/refresh.sh), so it
// works offline; a directory of the same files (GRAPHIQL_ASSETS_DIR, like
// Hasura's HASURA_GRAPHQL_CONSOLE_ASSETS_DIR) replaces them, and the CDN is
// used only when asked (GRAPHIQL_CDN).
package graphiql

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/playground"
)

// AssetsPath is where the assets are served.
const AssetsPath = "/graphiql/assets/"

// Assets are the files the page loads; an assets directory must hold them.
var Assets = []string{
	"graphiql.min.js", "graphiql.min.css",
	"react.production.min.js", "react-dom.production.min.js",
	"plugin-explorer.umd.js", "plugin-explorer.css",
}

//go:embed assets
var embedded embed.FS

// Options says where the page's scripts come from: the embedded builds
// unless AssetsDir names a directory of the same files or CDN is set.
type Options struct {
	AssetsDir string
	CDN       bool
}

// Routes are GraphiQL's handlers: the page, and the assets (nil with the
// CDN).
type Routes struct {
	Page   http.Handler
	Assets http.Handler
}

// New returns GraphiQL's routes.
func New(opts Options) (*Routes, error) {
	page := []playground.GraphiqlConfigOption{
		playground.WithStoragePrefix("freshgraph:"),
		playground.WithGraphiqlEnablePluginExplorer(true),
	}
	if opts.CDN {
		if opts.AssetsDir != "" {
			return nil, errors.New("GRAPHIQL_CDN and GRAPHIQL_ASSETS_DIR: choose one")
		}
		return &Routes{Page: playground.Handler("freshgraph", "/v1/graphql", page...)}, nil
	}
	if opts.AssetsDir != "" {
		// Read now: a directory without the files stops the start.
		return load(os.DirFS(opts.AssetsDir), page)
	}
	// The embedded files are read (and hashed) when GraphiQL is first
	// opened: a server nobody opens it on keeps 1.7 MB less.
	var once sync.Once
	var routes *Routes
	loaded := func() *Routes {
		once.Do(func() {
			files, err := fs.Sub(embedded, "assets")
			if err == nil {
				routes, err = load(files, page)
			}
			if err != nil {
				panic("graphiql: the embedded assets: " + err.Error()) // TestEmbeddedAssetsAreThePublishedBuilds
			}
		})
		return routes
	}
	return &Routes{
		Page:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { loaded().Page.ServeHTTP(w, r) }),
		Assets: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { loaded().Assets.ServeHTTP(w, r) }),
	}, nil
}

// load reads the assets from files and makes the routes that serve them.
func load(files fs.FS, page []playground.GraphiqlConfigOption) (*Routes, error) {
	served := &assets{byPath: map[string]*asset{}}
	url := map[string]string{}
	sri := map[string]string{}
	for _, name := range Assets {
		body, err := fs.ReadFile(files, name)
		if err != nil {
			return nil, fmt.Errorf("GRAPHIQL_ASSETS_DIR: %w (web/graphiql/refresh.sh DIR fills one)", err)
		}
		sum := sha256.Sum256(body)
		a := &asset{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`, contentType: mime.TypeByExtension(path.Ext(name))}
		served.byPath[AssetsPath+name] = a
		// The URL names the content, so a browser keeps a file until it
		// changes; subresource integrity makes it run only those bytes.
		url[name] = AssetsPath + name + "?v=" + hex.EncodeToString(sum[:8])
		sri[name] = "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
	}
	page = append(page,
		playground.WithGraphiqlVersion(url["graphiql.min.js"], url["graphiql.min.css"], sri["graphiql.min.js"], sri["graphiql.min.css"]),
		playground.WithGraphiqlReactVersion(url["react.production.min.js"], url["react-dom.production.min.js"],
			sri["react.production.min.js"], sri["react-dom.production.min.js"]),
		playground.WithGraphiqlPluginExplorerVersion(url["plugin-explorer.umd.js"], url["plugin-explorer.css"],
			sri["plugin-explorer.umd.js"], sri["plugin-explorer.css"]))
	return &Routes{Page: playground.Handler("freshgraph", "/v1/graphql", page...), Assets: served}, nil
}

// assets serves the files from memory, gzipped for the browsers that take
// it (GraphiQL's script is 1 MiB, a quarter of that gzipped).
type assets struct {
	byPath map[string]*asset
}

type asset struct {
	body        []byte
	etag        string
	contentType string
	gzipOnce    sync.Once
	gzipped     []byte
}

func (s *assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := s.byPath[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if r.URL.Query().Get("v") == strings.Trim(a.etag, `"`) {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	body := a.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		a.gzipOnce.Do(func() { a.gzipped = gzipped(a.body) })
		body = a.gzipped
		h.Set("Content-Encoding", "gzip")
	}
	// ServeContent answers If-None-Match (by the ETag above), HEAD and
	// ranges; it leaves the length to us when the body is encoded.
	h.Set("Content-Length", strconv.Itoa(len(body)))
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(coding), "gzip") {
			return strings.ReplaceAll(params, " ", "") != "q=0"
		}
	}
	return false
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Bytes()
}
