// Package session keeps signed-in sessions: a gorilla/sessions Store whose
// sessions are rows of the Auth.js sessions table, and whose cookie carries
// only the session token, signed and encrypted. The cookie never holds profile
// data, so there is nothing in it that can go stale.
package session

import (
	"context"
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

	"github.com/freshgraph/freshgraph/internal/database"
)

// CookieName is the session cookie's name.
const CookieName = "freshgraph.session-token"

// Values keys of a *sessions.Session handled by Store.
const (
	UserIDKey  = "userId"  // string: whose session a new session is (Save)
	ExpiresKey = "expires" // time.Time: set by Save
	EndedKey   = "ended"   // bool: set by Save when it ended a live session
)

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

// Store is a sessions.Store over the sessions table.
type Store struct {
	db      database.Conn
	cfg     Config
	codecs  []securecookie.Codec
	options sessions.Options
}

var _ sessions.Store = (*Store)(nil)

// NewStore returns a Store keeping sessions in db.
func NewStore(db database.Conn, cfg Config) (*Store, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("session: no secret")
	}
	if cfg.MaxAge <= 0 || cfg.UpdateAge < 0 || cfg.UpdateAge > cfg.MaxAge {
		return nil, errors.New("session: need 0 < max age and 0 <= update age <= max age")
	}
	s := &Store{db: db, cfg: cfg, options: sessions.Options{
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
func (s *Store) Token(r *http.Request) (string, bool) {
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

// Get returns the request's session, cached for the request (gorilla's registry).
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New returns the request's session: the token from its cookie as the ID, or
// a new, empty session. It does not read the database: what a session is
// worth is decided by the statement that uses its token.
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.options
	sess.Options = &opts
	sess.IsNew = true
	if token, ok := s.Token(r); ok {
		sess.ID = token
		sess.IsNew = false
	}
	return sess, nil
}

// ErrNoUser is returned by Save for a new session without Values[UserIDKey].
var ErrNoUser = errors.New("session: a new session needs Values[UserIDKey]")

// Save writes sess to the database (in the request's transaction, if its
// context has one) and its cookie to w:
//   - Options.MaxAge < 0 ends the session: its row is deleted, so a copy of
//     the cookie is dead at once (Values[EndedKey] tells whether it was
//     live), and the cookie is expired;
//   - a session without an ID starts, for Values[UserIDKey], under a new token;
//   - an existing session's expiry is pushed out to MaxAge from now.
//
// Values[ExpiresKey] is set to the session's new expiry.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	db := database.ConnFrom(ctx, s.db)
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			var live bool
			err := db.QueryRow(ctx, `WITH d AS (DELETE FROM sessions WHERE "sessionToken" = $1 RETURNING expires)
				SELECT coalesce(bool_or(expires > now()), false) FROM d`, sess.ID).Scan(&live)
			if err != nil {
				return err
			}
			sess.Values[EndedKey] = live
		}
		http.SetCookie(w, sessions.NewCookie(CookieName, "", sess.Options))
		return nil
	}
	var expires time.Time
	if sess.ID == "" {
		userID, _ := sess.Values[UserIDKey].(string)
		if userID == "" {
			return ErrNoUser
		}
		token := newToken()
		err := db.QueryRow(ctx, `INSERT INTO sessions ("sessionToken", "userId", expires)
			VALUES ($1, $2, now() + $3::interval) RETURNING expires`, token, userID, s.cfg.MaxAge).Scan(&expires)
		if err != nil {
			return err
		}
		sess.ID = token
	} else {
		var err error
		if expires, err = s.extend(ctx, db, sess.ID); err != nil {
			return err
		}
	}
	sess.Values[ExpiresKey] = expires
	return s.writeCookie(w, sess)
}

func (s *Store) extend(ctx context.Context, db database.Conn, token string) (time.Time, error) {
	var expires time.Time
	err := db.QueryRow(ctx, `UPDATE sessions SET expires = now() + $2::interval
		WHERE "sessionToken" = $1 AND expires > now() RETURNING expires`, token, s.cfg.MaxAge).Scan(&expires)
	return expires, err
}

// EncodeCookie returns the cookie value that carries token, signed and
// encrypted with the newest secret.
func (s *Store) EncodeCookie(token string) (string, error) {
	return securecookie.EncodeMulti(CookieName, []byte(token), s.codecs...)
}

func (s *Store) writeCookie(w http.ResponseWriter, sess *sessions.Session) error {
	encoded, err := s.EncodeCookie(sess.ID)
	if err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(CookieName, encoded, sess.Options))
	return nil
}

// NeedsExtending reports whether a session expiring at expires is due for its
// sliding extension: more than UpdateAge has passed since it was last set.
func (s *Store) NeedsExtending(expires, now time.Time) bool {
	return expires.Sub(now) < s.cfg.MaxAge-s.cfg.UpdateAge
}

// newToken returns 256 random bits, URL-safe, as Auth.js's session tokens.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
