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
	"log/slog"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/metrics"
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
	// seen is when this instance last recorded each session's use.
	seen *lru.Cache[string, time.Time]
	now  func() time.Time
	// mailer delivers password reset links (nil: none are sent), each
	// resetLink with {token} replaced.
	mailer    Mailer
	resetLink string
	metrics   *metrics.Metrics // nil: none kept
}

// WithMetrics has the Service count the sessions it reads and ends in m.
func (s *Service) WithMetrics(m *metrics.Metrics) *Service {
	s.metrics = m
	return s
}

// WithMailer has the Service hand password reset links to m: resetLink with
// {token} replaced by the reset token, e.g.
// https://app.example.com/reset-password?token={token}.
func (s *Service) WithMailer(m Mailer, resetLink string) *Service {
	s.mailer, s.resetLink = m, resetLink
	return s
}

// seenEvery is how often a session's last use is written down: its
// "last seen" is right to within this.
const seenEvery = 5 * time.Minute

// NewService returns a Service over pool keeping sessions as cfg says.
func NewService(pool database.Conn, cfg session.Config) *Service {
	return &Service{
		pool:      pool,
		cfg:       cfg,
		passwords: password.NewHasher(),
		byEmail:   ratelimit.New(EmailBurst, EmailEvery),
		byAddress: ratelimit.New(AddressBurst, AddressEvery),
		seen:      must(lru.New[string, time.Time](100_000)),
		now:       time.Now,
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
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
	n, unit := int(wait.Seconds()+0.999), "seconds"
	if n == 1 {
		unit = "second"
	}
	return &hasura.Error{
		Code:    hasura.CodeRateLimited,
		Message: fmt.Sprintf("too many attempts; try again in %d %s", n, unit),
		Path:    hasura.FieldPath(field),
	}
}

// SignUp creates an account and signs it in: the user and its password in one
// statement, then the session row. client is where the request comes from:
// its address for the rate limits, both for the list of sessions; user
// writes the user's JSON.
func (s *Service) SignUp(ctx context.Context, client authjs.Client, email, pw string, name *string, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	const field = "signUp"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	if err := checkPassword(field, "password", pw, email); err != nil {
		return nil, session.Cookie{}, err
	}
	if name, err = normalizeName(field, name); err != nil {
		return nil, session.Cookie{}, err
	}
	if err := s.limit(client.Address, field, ""); err != nil {
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
	return s.startSession(ctx, id, userJSON, client)
}

// SignIn checks the password and starts a new session under a new token. An
// unknown email and a wrong password give the same error after the same work.
func (s *Service) SignIn(ctx context.Context, client authjs.Client, email, pw string, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	id, userJSON, err := s.checkCredentials(ctx, "signIn", client, email, pw, user)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	return s.startSession(ctx, id, userJSON, client)
}

// VerifyPassword checks an email and password as SignIn does — the same
// work for a wrong one, the same limits — and answers the user, starting
// nothing: what an app's own sign-in (a Credentials provider's authorize)
// asks of its users' passwords.
func (s *Service) VerifyPassword(ctx context.Context, client authjs.Client, email, pw string, user sqlbuild.Fragment) ([]byte, error) {
	_, userJSON, err := s.checkCredentials(ctx, "verifyPassword", client, email, pw, user)
	return userJSON, err
}

// checkCredentials is the user of email whose password is pw: its id and
// its JSON as user writes it, or the one error of a wrong email or
// password, for field. An unknown email costs what a wrong password does.
func (s *Service) checkCredentials(ctx context.Context, field string, client authjs.Client, email, pw string, user sqlbuild.Fragment) (string, []byte, error) {
	email, err := normalizeEmail(field, email)
	if err != nil {
		return "", nil, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	if err := s.limit(client.Address, field, email); err != nil {
		return "", nil, err
	}
	id, hash, userJSON, err := authjs.UserWithPassword(ctx, s.conn(ctx), email, user)
	if err != nil {
		return "", nil, err
	}
	ok, err := s.passwords.Verify(ctx, pw, hash)
	if err != nil {
		return "", nil, err
	}
	if !ok || id == "" {
		return "", nil, errBadCredentials.AtPath(hasura.FieldPath(field))
	}
	return id, userJSON, nil
}

// startSession starts a session of userID. Always under a new token: a
// session fixed by whoever set the caller's old cookie must not become
// signed in.
func (s *Service) startSession(ctx context.Context, userID string, userJSON []byte, client authjs.Client) (*authjs.Session, session.Cookie, error) {
	token, expires, err := authjs.StartSession(ctx, s.conn(ctx), userID, s.cfg.MaxAge, s.cfg.MaxLifetime, client)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	return &authjs.Session{UserID: userID, User: userJSON, Expires: expires}, session.Cookie{Token: token}, nil
}

// SignOut deletes the session of token, so every copy of its cookie is dead
// at once, and clears the cookie. It reports whether there was a live
// session.
func (s *Service) SignOut(ctx context.Context, caller auth.Caller) (bool, session.Cookie, error) {
	if caller.SessionToken == "" {
		return false, session.Cookie{}, nil
	}
	live, err := authjs.EndSession(ctx, s.conn(ctx), caller.SessionToken)
	if err != nil {
		return false, session.Cookie{}, err
	}
	if live {
		s.metrics.SessionsEnded(metrics.EndedSignOut, 1)
	}
	return live, cookieOf(caller, session.Cookie{Clear: true}), nil
}

// cookieOf is the change c to the caller's cookie, or none when the cookie
// is Auth.js's: Auth.js owns it, and freshgraph only ever changes its own.
func cookieOf(caller auth.Caller, c session.Cookie) session.Cookie {
	if caller.AuthJS {
		return session.Cookie{}
	}
	return c
}

// Session reads the caller's session and its user, fresh (see
// authjs.ReadSession). A cookie caller's dead token gets its cookie
// cleared; once a day of use (UpdateAge) a live one's expiry is pushed out,
// with one more statement, and its cookie sent again.
func (s *Service) Session(ctx context.Context, caller auth.Caller, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	touch := caller.SessionToken != "" && s.due(caller.SessionToken)
	sess, err := authjs.ReadSession(ctx, s.conn(ctx), caller, user, touch)
	if err == nil && (caller.SessionToken != "" || authjs.JWTSessionLive(caller)) {
		s.metrics.SessionRead(sess != nil)
	}
	if err != nil || caller.SessionToken == "" {
		return sess, session.Cookie{}, err
	}
	if sess == nil {
		return nil, cookieOf(caller, session.Cookie{Clear: true}), nil
	}
	if touch {
		s.seen.Add(caller.SessionToken, s.now())
	}
	// Auth.js slides its own sessions, and their cookies with them.
	if caller.AuthJS || !s.cfg.NeedsExtending(sess.Expires, s.now()) {
		return sess, session.Cookie{}, nil
	}
	expires, live, moved, err := authjs.ExtendSession(ctx, s.conn(ctx), caller.SessionToken, s.cfg.MaxAge, s.cfg.MaxLifetime)
	switch {
	case err != nil:
		return nil, session.Cookie{}, err
	case !live: // it expired or ended in between
		return nil, session.Cookie{Clear: true}, nil
	case !moved: // at the end of its lifetime: nothing to send again
		return sess, session.Cookie{}, nil
	}
	sess.Expires = expires
	return sess, session.Cookie{Token: caller.SessionToken}, nil
}

// cleanupBatch is how many expired rows one transaction deletes, and
// cleanupBatches how many transactions one cleanup runs at most: small
// steps that never hold many locks, and a bounded run.
const (
	cleanupBatch   = 1000
	cleanupBatches = 100
)

// CleanUp deletes expired sessions and verification tokens in small
// batches, unless another instance is doing so, and returns how many.
func (s *Service) CleanUp(ctx context.Context) (sessions, tokens int64, err error) {
	for range cleanupBatches {
		n, m, locked, err := authjs.DeleteExpired(ctx, s.pool, cleanupBatch)
		sessions, tokens = sessions+n, tokens+m
		s.metrics.SessionsEnded(metrics.EndedExpired, int(n))
		if err != nil || !locked || n < cleanupBatch && m < cleanupBatch {
			return sessions, tokens, err
		}
	}
	return sessions, tokens, nil
}

// RunCleanup runs CleanUp at once and then every interval until ctx ends,
// logging what it deleted and what failed.
func (s *Service) RunCleanup(ctx context.Context, interval time.Duration, logger *slog.Logger) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		switch sessions, tokens, err := s.CleanUp(ctx); {
		case ctx.Err() != nil:
			return
		case err != nil:
			logger.WarnContext(ctx, "deleting expired sessions failed", "err", err)
		case sessions+tokens > 0:
			logger.InfoContext(ctx, "deleted expired rows", "sessions", sessions, "verification_tokens", tokens)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// due reports whether the use of the session of token is to be recorded:
// this instance has not done so within seenEvery.
func (s *Service) due(token string) bool {
	last, ok := s.seen.Get(token)
	return !ok || s.now().Sub(last) >= seenEvery
}

// signedIn reports whether caller has a user of its own: a session cookie,
// or a JWT (or the admin posing) of role user with X-Hasura-User-Id.
func signedIn(caller auth.Caller) bool {
	return caller.SessionToken != "" || caller.UserID != "" && caller.Role == auth.RoleUser
}

// Devices lists the live sessions of the caller's user, its own first. A
// cookie whose session is gone is not signed in, and is cleared.
func (s *Service) Devices(ctx context.Context, caller auth.Caller) ([]authjs.Device, session.Cookie, error) {
	const field = "activeSessions"
	if !signedIn(caller) {
		return nil, session.Cookie{}, errNotSignedIn(field)
	}
	devices, err := authjs.Devices(ctx, s.conn(ctx), caller)
	if errors.Is(err, authjs.ErrNoUser) {
		return nil, cookieOf(caller, session.Cookie{Clear: true}), errNotSignedIn(field)
	}
	return devices, session.Cookie{}, err
}

// RevokeSession ends the session of the caller's user whose id (from
// Devices) is id, and reports whether there was one. Ending the caller's
// own clears its cookie. Every subscriber of the session, on every
// instance, gets null at once (the row's trigger).
func (s *Service) RevokeSession(ctx context.Context, caller auth.Caller, id string) (bool, session.Cookie, error) {
	const field = "revokeSession"
	if !signedIn(caller) {
		return false, session.Cookie{}, errNotSignedIn(field)
	}
	ended, current, err := authjs.EndDevice(ctx, s.conn(ctx), caller, id)
	if ended {
		s.metrics.SessionsEnded(metrics.EndedRevoked, 1)
	}
	return ended, cookieOf(caller, endedCookie(current, err)), signedInError(field, err)
}

// SignOutEverywhere ends every session of the caller's user, but its own
// when keepCurrent, and returns how many ended.
func (s *Service) SignOutEverywhere(ctx context.Context, caller auth.Caller, keepCurrent bool) (int, session.Cookie, error) {
	const field = "signOutEverywhere"
	if !signedIn(caller) {
		return 0, session.Cookie{}, errNotSignedIn(field)
	}
	n, current, err := authjs.EndDevices(ctx, s.conn(ctx), caller, keepCurrent)
	s.metrics.SessionsEnded(metrics.EndedSignOutEverywhere, n)
	return n, cookieOf(caller, endedCookie(current, err)), signedInError(field, err)
}

// endedCookie is what becomes of the caller's cookie when its sessions
// were ended (current: its own among them) or it had none live: cleared.
func endedCookie(current bool, err error) session.Cookie {
	if current || errors.Is(err, authjs.ErrNoUser) {
		return session.Cookie{Clear: true}
	}
	return session.Cookie{}
}

// signedInError words authjs.ErrNoUser for the field.
func signedInError(field string, err error) error {
	if errors.Is(err, authjs.ErrNoUser) {
		return errNotSignedIn(field)
	}
	return err
}

// UpdateProfile validates change and writes it to the caller's own row, and
// returns the row as stored.
func (s *Service) UpdateProfile(ctx context.Context, caller auth.Caller, change authjs.ProfileChange, user sqlbuild.Fragment) ([]byte, error) {
	const field = "updateUserProfile"
	if !signedIn(caller) {
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
