package authjs

import (
	"context"
	"strings"
	"time"
)

// Session is a live session and its user, as the session API shows it.
type Session struct {
	User    *User
	Expires time.Time
}

// SessionByToken reads the session with token and the columns cols of its
// user, in one statement: the join on the token is the whole lookup, and
// nothing of the user is kept between calls. It returns nil, nil when the
// session does not exist or has expired.
func SessionByToken(ctx context.Context, db DB, token string, cols []string) (*Session, error) {
	var b strings.Builder
	b.WriteString("SELECT ")
	selectList(&b, "u", cols)
	b.WriteString(`, s.expires FROM sessions s JOIN users u ON u.id = s."userId"
		WHERE s."sessionToken" = $1 AND s.expires > now()`)
	var expires time.Time
	u, err := scanUser(db.QueryRow(ctx, b.String(), token), cols, &expires)
	if u == nil || err != nil {
		return nil, err
	}
	return &Session{User: u, Expires: expires}, nil
}
