package graph

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
)

// AuthJSSessionPath is where Auth.js's client (SessionProvider, useSession,
// getSession) asks for the session.
const AuthJSSessionPath = "/api/auth/session"

// AuthJSSession answers GET /api/auth/session as Auth.js's own endpoint
// does — {"user": {"name", "email", "image"}, "expires"}, or {} when
// signed out — read fresh from PostgreSQL, for the caller of any of
// freshgraph's credentials, Auth.js's own session cookie included.
func AuthJSSession(service *accounts.Service, logger *slog.Logger) http.Handler {
	user := authjs.EndpointUser()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "private, no-cache, no-store")
		ctx := r.Context()
		sess, cookie, err := service.Session(ctx, auth.CallerFrom(ctx), user)
		exchangeFrom(ctx).setCookie(cookie)
		if err != nil {
			logger.ErrorContext(ctx, "reading the session for Auth.js's endpoint", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"There is a problem with the server configuration."}`))
			return
		}
		if sess == nil {
			_, _ = w.Write([]byte("{}"))
			return
		}
		var out struct {
			User struct {
				Name  *string `json:"name"`
				Email *string `json:"email"`
				Image *string `json:"image"`
			} `json:"user"`
			Expires string `json:"expires"`
		}
		if err := json.Unmarshal(sess.User, &out.User); err != nil {
			logger.ErrorContext(ctx, "reading the session for Auth.js's endpoint", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		// JavaScript's Date.prototype.toISOString, as Auth.js writes it.
		out.Expires = sess.Expires.UTC().Format("2006-01-02T15:04:05.000Z")
		_ = json.NewEncoder(w).Encode(out)
	})
}
