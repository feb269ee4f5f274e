// Package session is the session cookie and how sessions are kept
// (Config). The cookie carries only the token of a row of the Auth.js
// sessions table (internal/authjs owns the rows), signed and encrypted with
// gorilla/securecookie and written with gorilla/sessions' cookie options. It
// never holds profile data, so there is nothing in it that can go stale.
package session

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// CookieName is the session cookie's name.
const CookieName = "freshgraph.session-token"

// MinSecretLength is the shortest SESSION_SECRET accepted, as for Auth.js's
// AUTH_SECRET (32 characters).
const MinSecretLength = 32

// Config is how sessions are kept.
type Config struct {
	// Secrets sign and encrypt the cookie, newest first: cookies made with an
	// older secret still work, so a secret can rotate without signing anyone
	// out.
	Secrets []string
	// MaxAge is how long an unused session lives; UpdateAge is how often its
	// expiry is pushed out again while it is used (Auth.js: 30 days, 1 day).
	MaxAge    time.Duration
	UpdateAge time.Duration
	// MaxLifetime ends a session that long after sign-in however much it
	// is used (OWASP's absolute timeout); zero: never.
	MaxLifetime time.Duration
	// Secure marks the cookie Secure. Browsers treat http://localhost as a
	// secure origin, so only plain http on another host needs it off.
	Secure bool
}

// ParseSecrets splits a comma-separated SESSION_SECRET and checks each part.
func ParseSecrets(s string) ([]string, error) {
	var secrets []string
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if len(part) < MinSecretLength {
			return nil, fmt.Errorf("SESSION_SECRET must be at least %d characters (or a comma-separated list of such secrets, newest first)", MinSecretLength)
		}
		secrets = append(secrets, part)
	}
	return secrets, nil
}

// Cookies reads and writes the session cookie. It is the HTTP edge of
// sessions: the rows are internal/authjs's, and what a token is worth is
// decided by the statement that uses it.
type Cookies struct {
	cfg     Config
	codecs  []securecookie.Codec
	options sessions.Options
}

// NewCookies returns the session cookie of cfg.
func NewCookies(cfg Config) (*Cookies, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("session: no secret")
	}
	if cfg.MaxAge <= 0 || cfg.UpdateAge < 0 || cfg.UpdateAge > cfg.MaxAge {
		return nil, errors.New("session: need 0 < max age and 0 <= update age <= max age")
	}
	// gorilla/sessions' defaults are unsafe (no HttpOnly, SameSite=None).
	s := &Cookies{cfg: cfg, options: sessions.Options{
		Path:     "/",
		MaxAge:   int(cfg.MaxAge / time.Second),
		Secure:   cfg.Secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}}
	for _, secret := range cfg.Secrets {
		codec, err := newCodec(secret, s.options.MaxAge)
		if err != nil {
			return nil, err
		}
		s.codecs = append(s.codecs, codec)
	}
	return s, nil
}

// newCodec derives the cookie's signing and encryption keys from secret with
// HKDF, as Auth.js derives its keys from AUTH_SECRET: each key is independent,
// and neither is the secret itself.
func newCodec(secret string, maxAge int) (securecookie.Codec, error) {
	hashKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "freshgraph session cookie: HMAC-SHA256 key", 32)
	if err != nil {
		return nil, err
	}
	blockKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "freshgraph session cookie: AES-256 key", 32)
	if err != nil {
		return nil, err
	}
	codec := securecookie.New(hashKey, blockKey)
	codec.MaxAge(maxAge)
	// The value is the bare token: no gob, no JSON.
	codec.SetSerializer(securecookie.NopEncoder{})
	return codec, nil
}

// Token returns the session token in r's cookie, if there is a valid one.
// A forged, truncated, expired or foreign cookie is simply no session.
func (s *Cookies) Token(r *http.Request) (string, bool) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", false
	}
	var token []byte
	if err := securecookie.DecodeMulti(CookieName, c.Value, &token, s.codecs...); err != nil || len(token) == 0 {
		return "", false
	}
	return string(token), true
}

// EncodeCookie returns the cookie value that carries token, signed and
// encrypted with the newest secret.
func (s *Cookies) EncodeCookie(token string) (string, error) {
	return securecookie.EncodeMulti(CookieName, []byte(token), s.codecs...)
}

// Cookie is what a response does with the session cookie; the zero value
// leaves it as it is.
type Cookie struct {
	// Token, if set, is the token the cookie now carries, for MaxAge.
	Token string
	// Clear expires the cookie.
	Clear bool
}

// Set writes what c asks for to w.
func (s *Cookies) Set(w http.ResponseWriter, c Cookie) error {
	switch {
	case c.Clear:
		opts := s.options
		opts.MaxAge = -1
		http.SetCookie(w, sessions.NewCookie(CookieName, "", &opts))
	case c.Token != "":
		encoded, err := s.EncodeCookie(c.Token)
		if err != nil {
			return err
		}
		http.SetCookie(w, sessions.NewCookie(CookieName, encoded, &s.options))
	}
	return nil
}

// NewToken returns 256 random bits, URL-safe, as Auth.js's session tokens.
func NewToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// NeedsExtending reports whether a session expiring at expires is due for its
// sliding extension: more than UpdateAge has passed since it was last set.
func (c Config) NeedsExtending(expires, now time.Time) bool {
	return expires.Sub(now) < c.MaxAge-c.UpdateAge
}
