package authjs

import (
	"context"
	"strconv"
	"strings"
)

// CreateUserWithPassword inserts a user and its password hash in one
// statement, so there is never a user without its password, and returns the
// columns cols of the new row. A taken email fails with PostgreSQL's unique
// violation on users_email_key.
func CreateUserWithPassword(ctx context.Context, db DB, email string, name *string, hash string, cols []string) (*User, error) {
	var b strings.Builder
	b.WriteString(`WITH u AS (INSERT INTO users (email, name) VALUES ($1, $2) RETURNING *),
		p AS (INSERT INTO user_passwords ("userId", hash) SELECT id, $3 FROM u)
		SELECT `)
	selectList(&b, "u", withID(cols))
	b.WriteString(" FROM u")
	return scanUser(db.QueryRow(ctx, b.String(), email, name, hash), withID(cols))
}

// UserWithPassword reads the user with email, its columns cols and its
// password hash, in one statement. It returns nil, "" when there is no such
// user or the user has no password (an OAuth-only account).
func UserWithPassword(ctx context.Context, db DB, email string, cols []string) (*User, string, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	selectList(&b, "u", withID(cols))
	b.WriteString(`, p.hash FROM users u JOIN user_passwords p ON p."userId" = u.id WHERE u.email = $1`)
	var hash string
	u, err := scanUser(db.QueryRow(ctx, b.String(), email), withID(cols), &hash)
	if u == nil || err != nil {
		return nil, "", err
	}
	return u, hash, nil
}

// withID adds "id" to cols if missing: starting a session needs the user's id
// whatever the client asked for.
func withID(cols []string) []string {
	for _, c := range cols {
		if c == "id" {
			return cols
		}
	}
	return append(cols[:len(cols):len(cols)], "id")
}

// ProfileChange is what updateUserProfile changes: only the fields whose Set
// is true; a nil value with Set clears the column.
type ProfileChange struct {
	Name, Image       *string
	SetName, SetImage bool
}

// UpdateOwnProfile applies change to the user of the live session token and
// returns the columns cols of the row as written, in one statement
// (RETURNING), so the answer and the next read agree. It returns nil, nil when
// the session does not exist or has expired.
func UpdateOwnProfile(ctx context.Context, db DB, token string, change ProfileChange, cols []string) (*User, error) {
	if !change.SetName && !change.SetImage {
		s, err := SessionByToken(ctx, db, token, cols)
		if s == nil || err != nil {
			return nil, err
		}
		return s.User, nil
	}
	var b strings.Builder
	b.WriteString("UPDATE users u SET ")
	args := []any{token}
	set := func(col string, v *string) {
		if len(args) > 1 {
			b.WriteString(", ")
		}
		args = append(args, v)
		b.WriteString(col + " = $" + strconv.Itoa(len(args)))
	}
	if change.SetName {
		set("name", change.Name)
	}
	if change.SetImage {
		set("image", change.Image)
	}
	b.WriteString(` FROM sessions s WHERE s."sessionToken" = $1 AND s.expires > now() AND u.id = s."userId" RETURNING `)
	selectList(&b, "u", cols)
	return scanUser(db.QueryRow(ctx, b.String(), args...), cols)
}
