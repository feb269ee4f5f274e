// Package accounts signs users up, in and out, and changes their profile. It
// is the session API's domain: resolvers hand it the request and the columns
// asked for, and it answers from PostgreSQL, never from a copy.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/password"
	"github.com/freshgraph/freshgraph/internal/ratelimit"
	"github.com/freshgraph/freshgraph/internal/session"
)

// Limits on sign-in and sign-up attempts. Per email they stop guessing one
// account's password; per client address they stop one client trying many
// accounts. Both refill steadily, so a person who mistypes is not locked out.
const (
	EmailBurst   = 5
	EmailEvery   = time.Minute
	AddressBurst = 20
	AddressEvery = 3 * time.Second
)

// Service runs the session API.
type Service struct {
	db        authjs.DB
	sessions  *session.Store
	passwords *password.Hasher
	byEmail   *ratelimit.Limiter
	byAddress *ratelimit.Limiter
	now       func() time.Time
}

// NewService returns a Service over db keeping sessions in store.
func NewService(db authjs.DB, store *session.Store) *Service {
	return &Service{
		db:        db,
		sessions:  store,
		passwords: password.NewHasher(),
		byEmail:   ratelimit.New(EmailBurst, EmailEvery),
		byAddress: ratelimit.New(AddressBurst, AddressEvery),
		now:       time.Now,
	}
}

var errBadCredentials = &hasura.Error{Code: hasura.CodeAccessDenied, Message: "invalid email or password"}

func errNotSignedIn(field string) error {
	return &hasura.Error{Code: hasura.CodeAccessDenied, Message: "not signed in", Path: hasura.FieldPath(field)}
}

// limit takes a token for the client address of r and, if email is not
// empty, for email; it fails with a rate-limited error when either is out.
func (s *Service) limit(r *http.Request, field, email string) error {
	now := s.now()
	ok, wait := s.byAddress.Allow(clientAddress(r), now)
	if ok && email != "" {
		ok, wait = s.byEmail.Allow(email, now)
	}
	if ok {
		return nil
	}
	return &hasura.Error{
		Code:    hasura.CodeRateLimited,
		Message: fmt.Sprintf("too many attempts; try again in %d seconds", int(wait.Seconds()+0.999)),
		Path:    hasura.FieldPath(field),
	}
}

// clientAddress is the address the request came from. X-Forwarded-For is not
// trusted: any client can send it.
func clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SignUp creates an account and signs it in: the user and its password in one
// statement, then the session row and cookie.
func (s *Service) SignUp(ctx context.Context, r *http.Request, w http.ResponseWriter, email, pw string, name *string, cols []string) (*authjs.Session, error) {
	const field = "signUp"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(field, pw); err != nil {
		return nil, err
	}
	if name, err = normalizeName(field, name); err != nil {
		return nil, err
	}
	if err := s.limit(r, field, ""); err != nil {
		return nil, err
	}
	hash, err := s.passwords.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	u, err := authjs.CreateUserWithPassword(ctx, s.db, email, name, hash, cols)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.ConstraintName == "users_email_key" {
		return nil, argError(field, "email", "an account with this email already exists")
	}
	if err != nil {
		return nil, err
	}
	return s.startSession(r, w, u)
}

// SignIn checks the password and starts a new session under a new token. An
// unknown email and a wrong password give the same error after the same work.
func (s *Service) SignIn(ctx context.Context, r *http.Request, w http.ResponseWriter, email, pw string, cols []string) (*authjs.Session, error) {
	const field = "signIn"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return nil, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	if err := s.limit(r, field, email); err != nil {
		return nil, err
	}
	u, hash, err := authjs.UserWithPassword(ctx, s.db, email, cols)
	if err != nil {
		return nil, err
	}
	ok, err := s.passwords.Verify(ctx, pw, hash)
	if err != nil {
		return nil, err
	}
	if !ok || u == nil {
		return nil, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	return s.startSession(r, w, u)
}

func (s *Service) startSession(r *http.Request, w http.ResponseWriter, u *authjs.User) (*authjs.Session, error) {
	sess, err := s.sessions.New(r, session.CookieName)
	if err != nil {
		return nil, err
	}
	// Always a new token: a session fixed by whoever set the old cookie must
	// not become signed in.
	sess.ID, sess.IsNew = "", true
	sess.Values[session.UserIDKey] = u.ID
	if err := s.sessions.Save(r, w, sess); err != nil {
		return nil, err
	}
	return &authjs.Session{User: u, Expires: sess.Values[session.ExpiresKey].(time.Time)}, nil
}

// SignOut deletes the caller's session row, so every copy of its cookie is
// dead at once, and expires the cookie. It reports whether there was a live
// session.
func (s *Service) SignOut(ctx context.Context, r *http.Request, w http.ResponseWriter, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	sess, err := s.sessions.New(r, session.CookieName)
	if err != nil {
		return false, err
	}
	sess.ID = token
	sess.Options.MaxAge = -1
	if err := s.sessions.Save(r, w, sess); err != nil {
		return false, err
	}
	return sess.Values[session.EndedKey] == true, nil
}

// Session reads the session of token and its user's columns cols in one
// statement. Once a day of use (UpdateAge) it also pushes the expiry out,
// with one more statement, and re-sends the cookie. A dead token gets its
// cookie expired.
func (s *Service) Session(ctx context.Context, r *http.Request, w http.ResponseWriter, token string, cols []string) (*authjs.Session, error) {
	if token == "" {
		return nil, nil
	}
	current, err := authjs.SessionByToken(ctx, s.db, token, cols)
	if err != nil {
		return nil, err
	}
	sess, err := s.sessions.New(r, session.CookieName)
	if err != nil {
		return nil, err
	}
	if current == nil {
		sess.ID = "" // nothing left to delete: only the cookie goes
		sess.Options.MaxAge = -1
		return nil, s.sessions.Save(r, w, sess)
	}
	if s.sessions.NeedsExtending(current.Expires, s.now()) {
		if err := s.sessions.Save(r, w, sess); err != nil {
			return nil, err
		}
		current.Expires = sess.Values[session.ExpiresKey].(time.Time)
	}
	return current, nil
}

// UpdateProfile validates change and writes it to the user of token, and
// returns the row as stored.
func (s *Service) UpdateProfile(ctx context.Context, token string, change authjs.ProfileChange, cols []string) (*authjs.User, error) {
	const field = "updateUserProfile"
	if token == "" {
		return nil, errNotSignedIn(field)
	}
	var err error
	if change.SetName {
		if change.Name, err = normalizeName(field, change.Name); err != nil {
			return nil, err
		}
	}
	if change.SetImage {
		if err := checkImage(field, change.Image); err != nil {
			return nil, err
		}
	}
	u, err := authjs.UpdateOwnProfile(ctx, s.db, token, change, cols)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errNotSignedIn(field)
	}
	return u, nil
}
