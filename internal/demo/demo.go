// Package demo serves /demo: a small page, built into the binary, that shows
// the seed's fix in a browser — sign up or in, rename yourself in the profile
// form, and the user button and its menu follow at once, in every tab. It
// uses only the public GraphQL API: session on load, updateUserProfile on
// submit, and subscription { session } for live updates.
package demo

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Handler serves the page at /demo and its assets under /demo/.
func Handler() http.Handler {
	files, _ := fs.Sub(static, "static")
	fileServer := http.StripPrefix("/demo/", http.FileServer(http.FS(files)))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src * data:; connect-src 'self'")
		if r.URL.Path == "/demo" {
			http.ServeFileFS(w, r, files, "index.html")
			return
		}
		fileServer.ServeHTTP(w, r)
	})
}
