package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/scalar"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// The session API's resolvers. Each reads or writes the session and its
// user in one statement: the user's JSON, for every `user` of the
// selection, is built by the statement that finds the session.

var errOutputOnly = errors.New("graph: an output type cannot be input")

// Session is a Session as the API answers it.
type Session struct {
	Expires time.Time
	// users are the JSON of the user per alias of `user` in the selection.
	users map[string]RawJSON
}

// User answers Session.user for its alias.
func (sessionResolver) User(ctx context.Context, obj *Session) (RawJSON, error) {
	return obj.users[graphql.GetFieldContext(ctx).Field.Alias], nil
}

// Session reads the caller's session and its user, fresh.
func (r queryRoot) Session(ctx context.Context) (*Session, error) {
	shape, err := r.sessionShape(ctx)
	if err != nil {
		return nil, err
	}
	s, cookie, err := r.Accounts.Session(ctx, auth.CallerFrom(ctx), shape.user)
	exchangeFrom(ctx).setCookie(cookie)
	if s == nil || err != nil {
		return nil, err
	}
	return shape.session(s)
}

// ActiveSessions lists the signed-in user's live sessions.
func (r queryRoot) ActiveSessions(ctx context.Context) ([]*authjs.Device, error) {
	devices, cookie, err := r.Accounts.Devices(ctx, auth.CallerFrom(ctx))
	exchangeFrom(ctx).setCookie(cookie)
	if err != nil {
		return nil, err
	}
	out := make([]*authjs.Device, len(devices))
	for i := range devices {
		out[i] = &devices[i]
	}
	return out, nil
}

// RevokeSession ends one of the signed-in user's sessions.
func (r mutationRoot) RevokeSession(ctx context.Context, id string) (bool, error) {
	ended, cookie, err := r.Accounts.RevokeSession(ctx, auth.CallerFrom(ctx), id)
	exchangeFrom(ctx).setCookie(cookie)
	return ended, err
}

// SignOutEverywhere ends the signed-in user's sessions.
func (r mutationRoot) SignOutEverywhere(ctx context.Context, keepCurrent bool) (int, error) {
	n, cookie, err := r.Accounts.SignOutEverywhere(ctx, auth.CallerFrom(ctx), keepCurrent)
	exchangeFrom(ctx).setCookie(cookie)
	return n, err
}

// ChangePassword changes the signed-in user's password.
func (r mutationRoot) ChangePassword(ctx context.Context, current, next string) (int, error) {
	ex := exchangeFrom(ctx)
	n, cookie, err := r.Accounts.ChangePassword(ctx, auth.CallerFrom(ctx), ex.client, current, next)
	ex.setCookie(cookie)
	return n, err
}

// RequestPasswordReset sends a reset link, if the email has an account.
func (r mutationRoot) RequestPasswordReset(ctx context.Context, email string) (bool, error) {
	err := r.Accounts.RequestPasswordReset(ctx, exchangeFrom(ctx).client, email)
	return err == nil, err
}

// ResetPassword sets a new password with a reset token and signs in.
func (r mutationRoot) ResetPassword(ctx context.Context, token, password string) (*Session, error) {
	return r.startSession(ctx, func(client authjs.Client, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
		return r.Accounts.ResetPassword(ctx, client, token, password, user)
	})
}

// SignUp creates an account and signs it in.
func (r mutationRoot) SignUp(ctx context.Context, email, password string, name *string) (*Session, error) {
	return r.startSession(ctx, func(client authjs.Client, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
		return r.Accounts.SignUp(ctx, client, email, password, name, user)
	})
}

// SignIn starts a session under a new token.
func (r mutationRoot) SignIn(ctx context.Context, email, password string) (*Session, error) {
	return r.startSession(ctx, func(client authjs.Client, user sqlbuild.Fragment) (*authjs.Session, session.Cookie, error) {
		return r.Accounts.SignIn(ctx, client, email, password, user)
	})
}

// VerifyPassword checks an email and password and answers the user.
func (r mutationRoot) VerifyPassword(ctx context.Context, email, password string) (RawJSON, error) {
	fc := graphql.GetFieldContext(ctx)
	user, err := engine.UserJSON(graphql.GetOperationContext(ctx), fc.Field.Selections, viewFrom(ctx), auth.CallerFrom(ctx), "$.selectionSet."+fc.Field.Name)
	if err != nil {
		return nil, err
	}
	return r.Accounts.VerifyPassword(ctx, exchangeFrom(ctx).client, email, password, user)
}

// startSession answers a mutation that signs in: start begins the session
// for the request's client, reading the user for the selection, and its
// cookie goes out with the answer.
func (r mutationRoot) startSession(ctx context.Context, start func(authjs.Client, sqlbuild.Fragment) (*authjs.Session, session.Cookie, error)) (*Session, error) {
	shape, err := r.sessionShape(ctx)
	if err != nil {
		return nil, err
	}
	ex := exchangeFrom(ctx)
	s, cookie, err := start(ex.client, shape.user)
	if err != nil {
		return nil, err
	}
	ex.setCookie(cookie)
	return shape.session(s)
}

// SignOut ends the caller's session.
func (r mutationRoot) SignOut(ctx context.Context) (bool, error) {
	ended, cookie, err := r.Accounts.SignOut(ctx, auth.CallerFrom(ctx))
	exchangeFrom(ctx).setCookie(cookie)
	return ended, err
}

// UpdateUserProfile writes the caller's name and image and returns the row.
func (r mutationRoot) UpdateUserProfile(ctx context.Context, name, image *string) (RawJSON, error) {
	fc := graphql.GetFieldContext(ctx)
	op := graphql.GetOperationContext(ctx)
	args := fc.Field.ArgumentMap(op.Variables)
	_, setName := args["name"]
	_, setImage := args["image"]
	change := authjs.ProfileChange{Name: name, SetName: setName, Image: image, SetImage: setImage}
	caller := auth.CallerFrom(ctx)
	user, err := engine.UserJSON(op, fc.Field.Selections, viewFrom(ctx), caller, "$.selectionSet."+fc.Field.Name)
	if err != nil {
		return nil, err
	}
	return r.Accounts.UpdateProfile(ctx, caller, change, user)
}

// sessionShape is the selection set of a Session: its user fields are read
// in SQL, one row per `user` alias.
type sessionShape struct {
	fields []graphql.CollectedField
	// user writes the user's JSON: the one row, or an array of one row per
	// `user` alias, or null when no user field is selected.
	user  sqlbuild.Fragment
	users int
}

func (r *Resolver) sessionShape(ctx context.Context) (*sessionShape, error) {
	fc := graphql.GetFieldContext(ctx)
	return newSessionShape(graphql.GetOperationContext(ctx), fc.Field, viewFrom(ctx), auth.CallerFrom(ctx))
}

func newSessionShape(op *graphql.OperationContext, f graphql.CollectedField, v *tables.View, caller auth.Caller) (*sessionShape, error) {
	s := &sessionShape{fields: graphql.CollectFields(op, f.Selections, []string{"Session"})}
	var users []sqlbuild.Fragment
	for _, sf := range s.fields {
		if sf.Name == "user" {
			u, err := engine.UserJSON(op, sf.Selections, v, caller, "$.selectionSet."+f.Name+".selectionSet.user")
			if err != nil {
				return nil, err
			}
			users = append(users, u)
		}
	}
	s.users = len(users)
	if len(users) == 1 {
		s.user = users[0]
		return s, nil
	}
	b := &sqlbuild.Builder{}
	if len(users) == 0 {
		b.S("NULL::json")
	} else {
		b.S("json_build_array(")
		for i, u := range users {
			if i > 0 {
				b.S(", ")
			}
			b.Embed(u)
		}
		b.S(")")
	}
	s.user = b.Fragment()
	return s, nil
}

// userArgs are the arguments of the user's SQL.
func (s *sessionShape) userArgs() []any { return s.user.Args() }

// session is the Session read, its user's JSON by alias.
func (s *sessionShape) session(sess *authjs.Session) (*Session, error) {
	users := []json.RawMessage{sess.User}
	if s.users > 1 {
		if err := json.Unmarshal(sess.User, &users); err != nil {
			return nil, err
		}
	}
	out := &Session{Expires: sess.Expires, users: map[string]RawJSON{}}
	u := 0
	for _, f := range s.fields {
		if f.Name == "user" {
			out.users[f.Alias] = RawJSON(users[u])
			u++
		}
	}
	return out, nil
}

// render writes a Session pushed by the live hub, in the order the
// selection asks for; the generated code writes the others.
func (s *sessionShape) render(sess *authjs.Session) ([]byte, error) {
	session, err := s.session(sess)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, f := range s.fields {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(strconv.Quote(f.Alias))
		out.WriteByte(':')
		switch f.Name {
		case "user":
			out.Write(session.users[f.Alias])
		case "expires":
			scalar.MarshalTimestamptz(sess.Expires).MarshalGQL(&out)
		case "__typename":
			out.WriteString(`"Session"`)
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
