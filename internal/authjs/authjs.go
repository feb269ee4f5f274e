// Package authjs reads and writes the Auth.js (NextAuth) tables for the
// session API: users, sessions and the password table beside them; it is the
// one owner of the sessions rows. Every read goes to PostgreSQL; nothing here
// caches a row. A user is returned as the JSON the caller's selection asks
// for, built in the same statement from a fragment the engine wrote for it
// (engine.UserJSON), so it reads exactly like users_by_pk.
package authjs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// UserAlias is the alias under which every statement here reads the users
// row: the user's JSON fragment is written over it.
const UserAlias = "u"

// ownRow writes "alias is the caller's own users row": the user of its live
// session token (a cookie caller), or of its X-Hasura-User-Id. It is checked
// in the statement that uses it: no extra round trip, and a session that
// has just ended or expired matches nothing.
func ownRow(b *sqlbuild.Builder, alias string, caller auth.Caller) {
	b.Col(alias, "id").S(" = ")
	ownUserID(b, caller)
}

// EndpointUser writes the user as Auth.js's session endpoint shows it:
// name, email and image (its default session callback's), over UserAlias.
func EndpointUser() sqlbuild.Fragment {
	b := &sqlbuild.Builder{}
	b.S("json_build_object('name', " + UserAlias + ".name, 'email', " + UserAlias + ".email, 'image', " + UserAlias + ".image)")
	return b.Fragment()
}

// UserOfSession writes the id of the user whose live session has token,
// or NULL: the one way a statement learns a cookie caller's user.
func UserOfSession(b *sqlbuild.Builder, token string) {
	b.S(`(SELECT s."userId" FROM sessions s WHERE s."sessionToken" = `).Arg(token).S(" AND s.expires > now())")
}

// queryJSON runs b and scans its one row into dest; it reports false when
// there is no row.
func queryJSON(ctx context.Context, db database.Conn, b *sqlbuild.Builder, dest ...any) (bool, error) {
	err := db.QueryRow(ctx, b.SQL(), b.Args()...).Scan(dest...)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Session is a live session and its user, as one statement read them: the
// one value the session API, the live hub and the cookie logic share.
type Session struct {
	UserID string
	// User is the user's JSON, as the caller's selection writes it.
	User    []byte
	Expires time.Time
}

// ReadSession reads the caller's live session and its user's JSON, fresh,
// in one statement; nil when there is none (signed out, expired, the user
// gone). A cookie caller's session is the row of its token; a JWT caller's
// is its X-Hasura-User-Id's user until the token expires (a token without
// exp has no session).
//
// With touch, a cookie session's use is recorded too (its last_seen_at in
// freshgraph_session_devices), in the same statement.
func ReadSession(ctx context.Context, db database.Conn, caller auth.Caller, user sqlbuild.Fragment, touch bool) (*Session, error) {
	switch {
	case caller.SessionToken != "":
		b := &sqlbuild.Builder{}
		if touch {
			b.S(`WITH touch AS (INSERT INTO freshgraph_session_devices ("sessionToken", last_seen_at)
				SELECT "sessionToken", now() FROM sessions WHERE "sessionToken" = `).Arg(caller.SessionToken).
				S(` AND expires > now() ON CONFLICT ("sessionToken") DO UPDATE SET last_seen_at = excluded.last_seen_at) `)
		}
		b.S("SELECT u.id::text, ").Embed(user).
			S(`, s.expires FROM sessions s JOIN users u ON u.id = s."userId" WHERE s."sessionToken" = `).
			Arg(caller.SessionToken).S(" AND s.expires > now()")
		var sess Session
		found, err := queryJSON(ctx, db, b, &sess.UserID, &sess.User, &sess.Expires)
		if !found || err != nil {
			return nil, err
		}
		return &sess, nil
	case JWTSessionLive(caller):
		userJSON, found, err := UserByID(ctx, db, caller.UserID, user)
		if !found || err != nil {
			return nil, err
		}
		return &Session{UserID: caller.UserID, User: userJSON, Expires: caller.Expires}, nil
	}
	return nil, nil
}

// JWTSessionLive reports whether caller holds a JWT session that has not
// expired: a user, and a token with an exp claim still ahead (no exp: no
// session). Its user may still be gone; ReadSession finds out.
func JWTSessionLive(caller auth.Caller) bool {
	return caller.SessionToken == "" && caller.UserID != "" && time.Now().Before(caller.Expires)
}

// UserByID reads the JSON of the user with id, or reports false.
func UserByID(ctx context.Context, db database.Conn, id string, user sqlbuild.Fragment) ([]byte, bool, error) {
	b := &sqlbuild.Builder{}
	b.S("SELECT ").Embed(user).S(" FROM users u WHERE u.id = ")
	userID(b, id)
	var userJSON []byte
	found, err := queryJSON(ctx, db, b, &userJSON)
	return userJSON, found, err
}

// Client is where a session is started from, as the person will see it in
// their list of sessions.
type Client struct {
	Address   string
	UserAgent string
}

// StartSession inserts a session of userID under a new token, live for
// maxAge but never past maxLifetime (zero: no such bound), with the client
// it was started from, and returns it.
func StartSession(ctx context.Context, db database.Conn, userID string, maxAge, maxLifetime time.Duration, client Client) (token string, expires time.Time, err error) {
	token = session.NewToken()
	err = db.QueryRow(ctx, `WITH s AS (INSERT INTO sessions ("sessionToken", "userId", expires)
			VALUES ($1, $2, now() + least($3::interval, coalesce($6::interval, $3::interval))) RETURNING "sessionToken", expires),
		d AS (INSERT INTO freshgraph_session_devices ("sessionToken", created_at, last_seen_at, user_agent, address)
			SELECT "sessionToken", now(), now(), nullif($4, ''), nullif($5, '') FROM s)
		SELECT expires FROM s`, token, userID, maxAge, client.UserAgent, client.Address, lifetime(maxLifetime)).Scan(&expires)
	return token, expires, err
}

// lifetime is maxLifetime as an interval argument: NULL for none.
func lifetime(maxLifetime time.Duration) any {
	if maxLifetime <= 0 {
		return nil
	}
	return maxLifetime
}

// Device is one of a user's live sessions as the person sees it.
type Device struct {
	// ID is the session row's own id: opaque, neither its token nor
	// derived from it.
	ID string
	// CreatedAt is nil for a session freshgraph did not start (Auth.js's).
	CreatedAt  *time.Time
	LastSeenAt *time.Time
	Expires    time.Time
	UserAgent  *string
	Address    *string
	// Current: the session of the caller's own cookie.
	Current bool
}

// ownUserID writes the id of the caller's own user: of its live session
// token (a cookie caller), or its X-Hasura-User-Id.
func ownUserID(b *sqlbuild.Builder, caller auth.Caller) {
	if caller.SessionToken == "" {
		userID(b, caller.UserID)
		return
	}
	UserOfSession(b, caller.SessionToken)
}

// userID writes id as a users.id: an X-Hasura-User-Id that is no UUID (a
// token's subject from elsewhere, say "42") names none of the users here,
// rather than failing the statement.
func userID(b *sqlbuild.Builder, id string) {
	parsed, err := uuid.Parse(id)
	if err != nil || strings.HasPrefix(id, "urn:") {
		b.S("NULL::uuid")
		return
	}
	b.TypedArg(parsed.String(), "uuid")
}

// Devices lists the live sessions of the caller's user: the current one
// first, then the most recently used.
func Devices(ctx context.Context, db database.Conn, caller auth.Caller) ([]Device, error) {
	b := &sqlbuild.Builder{}
	b.S(`SELECT s.id::text, d.created_at, d.last_seen_at, s.expires, d.user_agent, d.address, s."sessionToken" = `).
		Arg(caller.SessionToken).S(` FROM sessions s LEFT JOIN freshgraph_session_devices d ON d."sessionToken" = s."sessionToken"
		WHERE s.expires > now() AND s."userId" = `)
	ownUserID(b, caller)
	b.S(` ORDER BY 7 DESC, d.last_seen_at DESC NULLS LAST, s.expires DESC, s.id`)
	rows, err := db.Query(ctx, b.SQL(), b.Args()...)
	if err != nil {
		return nil, err
	}
	devices, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Device, error) {
		var d Device
		err := row.Scan(&d.ID, &d.CreatedAt, &d.LastSeenAt, &d.Expires, &d.UserAgent, &d.Address, &d.Current)
		return d, err
	})
	if err == nil && len(devices) == 0 && caller.SessionToken != "" {
		// A live cookie session lists at least itself.
		return nil, ErrNoUser
	}
	return devices, err
}

// ErrNoUser is the answer of the functions that act on the caller's own
// sessions to a caller without a live user: its cookie's session is gone
// or expired.
var ErrNoUser = errors.New("authjs: the caller has no live session")

// EndDevice deletes the caller's user's session whose id is id, and reports
// whether there was one and whether it was the caller's own.
func EndDevice(ctx context.Context, db database.Conn, caller auth.Caller, id string) (ended, current bool, err error) {
	b := &sqlbuild.Builder{}
	b.S(`WITH own AS (SELECT `)
	ownUserID(b, caller)
	b.S(` AS id), d AS (DELETE FROM sessions s USING own WHERE s.id = `).TypedArg(id, "uuid").
		S(` AND s."userId" = own.id RETURNING s."sessionToken" = `).Arg(caller.SessionToken).
		S(` AS current) SELECT (SELECT id FROM own) IS NOT NULL, EXISTS (SELECT FROM d), coalesce((SELECT bool_or(current) FROM d), false)`)
	var live bool
	if err = db.QueryRow(ctx, b.SQL(), b.Args()...).Scan(&live, &ended, &current); err == nil && !live {
		err = ErrNoUser
	}
	return ended, current, err
}

// EndDevices deletes every session of the caller's user — but the caller's
// own when keepCurrent — and reports how many ended and whether the
// caller's own did.
func EndDevices(ctx context.Context, db database.Conn, caller auth.Caller, keepCurrent bool) (n int, current bool, err error) {
	b := &sqlbuild.Builder{}
	b.S(`WITH own AS (SELECT `)
	ownUserID(b, caller)
	b.S(` AS id), d AS (DELETE FROM sessions s USING own WHERE s."userId" = own.id AND NOT (`).
		TypedArg(keepCurrent, "boolean").S(` AND s."sessionToken" = `).Arg(caller.SessionToken).
		S(`) RETURNING s."sessionToken" = `).Arg(caller.SessionToken).
		S(` AS current) SELECT (SELECT id FROM own) IS NOT NULL, (SELECT count(*) FROM d), coalesce((SELECT bool_or(current) FROM d), false)`)
	var live bool
	if err = db.QueryRow(ctx, b.SQL(), b.Args()...).Scan(&live, &n, &current); err == nil && !live {
		err = ErrNoUser
	}
	return n, current, err
}

// ExtendSession pushes the expiry of the live session with token out to
// maxAge from now, but never past maxLifetime after it was started (when
// freshgraph started it), and returns the expiry; live is false when the
// session is no longer live, moved when the expiry did not move (the
// session is at its lifetime's end).
func ExtendSession(ctx context.Context, db database.Conn, token string, maxAge, maxLifetime time.Duration) (expires time.Time, live, moved bool, err error) {
	var at *time.Time
	err = db.QueryRow(ctx, `WITH n AS (
			SELECT s."sessionToken", s.expires AS old,
				least(now() + $2::interval, coalesce(d.created_at + $3::interval, 'infinity')) AS expires
			FROM sessions s LEFT JOIN freshgraph_session_devices d ON d."sessionToken" = s."sessionToken"
			WHERE s."sessionToken" = $1 AND s.expires > now()),
		u AS (UPDATE sessions s SET expires = n.expires FROM n
			WHERE s."sessionToken" = n."sessionToken" AND n.expires > n.old RETURNING s.expires)
		SELECT coalesce((SELECT expires FROM u), (SELECT old FROM n)), EXISTS (SELECT FROM u)`,
		token, maxAge, lifetime(maxLifetime)).Scan(&at, &moved)
	if err != nil || at == nil {
		return time.Time{}, false, false, err
	}
	return *at, true, moved, nil
}

// cleanupLock is the advisory lock id under which one instance at a time
// deletes expired rows.
const cleanupLock = 0x66726573_68636c6e // "freshcln"

// DeleteExpired deletes up to batch expired sessions, and as many expired
// verification tokens, in one transaction under the cleanup lock; locked
// is false when another instance holds it (and nothing was done). A live
// row is never touched: only rows whose expiry has passed are locked, and
// a row locked elsewhere is skipped.
func DeleteExpired(ctx context.Context, db database.Conn, batch int) (sessions, tokens int64, locked bool, err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return 0, 0, false, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock($1)`, int64(cleanupLock)).Scan(&locked); err != nil || !locked {
		return 0, 0, false, err
	}
	tag, err := tx.Exec(ctx, `DELETE FROM sessions WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM sessions WHERE expires <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))`, batch)
	if err != nil {
		return 0, 0, true, err
	}
	sessions = tag.RowsAffected()
	if tag, err = tx.Exec(ctx, `DELETE FROM verification_tokens WHERE ctid = ANY (ARRAY(
		SELECT ctid FROM verification_tokens WHERE expires <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))`, batch); err != nil {
		return 0, 0, true, err
	}
	tokens = tag.RowsAffected()
	return sessions, tokens, true, tx.Commit(ctx)
}

// SessionIsLive reports whether token names a live session: the one
// lookup an Auth.js cookie costs before it is taken for a session, so that
// a stale one leaves its visitor anonymous, not a user of no session.
func SessionIsLive(ctx context.Context, db database.Conn, token string) (bool, error) {
	var live bool
	err := db.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE "sessionToken" = $1 AND expires > now())`, token).Scan(&live)
	return live, err
}

// EndSession deletes the session with token, so every copy of its cookie is
// dead at once; it reports whether the session was live.
func EndSession(ctx context.Context, db database.Conn, token string) (bool, error) {
	var live bool
	err := db.QueryRow(ctx, `WITH d AS (DELETE FROM sessions WHERE "sessionToken" = $1 RETURNING expires)
		SELECT coalesce(bool_or(expires > now()), false) FROM d`, token).Scan(&live)
	return live, err
}

// ErrEmailTaken is CreateUserWithPassword's answer when a user already has
// the email, in any letter case.
var ErrEmailTaken = errors.New("an account with this email already exists")

// CreateUserWithPassword inserts a user and its password hash in one
// statement, so there is never a user without its password, and returns the
// new id and row JSON. It inserts nothing and fails with ErrEmailTaken when
// some user's email equals email ignoring case: users written by the Auth.js
// adapter keep the case they were given, and the unique constraint
// users_email_key compares exactly. The constraint still settles a race of
// two inserts of one (lower-case) email.
func CreateUserWithPassword(ctx context.Context, db database.Conn, email string, name *string, hash string, user sqlbuild.Fragment) (string, []byte, error) {
	b := &sqlbuild.Builder{}
	b.S("WITH u AS (INSERT INTO users (email, name) SELECT ").TypedArg(email, "text").S(", ").TypedArg(name, "text").
		S(" WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(").TypedArg(email, "text").S(")) RETURNING *), ")
	b.S(`p AS (INSERT INTO user_passwords ("userId", hash) SELECT id, `).Arg(hash).S(" FROM u) SELECT u.id::text, ").
		Embed(user).S(" FROM u")
	var id string
	var userJSON []byte
	found, err := queryJSON(ctx, db, b, &id, &userJSON)
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.ConstraintName == "users_email_key" {
		return "", nil, ErrEmailTaken
	}
	if err == nil && !found {
		return "", nil, ErrEmailTaken
	}
	return id, userJSON, err
}

// UserWithPassword reads the user with email, ignoring case, its row JSON and
// its password hash, in one statement. It returns "" as the id when there is
// no such user or the user has no password (an OAuth-only account). Should
// several emails differ only in case, the exact one wins.
func UserWithPassword(ctx context.Context, db database.Conn, email string, user sqlbuild.Fragment) (id, hash string, userJSON []byte, err error) {
	b := &sqlbuild.Builder{}
	b.S("SELECT u.id::text, p.hash, ").Embed(user).S(` FROM users u JOIN user_passwords p ON p."userId" = u.id WHERE lower(u.email) = lower(`).TypedArg(email, "text").
		S(") ORDER BY u.email = ").TypedArg(email, "text").S(" DESC, u.id LIMIT 1")
	_, err = queryJSON(ctx, db, b, &id, &hash, &userJSON)
	return id, hash, userJSON, err
}

// ProfileChange is what updateUserProfile changes: only the fields whose Set
// is true; a nil value with Set clears the column.
type ProfileChange struct {
	Name, Image       *string
	SetName, SetImage bool
}

// UpdateOwnProfile applies change to the caller's own row and returns the row's
// JSON as written, in one statement (RETURNING), so the answer and the next
// read agree. It reports false when the caller has no live row.
func UpdateOwnProfile(ctx context.Context, db database.Conn, caller auth.Caller, change ProfileChange, user sqlbuild.Fragment) ([]byte, bool, error) {
	b := &sqlbuild.Builder{}
	if !change.SetName && !change.SetImage {
		b.S("SELECT ").Embed(user).S(" FROM users u WHERE ")
		ownRow(b, UserAlias, caller)
	} else {
		b.S("UPDATE users u SET ")
		if change.SetName {
			b.S("name = ").Arg(change.Name)
		}
		if change.SetImage {
			if change.SetName {
				b.S(", ")
			}
			b.S("image = ").Arg(change.Image)
		}
		b.S(" WHERE ")
		ownRow(b, UserAlias, caller)
		b.S(" RETURNING ").Embed(user)
	}
	var userJSON []byte
	found, err := queryJSON(ctx, db, b, &userJSON)
	return userJSON, found, err
}

// PasswordOf reads the password hash of the caller's own user ("" when it
// has none: an OAuth-only account) and reports whether the caller has a
// live user.
func PasswordOf(ctx context.Context, db database.Conn, caller auth.Caller) (userID, hash string, live bool, err error) {
	b := &sqlbuild.Builder{}
	b.S(`SELECT u.id::text, coalesce(p.hash, '') FROM users u LEFT JOIN user_passwords p ON p."userId" = u.id WHERE `)
	ownRow(b, "u", caller)
	live, err = queryJSON(ctx, db, b, &userID, &hash)
	return userID, hash, live, err
}

// SetPassword sets the password hash of userID.
func SetPassword(ctx context.Context, db database.Conn, userID, hash string) error {
	_, err := db.Exec(ctx, `INSERT INTO user_passwords ("userId", hash) VALUES ($1, $2)
		ON CONFLICT ("userId") DO UPDATE SET hash = excluded.hash, "updatedAt" = now()`, userID, hash)
	return err
}

// resetIdentifier marks password reset tokens in verification_tokens, apart
// from Auth.js's email sign-in tokens, which are keyed by the bare email.
const resetIdentifier = "freshgraph-password-reset:"

// StoreResetToken stores the hash of a password reset token for the user
// with email (ignoring case), live for ttl, in place of any earlier one, and
// reports whether there is such a user.
func StoreResetToken(ctx context.Context, db database.Conn, email, tokenHash string, ttl time.Duration) (bool, error) {
	var stored bool
	err := db.QueryRow(ctx, `WITH u AS (SELECT id FROM users WHERE lower(email) = lower($1) ORDER BY email = $1 DESC, id LIMIT 1),
		old AS (DELETE FROM verification_tokens WHERE identifier IN (SELECT $4 || id::text FROM u)),
		new AS (INSERT INTO verification_tokens (identifier, token, expires)
			SELECT $4 || id::text, $2, now() + $3::interval FROM u RETURNING 1)
		SELECT EXISTS (SELECT FROM new)`, email, tokenHash, ttl, resetIdentifier).Scan(&stored)
	return stored, err
}

// UseResetToken deletes the live password reset token whose hash is
// tokenHash, once, and returns the user it was for; "" when there is none
// (used, expired, or never issued).
func UseResetToken(ctx context.Context, db database.Conn, tokenHash string) (string, error) {
	var userID string
	err := db.QueryRow(ctx, `DELETE FROM verification_tokens WHERE token = $1 AND identifier LIKE $2 || '%' AND expires > now()
		RETURNING substr(identifier, length($2) + 1)`, tokenHash, resetIdentifier).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	return userID, err
}
