// Package authjs reads and writes the Auth.js (NextAuth) tables: users,
// accounts, sessions and verification_tokens, as @auth/hasura-adapter creates
// them. Every read goes to PostgreSQL; nothing here caches a row.
package authjs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// DB is what this package needs of a connection: a *pgxpool.Pool, a
// *pgx.Conn and a pgx.Tx all have it.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// User is a row of the users table. Fields not read stay zero.
type User struct {
	ID            string
	Name          *string
	Email         string
	Image         *string
	EmailVerified *time.Time
}

// userColumns maps each users column, named as in GraphQL and SQL alike, to
// where a scanned value goes.
var userColumns = map[string]func(*User) any{
	"id":            func(u *User) any { return &u.ID },
	"name":          func(u *User) any { return &u.Name },
	"email":         func(u *User) any { return &u.Email },
	"image":         func(u *User) any { return &u.Image },
	"emailVerified": func(u *User) any { return &u.EmailVerified },
}

// UserColumnsOf keeps the names in fields that are users columns, in order, so
// that a query reads only what was asked for. It never returns an empty list:
// a row's existence is read through its id.
func UserColumnsOf(fields []string) []string {
	cols := make([]string, 0, len(fields))
	for _, f := range fields {
		if _, ok := userColumns[f]; ok {
			cols = append(cols, f)
		}
	}
	if len(cols) == 0 {
		cols = append(cols, "id")
	}
	return cols
}

// selectList writes cols, qualified by table alias t, as a quoted SQL list;
// cols must come from UserColumnsOf, so no name is ever client text.
func selectList(b *strings.Builder, t string, cols []string) {
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(t)
		b.WriteString(`."`)
		b.WriteString(c)
		b.WriteByte('"')
	}
}

func scanTargets(u *User, cols []string) []any {
	dest := make([]any, len(cols))
	for i, c := range cols {
		dest[i] = userColumns[c](u)
	}
	return dest
}

// UserByID reads the columns cols (see UserColumnsOf) of the user with id, in
// one statement. It returns nil, nil when there is no such user.
func UserByID(ctx context.Context, db DB, id string, cols []string) (*User, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	selectList(&b, "u", cols)
	b.WriteString(" FROM users u WHERE u.id = $1")
	return scanUser(db.QueryRow(ctx, b.String(), id), cols)
}

// OwnUserByID is UserByID for a signed-in user, who may see only their own
// row (Hasura's row permission {id: {_eq: X-Hasura-User-Id}}): another id, or
// a session that has ended, reads as no row. Still one statement.
func OwnUserByID(ctx context.Context, db DB, id, sessionToken string, cols []string) (*User, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	selectList(&b, "u", cols)
	b.WriteString(` FROM users u JOIN sessions s ON s."userId" = u.id
		WHERE u.id = $1 AND s."sessionToken" = $2 AND s.expires > now()`)
	return scanUser(db.QueryRow(ctx, b.String(), id, sessionToken), cols)
}

// scanUser scans one row of cols into a User, or nil when there is none.
func scanUser(row pgx.Row, cols []string, extra ...any) (*User, error) {
	u := new(User)
	err := row.Scan(append(scanTargets(u, cols), extra...)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}
