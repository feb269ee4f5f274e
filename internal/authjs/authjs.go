// Package authjs reads and writes the Auth.js (NextAuth) tables for the
// session API: users, sessions and the password table beside them. Every read
// goes to PostgreSQL; nothing here caches a row. A user is returned as the
// JSON the caller's selection asks for, built in the same statement by a
// Projection (see internal/engine), so it reads exactly like users_by_pk.
package authjs

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// Projection writes the JSON of the users row called alias.
type Projection func(b *sqlbuild.Builder, alias string) error

// Owner names whose row a signed-in caller may touch: the user of a live
// session token (cookie callers), or a user id (JWT callers).
type Owner struct {
	SessionToken string
	UserID       string
}

// Filter writes "alias is the owner's users row", checked in the statement
// that uses it: no extra round trip, and a session that has just ended or
// expired matches nothing.
func (o Owner) Filter(b *sqlbuild.Builder, alias string) {
	if o.UserID != "" {
		b.Col(alias, "id").S(" = ").TypedArg(o.UserID, "uuid")
		return
	}
	b.Col(alias, "id").S(` = (SELECT s."userId" FROM sessions s WHERE s."sessionToken" = `).
		Arg(o.SessionToken).S(" AND s.expires > now())")
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

// SessionByToken reads the live session with token, its user's id and JSON,
// in one statement: the join on the token is the whole lookup.
func SessionByToken(ctx context.Context, db database.Conn, token string, user Projection) (SessionRow, error) {
	b := &sqlbuild.Builder{}
	b.S("SELECT u.id::text, ")
	if err := user(b, "u"); err != nil {
		return SessionRow{}, err
	}
	b.S(`, s.expires FROM sessions s JOIN users u ON u.id = s."userId" WHERE s."sessionToken" = `).
		Arg(token).S(" AND s.expires > now()")
	var row SessionRow
	found, err := queryJSON(ctx, db, b, &row.UserID, &row.UserJSON, &row.Expires)
	row.Found = found
	return row, err
}

// SessionRow is a session as SessionByToken reads it; Found is false when
// the session does not exist or has expired.
type SessionRow struct {
	Found    bool
	UserID   string
	UserJSON []byte
	Expires  time.Time
}

// UserByID reads the JSON of the user with id, or reports false.
func UserByID(ctx context.Context, db database.Conn, id string, user Projection) ([]byte, bool, error) {
	b := &sqlbuild.Builder{}
	b.S("SELECT ")
	if err := user(b, "u"); err != nil {
		return nil, false, err
	}
	b.S(" FROM users u WHERE u.id = ").TypedArg(id, "uuid")
	var userJSON []byte
	found, err := queryJSON(ctx, db, b, &userJSON)
	return userJSON, found, err
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
func CreateUserWithPassword(ctx context.Context, db database.Conn, email string, name *string, hash string, user Projection) (string, []byte, error) {
	b := &sqlbuild.Builder{}
	b.S("WITH u AS (INSERT INTO users (email, name) SELECT ").TypedArg(email, "text").S(", ").TypedArg(name, "text").
		S(" WHERE NOT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower(").TypedArg(email, "text").S(")) RETURNING *), ")
	b.S(`p AS (INSERT INTO user_passwords ("userId", hash) SELECT id, `).Arg(hash).S(" FROM u) SELECT u.id::text, ")
	if err := user(b, "u"); err != nil {
		return "", nil, err
	}
	b.S(" FROM u")
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
func UserWithPassword(ctx context.Context, db database.Conn, email string, user Projection) (id, hash string, userJSON []byte, err error) {
	b := &sqlbuild.Builder{}
	b.S("SELECT u.id::text, p.hash, ")
	if err := user(b, "u"); err != nil {
		return "", "", nil, err
	}
	b.S(` FROM users u JOIN user_passwords p ON p."userId" = u.id WHERE lower(u.email) = lower(`).TypedArg(email, "text").
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

// UpdateOwnProfile applies change to the owner's row and returns the row's
// JSON as written, in one statement (RETURNING), so the answer and the next
// read agree. It reports false when the owner has no live row.
func UpdateOwnProfile(ctx context.Context, db database.Conn, owner Owner, change ProfileChange, user Projection) ([]byte, bool, error) {
	b := &sqlbuild.Builder{}
	if !change.SetName && !change.SetImage {
		b.S("SELECT ")
		if err := user(b, "u"); err != nil {
			return nil, false, err
		}
		b.S(" FROM users u WHERE ")
		owner.Filter(b, "u")
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
		owner.Filter(b, "u")
		b.S(" RETURNING ")
		if err := user(b, "u"); err != nil {
			return nil, false, err
		}
	}
	var userJSON []byte
	found, err := queryJSON(ctx, db, b, &userJSON)
	return userJSON, found, err
}
