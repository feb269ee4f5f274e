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

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
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
	pool      database.Conn
	sessions  *session.Store
	passwords *password.Hasher
	byEmail   *ratelimit.Limiter
	byAddress *ratelimit.Limiter
	now       func() time.Time
}

// NewService returns a Service over db keeping sessions in store.
func NewService(pool database.Conn, store *session.Store) *Service {
	return &Service{
		pool:      pool,
		sessions:  store,
		passwords: password.NewHasher(),
		byEmail:   ratelimit.New(EmailBurst, EmailEvery),
		byAddress: ratelimit.New(AddressBurst, AddressEvery),
		now:       time.Now,
	}
}

// conn is the request's transaction, if any, else the pool: a session API
// mutation beside Hasura's in one request shares their transaction.
func (s *Service) conn(ctx context.Context) database.Conn { return database.ConnFrom(ctx, s.pool) }

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

// Session is a live session: its user as the caller's selection renders it,
// and its expiry.
type Session struct {
	UserJSON []byte
	Expires  time.Time
}

// SignUp creates an account and signs it in: the user and its password in one
// statement, then the session row and cookie.
func (s *Service) SignUp(ctx context.Context, r *http.Request, w http.ResponseWriter, email, pw string, name *string, user authjs.Projection) (*Session, error) {
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
	id, userJSON, err := authjs.CreateUserWithPassword(ctx, s.conn(ctx), email, name, hash, user)
	if errors.Is(err, authjs.ErrEmailTaken) {
		return nil, &hasura.Error{
			Code:    hasura.CodeConstraintViolation,
			Message: "an account with this email already exists",
			Path:    hasura.FieldPath(field) + ".args.email",
		}
	}
	if err != nil {
		return nil, err
	}
	return s.startSession(r, w, id, userJSON)
}

// SignIn checks the password and starts a new session under a new token. An
// unknown email and a wrong password give the same error after the same work.
func (s *Service) SignIn(ctx context.Context, r *http.Request, w http.ResponseWriter, email, pw string, user authjs.Projection) (*Session, error) {
	const field = "signIn"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return nil, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	if err := s.limit(r, field, email); err != nil {
		return nil, err
	}
	id, hash, userJSON, err := authjs.UserWithPassword(ctx, s.conn(ctx), email, user)
	if err != nil {
		return nil, err
	}
	ok, err := s.passwords.Verify(ctx, pw, hash)
	if err != nil {
		return nil, err
	}
	if !ok || id == "" {
		return nil, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	return s.startSession(r, w, id, userJSON)
}

func (s *Service) startSession(r *http.Request, w http.ResponseWriter, userID string, userJSON []byte) (*Session, error) {
	sess, err := s.sessions.New(r, session.CookieName)
	if err != nil {
		return nil, err
	}
	// Always a new token: a session fixed by whoever set the old cookie must
	// not become signed in.
	sess.ID, sess.IsNew = "", true
	sess.Values[session.UserIDKey] = userID
	if err := s.sessions.Save(r, w, sess); err != nil {
		return nil, err
	}
	return &Session{UserJSON: userJSON, Expires: sess.Values[session.ExpiresKey].(time.Time)}, nil
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

// Session reads the caller's session and its user, fresh:
//   - a cookie caller: the session row of its token joined to the user, in
//     one statement. Once a day of use (UpdateAge) the expiry is pushed out,
//     with one more statement, and the cookie re-sent; a dead token gets its
//     cookie expired;
//   - a JWT caller (or the admin posing with X-Hasura-User-Id): the user
//     named by x-hasura-user-id, with the token's expiry (no exp: no session).
func (s *Service) Session(ctx context.Context, r *http.Request, w http.ResponseWriter, caller auth.Caller, user authjs.Projection) (*Session, error) {
	if caller.SessionToken == "" {
		if caller.UserID == "" || caller.Expires.IsZero() {
			return nil, nil
		}
		userJSON, found, err := authjs.UserByID(ctx, s.conn(ctx), caller.UserID, user)
		if !found || err != nil {
			return nil, err
		}
		return &Session{UserJSON: userJSON, Expires: caller.Expires}, nil
	}
	row, err := authjs.SessionByToken(ctx, s.conn(ctx), caller.SessionToken, user)
	if err != nil {
		return nil, err
	}
	userJSON, expires, found := row.UserJSON, row.Expires, row.Found
	sess, err := s.sessions.New(r, session.CookieName)
	if err != nil {
		return nil, err
	}
	if !found {
		sess.ID = "" // nothing left to delete: only the cookie goes
		sess.Options.MaxAge = -1
		return nil, s.sessions.Save(r, w, sess)
	}
	if s.sessions.NeedsExtending(expires, s.now()) {
		if err := s.sessions.Save(r, w, sess); err != nil {
			return nil, err
		}
		expires = sess.Values[session.ExpiresKey].(time.Time)
	}
	return &Session{UserJSON: userJSON, Expires: expires}, nil
}

// UpdateProfile validates change and writes it to the caller's own row, and
// returns the row as stored.
func (s *Service) UpdateProfile(ctx context.Context, caller auth.Caller, change authjs.ProfileChange, user authjs.Projection) ([]byte, error) {
	const field = "updateUserProfile"
	if caller.SessionToken == "" && (caller.UserID == "" || caller.Role != auth.RoleUser) {
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
	owner := authjs.Owner{SessionToken: caller.SessionToken, UserID: caller.UserID}
	userJSON, found, err := authjs.UpdateOwnProfile(ctx, s.conn(ctx), owner, change, user)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNotSignedIn(field)
	}
	return userJSON, nil
}
