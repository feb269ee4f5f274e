// Package auth identifies who is calling: the role a request runs as and, for
// a signed-in user, which user. The caller is a small value carried in the
// request context; it never holds a copy of the user's profile, which is read
// from PostgreSQL whenever it is shown.
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"time"

	"github.com/freshgraph/freshgraph/internal/authjwt"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/jwtauth"
)

// Role is a Hasura role name.
type Role string

// The roles this server knows.
const (
	RoleAdmin     Role = "admin"
	RoleUser      Role = "user"
	RoleAnonymous Role = "anonymous"
)

// Caller is who a request runs as.
type Caller struct {
	Role Role
	// SessionToken is set for a caller signed in with a session cookie. Which
	// user it belongs to, and whether it is still live, is decided in SQL by
	// the statement that uses it, so there is no extra round trip for it.
	SessionToken string
	// AuthJS: the caller came with Auth.js's own session cookie, which
	// Auth.js owns: freshgraph neither sets, clears nor slides it (but as
	// Auth.js's session endpoint would). Its SessionToken is set for the
	// database strategy's; for the JWT strategy's, UserID and Expires are
	// the token's subject and expiry.
	AuthJS bool
	// UserID is X-Hasura-User-Id, from a JWT's claims or, for the admin
	// posing as another role, from the request's headers.
	UserID string
	// Vars are the other session variables, names in lower case: a JWT's
	// x-hasura-* claims, or the admin's x-hasura-* headers.
	Vars map[string]string
	// Expires is when a JWT caller's token expires (zero: no exp claim).
	Expires time.Time
	// Vouched: the request carries the admin secret. An app server's, it
	// may name the end user it speaks for (its address, for the limits).
	Vouched bool
}

// Var returns the session variable name (lower case, x-hasura-…).
func (c Caller) Var(name string) (string, bool) {
	switch name {
	case "x-hasura-user-id":
		return c.UserID, c.UserID != ""
	case "x-hasura-role":
		return string(c.Role), true
	}
	v, ok := c.Vars[name]
	return v, ok
}

// SessionVariables are c's session variables as Hasura passes them to
// handlers and events: x-hasura-role, x-hasura-user-id when known here (a
// cookie caller's is decided in SQL), and the others.
func (c Caller) SessionVariables() map[string]string {
	vars := make(map[string]string, len(c.Vars)+2)
	for name, v := range c.Vars {
		vars[name] = v
	}
	vars["x-hasura-role"] = string(c.Role)
	if c.UserID != "" {
		vars["x-hasura-user-id"] = c.UserID
	}
	return vars
}

type callerKey struct{}

// WithCaller returns ctx carrying c.
func WithCaller(ctx context.Context, c Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, c)
}

// CallerFrom returns the caller in ctx; a context without one is anonymous.
func CallerFrom(ctx context.Context) Caller {
	if c, ok := ctx.Value(callerKey{}).(Caller); ok {
		return c
	}
	return Caller{Role: RoleAnonymous}
}

// AdminSecretHeader is Hasura's header; header names are case-insensitive.
const AdminSecretHeader = "X-Hasura-Admin-Secret"

// legacyAdminSecretHeader is the name Hasura v1 used and still accepts.
const legacyAdminSecretHeader = "X-Hasura-Access-Key"

// Authenticator identifies callers.
type Authenticator struct {
	adminSecretHash *[sha256.Size]byte // nil: admin access is off
	jwt             *jwtauth.Verifier  // nil: no JWT mode
	sessionToken    func(*http.Request) (string, bool)
	authJSCookies   []string
	authJWT         *authjwt.Reader
	liveSession     func(context.Context, string) (bool, error)
	unauthorized    Role
}

// Config is how callers prove who they are.
type Config struct {
	// AdminSecret empty turns admin access off (Hasura's default would be
	// an open admin API).
	AdminSecret string
	JWT         *jwtauth.Verifier // nil: no JWT mode
	// SessionToken reads a valid session cookie's token.
	SessionToken func(*http.Request) (string, bool)
	// AuthJSCookies are the names of Auth.js's session cookies, whose value
	// is the sessionToken of a sessions row (its database strategy), read
	// when the request has no cookie of freshgraph's own.
	AuthJSCookies []string
	// AuthJWT reads the session cookies of Auth.js's JWT strategy (nil:
	// there is no Auth.js secret to read them with).
	AuthJWT *authjwt.Reader
	// LiveSession reports whether an Auth.js cookie's token names a live
	// session (authjs.SessionIsLive).
	LiveSession func(ctx context.Context, token string) (bool, error)
	// UnauthorizedRole is the role of a caller with no credentials
	// (HASURA_GRAPHQL_UNAUTHORIZED_ROLE); empty: anonymous.
	UnauthorizedRole Role
}

// NewAuthenticator returns an Authenticator.
func NewAuthenticator(c Config) *Authenticator {
	a := &Authenticator{jwt: c.JWT, sessionToken: c.SessionToken, authJSCookies: c.AuthJSCookies, authJWT: c.AuthJWT,
		liveSession: c.LiveSession, unauthorized: c.UnauthorizedRole}
	if a.unauthorized == "" {
		a.unauthorized = RoleAnonymous
	}
	if c.AdminSecret != "" {
		h := sha256.Sum256([]byte(c.AdminSecret))
		a.adminSecretHash = &h
	}
	return a
}

var errInvalidAdminSecret = &hasura.Error{
	Code:    hasura.CodeAccessDenied,
	Message: "invalid x-hasura-admin-secret/x-hasura-access-key",
}

// RoleHeader picks the role a request runs as, among those its credentials
// allow; UserIDHeader names the user when the admin poses as a user.
const (
	RoleHeader   = "X-Hasura-Role"
	UserIDHeader = "X-Hasura-User-Id"
)

// Identify returns the caller of r, or Hasura's error when r presents
// credentials that are wrong. As in Hasura, the admin secret is checked first,
// then a JWT in Authorization (in JWT mode); after those, freshgraph's own
// session cookie, then Auth.js's (its JWT strategy's, then its database
// strategy's), and else the caller has the unauthorized role.
func (a *Authenticator) Identify(r *http.Request) (Caller, error) {
	secret, sent := adminSecretOf(r)
	if sent {
		// Hashing first makes the comparison constant-time in the secret's
		// length as well as its content.
		got := sha256.Sum256([]byte(secret))
		if a.adminSecretHash == nil || subtle.ConstantTimeCompare(got[:], a.adminSecretHash[:]) != 1 {
			return Caller{}, errInvalidAdminSecret
		}
		// The admin may pose as any role, with its session variables taken
		// from the request's x-hasura-* headers.
		role := Role(r.Header.Get(RoleHeader))
		if role == "" {
			role = RoleAdmin
		}
		return Caller{Role: role, UserID: r.Header.Get(UserIDHeader), Vars: headerVars(r.Header), Vouched: true}, nil
	}
	if header, ok := r.Header["Authorization"]; ok && a.jwt != nil {
		role, claims, err := a.jwt.Verify(header[0], r.Header.Get(RoleHeader))
		if err != nil {
			return Caller{}, err
		}
		return Caller{Role: Role(role), UserID: claims.UserID, Vars: claims.Vars, Expires: claims.Expires}, nil
	}
	if token, ok := a.sessionToken(r); ok {
		return Caller{Role: RoleUser, SessionToken: token}, nil
	}
	// Only the token's subject is taken, and the user read fresh by it. A
	// token that does not decrypt or has expired is no credential: its
	// visitor is anonymous, as Auth.js would have it signed out.
	if t, ok := a.authJWT.Read(r, time.Now()); ok {
		return Caller{Role: RoleUser, UserID: t.Subject, Expires: t.Expires, AuthJS: true}, nil
	}
	for _, name := range a.authJSCookies {
		c, err := r.Cookie(name)
		if err != nil || !sessionShaped(c.Value) {
			continue
		}
		// Auth.js's cookie outlives its session (a sign-out elsewhere, an
		// expiry): one that names none is no credential, so its visitor
		// keeps what the unauthorized role may do.
		if a.liveSession != nil {
			live, err := a.liveSession(r.Context(), c.Value)
			if err != nil {
				return Caller{}, err
			}
			if !live {
				continue
			}
		}
		return Caller{Role: RoleUser, SessionToken: c.Value, AuthJS: true}, nil
	}
	return Caller{Role: a.unauthorized}, nil
}

// sessionShaped reports whether v can be an Auth.js database session's
// token: Auth.js writes a UUID (v5, and v4's default) or random hex (v4),
// and an app's own generateSessionToken URL-safe characters. Anything else
// — a JWT strategy's encrypted cookie, with its dots, say — is never
// looked up as one.
func sessionShaped(v string) bool {
	if len(v) < 16 || len(v) > 256 {
		return false
	}
	for i := range len(v) {
		if c := v[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// headerVars are the x-hasura-* headers of a request, as session variables;
// the admin secret is not one. Only those names are lowercased, and the map
// is made only if there is one: most requests send none.
func headerVars(h http.Header) map[string]string {
	var vars map[string]string
	for name, values := range h {
		if len(name) <= len("x-hasura-") || !strings.EqualFold(name[:len("x-hasura-")], "x-hasura-") || len(values) == 0 {
			continue
		}
		name = strings.ToLower(name)
		if name == "x-hasura-admin-secret" || name == "x-hasura-access-key" {
			continue
		}
		if vars == nil {
			vars = map[string]string{}
		}
		vars[name] = values[0]
	}
	return vars
}

func adminSecretOf(r *http.Request) (string, bool) {
	for _, name := range []string{AdminSecretHeader, legacyAdminSecretHeader} {
		if v := r.Header.Values(name); len(v) > 0 {
			return v[0], true
		}
	}
	return "", false
}
