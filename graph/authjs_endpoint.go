package graph

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/authjwt"
)

// Where Auth.js's client (SessionProvider, useSession, getSession, and
// useSession().update) asks for the session and for a CSRF token.
const (
	AuthJSSessionPath = "/api/auth/session"
	AuthJSCSRFPath    = "/api/auth/csrf"
)

// AuthJSEndpoint answers Auth.js's client as Auth.js's own endpoints do,
// with the session read fresh from PostgreSQL, for the caller of any of
// freshgraph's credentials, Auth.js's own session cookies included.
type AuthJSEndpoint struct {
	Accounts *accounts.Service
	// Tokens renews the JWT strategy's cookie and checks the CSRF cookie;
	// nil when freshgraph has no Auth.js secret: then a POST is answered
	// as a GET, unchecked (it changes nothing), and there is no CSRF
	// endpoint.
	Tokens *authjwt.Reader
	// V5 answers a visitor with no session null, as Auth.js v5 does, where
	// next-auth v4 answers {}: each client reads only its own as signed
	// out. A request with a cookie of either's names says which it is;
	// V5 is for the one with none.
	V5 bool
	// BodyBytes bounds a POST's body.
	BodyBytes int64
	Logger    *slog.Logger
}

// noStore is what Auth.js sends with a session or a CSRF token: no cache
// may keep either.
func noStore(h http.Header) {
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "private, no-cache, no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
}

// v5 reports whether the request is from an Auth.js v5 app, as far as its
// cookies tell.
func (e *AuthJSEndpoint) v5(r *http.Request) bool {
	for _, c := range r.Cookies() {
		switch {
		case strings.Contains(c.Name, "authjs."):
			return true
		case strings.Contains(c.Name, "next-auth."):
			return false
		}
	}
	return e.V5
}

// empty is the body of no session, in the client's own form.
func (e *AuthJSEndpoint) empty(r *http.Request) []byte {
	if e.v5(r) {
		return []byte("null")
	}
	return []byte("{}")
}

// Session answers GET /api/auth/session and POST, which update() sends:
// {"user": {"name", "email", "image"}, "expires"}, or the client's empty
// answer when signed out. A POST must carry the token of the CSRF cookie
// (csrfToken, JSON or a form) when there is an Auth.js secret, else it is
// answered 400 as Auth.js does. Whatever data it sends is not written: the
// profile is changed through GraphQL, and read back here fresh. The JWT
// strategy's cookie is renewed as Auth.js's endpoint renews it.
func (e *AuthJSEndpoint) Session() http.Handler {
	user := authjs.EndpointUser()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		noStore(w.Header())
		if r.Method == http.MethodPost && e.Tokens != nil && !e.Tokens.CSRFVerified(r, e.csrfTokenOf(w, r)) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(e.empty(r))
			return
		}
		ctx := r.Context()
		caller := auth.CallerFrom(ctx)
		sess, cookie, err := e.Accounts.Session(ctx, caller, user)
		exchangeFrom(ctx).setCookie(cookie)
		if err == nil && sess != nil && caller.AuthJS && caller.SessionToken == "" {
			err = e.renew(w, r, sess)
		}
		if err != nil {
			e.Logger.ErrorContext(ctx, "reading the session for Auth.js's endpoint", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"message":"There is a problem with the server configuration."}`))
			return
		}
		if sess == nil {
			_, _ = w.Write(e.empty(r))
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
			e.Logger.ErrorContext(ctx, "reading the session for Auth.js's endpoint", "err", err)
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		// JavaScript's Date.prototype.toISOString, as Auth.js writes it.
		out.Expires = sess.Expires.UTC().Format("2006-01-02T15:04:05.000Z")
		_ = json.NewEncoder(w).Encode(out)
	})
}

// renew sends the JWT strategy's cookie again, as Auth.js's endpoint does
// at every read: the session slides while it is used.
func (e *AuthJSEndpoint) renew(w http.ResponseWriter, r *http.Request, sess *authjs.Session) error {
	token, ok := e.Tokens.Read(r, time.Now())
	if !ok {
		return nil // it expired in between
	}
	cookies, expires, err := e.Tokens.Renew(token, time.Now())
	if err != nil {
		return err
	}
	for _, c := range cookies {
		http.SetCookie(w, c)
	}
	sess.Expires = expires
	return nil
}

// csrfTokenOf reads a POST's csrfToken: a JSON body's, as update() sends
// it, or a form's, as Auth.js reads it too.
func (e *AuthJSEndpoint) csrfTokenOf(w http.ResponseWriter, r *http.Request) string {
	r.Body = http.MaxBytesReader(w, r.Body, e.BodyBytes)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		if r.ParseForm() != nil {
			return ""
		}
		return r.PostForm.Get("csrfToken")
	}
	var body struct {
		CSRFToken string `json:"csrfToken"`
	}
	if json.NewDecoder(r.Body).Decode(&body) != nil {
		return ""
	}
	return body.CSRFToken
}

// CSRF answers GET /api/auth/csrf: {"csrfToken"}, the token of the
// request's CSRF cookie, or a new one with its cookie, as Auth.js does; 404
// without an Auth.js secret, which every token is made with.
func (e *AuthJSEndpoint) CSRF() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if e.Tokens == nil {
			http.NotFound(w, r)
			return
		}
		noStore(w.Header())
		token, ok := e.Tokens.CSRFToken(r)
		if !ok {
			// Over https (as a proxy tells), the __Host- name, as Auth.js.
			secure := r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
			var cookie *http.Cookie
			token, cookie = e.Tokens.NewCSRF(e.v5(r), secure)
			http.SetCookie(w, cookie)
		}
		_ = json.NewEncoder(w).Encode(map[string]string{"csrfToken": token})
	})
}
