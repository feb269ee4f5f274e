// Package accounts signs users up, in and out, and changes their profile. It
// is the session API's domain: resolvers hand it the caller, where it calls
// from and the SQL of the user fields asked for; it answers from PostgreSQL,
// never from a copy, and says what the response must do with the session
// cookie (session.Cookie), which the HTTP edge writes.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/password"
	"github.com/freshgraph/freshgraph/internal/ratelimit"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
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
	cfg       session.Config
	passwords *password.Hasher
	byEmail   *ratelimit.Limiter
	byAddress *ratelimit.Limiter
	now       func() time.Time
}

// NewService returns a Service over pool keeping sessions as cfg says.
func NewService(pool database.Conn, cfg session.Config) *Service {
	return &Service{
		pool:      pool,
		cfg:       cfg,
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

// limit takes a token for the client address and, if email is not empty,
// for email; it fails with a rate-limited error when either is out.
func (s *Service) limit(client, field, email string) error {
	now := s.now()
	ok, wait := s.byAddress.Allow(client, now)
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

// SignUp creates an account and signs it in: the user and its password in one
// statement, then the session row. client is the address the request comes
// from, for the rate limits; user writes the user's JSON.
func (s *Service) SignUp(ctx context.Context, client, email, pw string, name *string, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	const field = "signUp"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	if err := checkPassword(field, pw); err != nil {
		return nil, session.Cookie{}, err
	}
	if name, err = normalizeName(field, name); err != nil {
		return nil, session.Cookie{}, err
	}
	if err := s.limit(client, field, ""); err != nil {
		return nil, session.Cookie{}, err
	}
	hash, err := s.passwords.Hash(ctx, pw)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	id, userJSON, err := authjs.CreateUserWithPassword(ctx, s.conn(ctx), email, name, hash, user)
	if errors.Is(err, authjs.ErrEmailTaken) {
		return nil, session.Cookie{}, &hasura.Error{
			Code:    hasura.CodeConstraintViolation,
			Message: "an account with this email already exists",
			Path:    hasura.FieldPath(field) + ".args.email",
		}
	}
	if err != nil {
		return nil, session.Cookie{}, err
	}
	return s.startSession(ctx, id, userJSON)
}

// SignIn checks the password and starts a new session under a new token. An
// unknown email and a wrong password give the same error after the same work.
func (s *Service) SignIn(ctx context.Context, client, email, pw string, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	const field = "signIn"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return nil, session.Cookie{}, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	if err := s.limit(client, field, email); err != nil {
		return nil, session.Cookie{}, err
	}
	id, hash, userJSON, err := authjs.UserWithPassword(ctx, s.conn(ctx), email, user)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	ok, err := s.passwords.Verify(ctx, pw, hash)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	if !ok || id == "" {
		return nil, session.Cookie{}, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	return s.startSession(ctx, id, userJSON)
}

// startSession starts a session of userID. Always under a new token: a
// session fixed by whoever set the caller's old cookie must not become
// signed in.
func (s *Service) startSession(ctx context.Context, userID string, userJSON []byte) (*authjs.Session, session.Cookie, error) {
	token, expires, err := authjs.StartSession(ctx, s.conn(ctx), userID, s.cfg.MaxAge)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	return &authjs.Session{UserID: userID, User: userJSON, Expires: expires}, session.Cookie{Token: token}, nil
}

// SignOut deletes the session of token, so every copy of its cookie is dead
// at once, and clears the cookie. It reports whether there was a live
// session.
func (s *Service) SignOut(ctx context.Context, token string) (bool, session.Cookie, error) {
	if token == "" {
		return false, session.Cookie{}, nil
	}
	live, err := authjs.EndSession(ctx, s.conn(ctx), token)
	if err != nil {
		return false, session.Cookie{}, err
	}
	return live, session.Cookie{Clear: true}, nil
}

// Session reads the caller's session and its user, fresh (see
// authjs.ReadSession). A cookie caller's dead token gets its cookie
// cleared; once a day of use (UpdateAge) a live one's expiry is pushed out,
// with one more statement, and its cookie sent again.
func (s *Service) Session(ctx context.Context, caller auth.Caller, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	sess, err := authjs.ReadSession(ctx, s.conn(ctx), caller, user)
	if err != nil || caller.SessionToken == "" {
		return sess, session.Cookie{}, err
	}
	if sess == nil {
		return nil, session.Cookie{Clear: true}, nil
	}
	if !s.cfg.NeedsExtending(sess.Expires, s.now()) {
		return sess, session.Cookie{}, nil
	}
	expires, live, err := authjs.ExtendSession(ctx, s.conn(ctx), caller.SessionToken, s.cfg.MaxAge)
	switch {
	case err != nil:
		return nil, session.Cookie{}, err
	case !live: // it expired or ended in between
		return nil, session.Cookie{Clear: true}, nil
	}
	sess.Expires = expires
	return sess, session.Cookie{Token: caller.SessionToken}, nil
}

// UpdateProfile validates change and writes it to the caller's own row, and
// returns the row as stored.
func (s *Service) UpdateProfile(ctx context.Context, caller auth.Caller, change authjs.ProfileChange, user sqlbuild.Fragment) ([]byte, error) {
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
	userJSON, found, err := authjs.UpdateOwnProfile(ctx, s.conn(ctx), caller, change, user)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errNotSignedIn(field)
	}
	return userJSON, nil
}
