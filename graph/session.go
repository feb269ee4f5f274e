package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/scalar"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// sessionField answers one root field of the session API with its JSON.
type sessionField func(r *Resolver, ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, caller auth.Caller) ([]byte, error)

// sessionAPI lists the session API's root fields (schema.graphqls).
var sessionAPI = map[string]sessionField{
	"session":           (*Resolver).session,
	"signUp":            (*Resolver).signUp,
	"signIn":            (*Resolver).signIn,
	"signOut":           (*Resolver).signOut,
	"updateUserProfile": (*Resolver).updateUserProfile,
}

// session reads the caller's session and its user, fresh.
func (r *Resolver) session(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, caller auth.Caller) ([]byte, error) {
	shape := newSessionShape(op, f, caller)
	return withExchange(ctx, func(ex *exchange, w *cookieSink) ([]byte, error) {
		s, err := r.Accounts.Session(ctx, ex.r.WithContext(ctx), w, caller, shape.projection)
		if s == nil || err != nil {
			return []byte("null"), err
		}
		return shape.render(s)
	})
}

// signUp creates an account and signs it in.
func (r *Resolver) signUp(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, caller auth.Caller) ([]byte, error) {
	args := f.ArgumentMap(op.Variables)
	shape := newSessionShape(op, f, caller)
	return withExchange(ctx, func(ex *exchange, w *cookieSink) ([]byte, error) {
		s, err := r.Accounts.SignUp(ctx, ex.r.WithContext(ctx), w, str(args["email"]), str(args["password"]), optStr(args["name"]), shape.projection)
		if err != nil {
			return nil, err
		}
		return shape.render(s)
	})
}

// signIn starts a session under a new token.
func (r *Resolver) signIn(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, caller auth.Caller) ([]byte, error) {
	args := f.ArgumentMap(op.Variables)
	shape := newSessionShape(op, f, caller)
	return withExchange(ctx, func(ex *exchange, w *cookieSink) ([]byte, error) {
		s, err := r.Accounts.SignIn(ctx, ex.r.WithContext(ctx), w, str(args["email"]), str(args["password"]), shape.projection)
		if err != nil {
			return nil, err
		}
		return shape.render(s)
	})
}

// signOut ends the caller's session.
func (r *Resolver) signOut(ctx context.Context, _ *graphql.OperationContext, _ graphql.CollectedField, caller auth.Caller) ([]byte, error) {
	return withExchange(ctx, func(ex *exchange, w *cookieSink) ([]byte, error) {
		ended, err := r.Accounts.SignOut(ctx, ex.r.WithContext(ctx), w, caller.SessionToken)
		return strconv.AppendBool(nil, ended), err
	})
}

// updateUserProfile writes the caller's name and image and returns the row.
func (r *Resolver) updateUserProfile(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, caller auth.Caller) ([]byte, error) {
	args := f.ArgumentMap(op.Variables)
	name, setName := args["name"]
	image, setImage := args["image"]
	change := authjs.ProfileChange{Name: optStr(name), SetName: setName, Image: optStr(image), SetImage: setImage}
	user := engine.UserProjection(op, f.Selections, caller, "$.selectionSet."+f.Name)
	return r.Accounts.UpdateProfile(ctx, caller, change, user)
}

// withExchange runs fn with the request and a sink for the cookies it sets,
// queued for the response.
func withExchange(ctx context.Context, fn func(ex *exchange, w *cookieSink) ([]byte, error)) ([]byte, error) {
	ex := exchangeFrom(ctx)
	w := ex.sink()
	defer ex.keep(w)
	return fn(ex, w)
}

// str and optStr read String arguments; gqlgen has checked their types.
func str(v any) string {
	s, _ := v.(string)
	return s
}

func optStr(v any) *string {
	if s, ok := v.(string); ok {
		return &s
	}
	return nil
}

// sessionShape is the selection set of a Session: its user fields are read
// in SQL (one row per `user` alias), the rest written here.
type sessionShape struct {
	fields []graphql.CollectedField
	users  []authjs.Projection
}

func newSessionShape(op *graphql.OperationContext, f graphql.CollectedField, caller auth.Caller) *sessionShape {
	s := &sessionShape{fields: graphql.CollectFields(op, f.Selections, []string{"Session"})}
	for _, sf := range s.fields {
		if sf.Name == "user" {
			s.users = append(s.users, engine.UserProjection(op, sf.Selections, caller, "$.selectionSet."+f.Name+".selectionSet.user"))
		}
	}
	return s
}

// projection writes the user's JSON: the one row, or an array of one row
// per `user` alias, or null when no user field is selected.
func (s *sessionShape) projection(b *sqlbuild.Builder, alias string) error {
	switch len(s.users) {
	case 0:
		b.S("NULL::json")
		return nil
	case 1:
		return s.users[0](b, alias)
	}
	b.S("json_build_array(")
	for i, u := range s.users {
		if i > 0 {
			b.S(", ")
		}
		if err := u(b, alias); err != nil {
			return err
		}
	}
	b.S(")")
	return nil
}

// render writes the Session object in the order the selection asks for.
func (s *sessionShape) render(sess *accounts.Session) ([]byte, error) {
	users := []json.RawMessage{sess.UserJSON}
	if len(s.users) > 1 {
		if err := json.Unmarshal(sess.UserJSON, &users); err != nil {
			return nil, err
		}
	}
	var out bytes.Buffer
	out.WriteByte('{')
	u := 0
	for i, f := range s.fields {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(strconv.Quote(f.Alias))
		out.WriteByte(':')
		switch f.Name {
		case "user":
			out.Write(users[u])
			u++
		case "expires":
			scalar.MarshalTimestamptz(sess.Expires).MarshalGQL(&out)
		case "__typename":
			out.WriteString(`"Session"`)
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}
