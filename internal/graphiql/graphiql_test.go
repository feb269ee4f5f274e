package graphiql

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql/playground"
)

// tags are the page's script and stylesheet tags: URL and integrity.
var tags = regexp.MustCompile(`(?:src|href)="([^"]+)"\s+integrity="([^"]+)"`)

func pageTags(t *testing.T, h http.Handler) map[string]string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	got := map[string]string{}
	for _, m := range tags.FindAllStringSubmatch(rec.Body.String(), -1) {
		got[m[1]] = m[2]
	}
	if len(got) != len(Assets) {
		t.Fatalf("the page loads %d files, want %d: %v", len(got), len(Assets), got)
	}
	return got
}

// The embedded files are the published builds: byte for byte those that
// gqlgen's CDN page names with its own integrity hashes (same versions),
// except the Explorer's stylesheet, which the CDN minifies itself.
func TestEmbeddedAssetsAreThePublishedBuilds(t *testing.T) {
	cdn := pageTags(t, playground.Handler("t", "/v1/graphql", playground.WithGraphiqlEnablePluginExplorer(true)))
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours := pageTags(t, r.Page)
	byName := map[string]string{}
	for u, sri := range ours {
		if !strings.HasPrefix(u, AssetsPath) {
			t.Errorf("the page loads %s from outside this server", u)
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(u, AssetsPath), "?")
		byName[name] = sri
	}
	published := map[string]string{
		"graphiql.min.js": "graphiql.min.js", "graphiql.min.css": "graphiql.min.css",
		"react.production.min.js": "react.production.min.js", "react-dom.production.min.js": "react-dom.production.min.js",
		"index.umd.js": "plugin-explorer.umd.js",
	}
	matched := 0
	for u, sri := range cdn {
		ourName, ok := published[path.Base(u)]
		if !ok {
			continue
		}
		matched++
		if byName[ourName] != sri {
			t.Errorf("%s is not %s (integrity %s, want %s): run web/graphiql/refresh.sh", ourName, u, byName[ourName], sri)
		}
	}
	if matched != len(published) {
		t.Errorf("compared %d files with the CDN's, want %d", matched, len(published))
	}
}

func TestAssetsServing(t *testing.T) {
	r, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var jsURL string
	for u := range pageTags(t, r.Page) {
		if strings.Contains(u, "graphiql.min.js") {
			jsURL = u
		}
	}
	want, _ := embedded.ReadFile("assets/graphiql.min.js")
	get := func(url string, header ...string) *http.Response {
		req := httptest.NewRequest("GET", url, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		r.Assets.ServeHTTP(rec, req)
		return rec.Result()
	}

	plain := get(jsURL)
	body, _ := io.ReadAll(plain.Body)
	if plain.StatusCode != 200 || !bytes.Equal(body, want) || plain.Header.Get("Content-Encoding") != "" {
		t.Fatalf("plain: %d, %d bytes, encoding %q", plain.StatusCode, len(body), plain.Header.Get("Content-Encoding"))
	}
	if got := plain.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/javascript") {
		t.Errorf("Content-Type %q", got)
	}
	if got := plain.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
		t.Errorf("the versioned URL's Cache-Control is %q", got)
	}

	zipped := get(jsURL, "Accept-Encoding", "br, gzip;q=0.8")
	if zipped.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("gzip not used: %v", zipped.Header)
	}
	zr, err := gzip.NewReader(zipped.Body)
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, want) {
		t.Error("the gzipped script is not the script")
	}
	if n := zipped.ContentLength; n <= 0 || n > int64(len(want))/2 {
		t.Errorf("gzipped to %d bytes of %d", n, len(want))
	}
	if got := get(jsURL, "Accept-Encoding", "gzip;q=0").Header.Get("Content-Encoding"); got != "" {
		t.Errorf("gzip;q=0 answered with %q", got)
	}

	if res := get(jsURL, "If-None-Match", plain.Header.Get("ETag")); res.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: %d, want 304", res.StatusCode)
	}
	unversioned := get(AssetsPath + "graphiql.min.js")
	if unversioned.StatusCode != 200 || unversioned.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("without its version: %d, Cache-Control %q", unversioned.StatusCode, unversioned.Header.Get("Cache-Control"))
	}
	for _, p := range []string{AssetsPath + "LICENSES.txt", AssetsPath + "../graphiql.go", AssetsPath + "nope.js", AssetsPath} {
		if res := get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", p, res.StatusCode)
		}
	}
}

func TestOptions(t *testing.T) {
	r, err := New(Options{CDN: true})
	if err != nil {
		t.Fatal(err)
	}
	if r.Assets != nil {
		t.Error("the CDN's page serves assets")
	}
	for u := range pageTags(t, r.Page) {
		if !strings.HasPrefix(u, "https://cdn.jsdelivr.net/") {
			t.Errorf("the CDN's page loads %s", u)
		}
	}
	if _, err := New(Options{CDN: true, AssetsDir: t.TempDir()}); err == nil {
		t.Error("both a CDN and a directory: no error")
	}

	// A directory replaces the embedded files, all of them.
	dir := t.TempDir()
	for _, name := range Assets[1:] {
		b, _ := embedded.ReadFile("assets/" + name)
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := New(Options{AssetsDir: dir}); err == nil || !strings.Contains(err.Error(), Assets[0]) {
		t.Fatalf("a directory without %s: %v", Assets[0], err)
	}
	if err := os.WriteFile(filepath.Join(dir, Assets[0]), []byte("console.log(1)"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err = New(Options{AssetsDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for u, sri := range pageTags(t, r.Page) {
		if strings.Contains(u, Assets[0]) && sri != "sha256-CihokcEcBW4atb/CW/XWsvWwbTjqwQlE9nj9ii5ww5M=" {
			t.Errorf("the directory's %s has integrity %s", Assets[0], sri)
		}
	}
}
