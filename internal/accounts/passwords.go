package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"strings"
	"time"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// A Mailer delivers password reset links. The Service hands it the link for
// an account that exists, and nothing for an email without one; what it
// does takes no part in the answer.
type Mailer interface {
	PasswordReset(ctx context.Context, email, link string) error
}

// LogMailer writes the links to the log: the embedded mode's mailer, for a
// developer on their own machine.
type LogMailer struct{ Logger *slog.Logger }

// PasswordReset logs the link.
func (m LogMailer) PasswordReset(ctx context.Context, email, link string) error {
	m.Logger.InfoContext(ctx, "password reset link (embedded mode: logged, not mailed)", "email", email, "link", link)
	return nil
}

// ResetTTL is how long a password reset token lives.
const ResetTTL = time.Hour

var errInvalidResetToken = &hasura.Error{Code: hasura.CodeAccessDenied, Message: "invalid or expired password reset token"}

// ChangePassword sets the signed-in caller's password after checking the
// current one (a wrong one costs what a right one costs), and ends every
// other session of the user; it returns how many ended.
func (s *Service) ChangePassword(ctx context.Context, caller auth.Caller, client authjs.Client, current, next string) (int, session.Cookie, error) {
	const field = "changePassword"
	if !signedIn(caller) {
		return 0, session.Cookie{}, errNotSignedIn(field)
	}
	if err := checkPassword(field, "new", next, ""); err != nil {
		return 0, session.Cookie{}, err
	}
	userID, hash, live, err := authjs.PasswordOf(ctx, s.conn(ctx), caller)
	if err != nil {
		return 0, session.Cookie{}, err
	}
	if !live {
		return 0, cookieOf(caller, session.Cookie{Clear: true}), errNotSignedIn(field)
	}
	// Per address and per account, as sign-in: guessing the current
	// password from a stolen session is as slow as guessing it at sign-in.
	if err := s.limit(client.Address, field, "user:"+userID); err != nil {
		return 0, session.Cookie{}, err
	}
	ok, err := s.passwords.Verify(ctx, current, hash) // the dummy hash when there is none
	if err != nil {
		return 0, session.Cookie{}, err
	}
	if !ok {
		return 0, session.Cookie{}, &hasura.Error{Code: hasura.CodeAccessDenied, Message: "the current password is wrong", Path: hasura.FieldPath(field) + ".args.current"}
	}
	newHash, err := s.passwords.Hash(ctx, next)
	if err != nil {
		return 0, session.Cookie{}, err
	}
	var ended int
	err = s.inTx(ctx, func(ctx context.Context) error {
		if err := authjs.SetPassword(ctx, s.conn(ctx), userID, newHash); err != nil {
			return err
		}
		ended, _, err = authjs.EndDevices(ctx, s.conn(ctx), caller, true)
		return err
	})
	if err == nil {
		s.metrics.SessionsEnded(metrics.EndedPasswordChanged, ended)
	}
	return ended, session.Cookie{}, err
}

// RequestPasswordReset starts a reset for the account with email, if there
// is one: a single-use token, stored hashed, live for ResetTTL, whose link
// the mailer gets. The answer is the same whether or not the email has an
// account, and takes the same work; the mailer runs apart from it.
func (s *Service) RequestPasswordReset(ctx context.Context, client authjs.Client, email string) error {
	const field = "requestPasswordReset"
	email, err := normalizeEmail(field, email)
	if err != nil {
		return err
	}
	if err := s.limit(client.Address, field, email); err != nil {
		return err
	}
	token := session.NewToken()
	stored, err := authjs.StoreResetToken(ctx, s.conn(ctx), email, hashToken(token), ResetTTL)
	if err != nil || !stored || s.mailer == nil {
		return err
	}
	link := strings.ReplaceAll(s.resetLink, "{token}", token)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = s.mailer.PasswordReset(ctx, email, link)
	}()
	return nil
}

// ResetPassword sets the password of the account the reset token is for,
// once, ends every session of the user, and signs in.
func (s *Service) ResetPassword(ctx context.Context, client authjs.Client, token, next string, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
	const field = "resetPassword"
	if err := s.limit(client.Address, field, ""); err != nil {
		return nil, session.Cookie{}, err
	}
	if err := checkPassword(field, "password", next, ""); err != nil {
		return nil, session.Cookie{}, err
	}
	newHash, err := s.passwords.Hash(ctx, next)
	if err != nil {
		return nil, session.Cookie{}, err
	}
	var sess *authjs.Session
	var cookie session.Cookie
	var ended int
	err = s.inTx(ctx, func(ctx context.Context) error {
		userID, err := authjs.UseResetToken(ctx, s.conn(ctx), hashToken(token))
		if err != nil {
			return err
		}
		if userID == "" {
			return errInvalidResetToken.AtPath(hasura.FieldPath(field) + ".args.token")
		}
		if err := authjs.SetPassword(ctx, s.conn(ctx), userID, newHash); err != nil {
			return err
		}
		// Every session of the user, found by its id: the caller has none.
		if ended, _, err = authjs.EndDevices(ctx, s.conn(ctx), auth.Caller{Role: auth.RoleUser, UserID: userID}, false); err != nil {
			return err
		}
		userJSON, _, err := authjs.UserByID(ctx, s.conn(ctx), userID, user)
		if err != nil {
			return err
		}
		sess, cookie, err = s.startSession(ctx, userID, userJSON, client)
		return err
	})
	if err != nil {
		return nil, session.Cookie{}, err
	}
	s.metrics.SessionsEnded(metrics.EndedPasswordReset, ended)
	return sess, cookie, nil
}

// hashToken is how a reset token is stored: a leaked table gives no token.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// inTx runs fn in a transaction (a savepoint within the request's own),
// committed only if fn succeeds.
func (s *Service) inTx(ctx context.Context, fn func(ctx context.Context) error) error {
	tx, err := s.conn(ctx).Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := fn(database.WithTx(ctx, tx)); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
