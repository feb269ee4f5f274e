package graph

import (
	"context"
	"crypto/sha256"
	"encoding/json"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/graph/model"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/live"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// Subscription_root returns the subscription root's resolvers.
func (r *Resolver) Subscription_root() Subscription_rootResolver {
	return &subscription_rootResolver{r}
}

// Session follows the caller's session: the first value at once, then one
// whenever its user's row changes, from any writer, and nil when the session
// ends. The channel keeps only the latest value: a client slower than the
// changes gets the newest state, and never holds up the hub or other clients.
func (r *subscription_rootResolver) Session(ctx context.Context) (<-chan *model.Session, error) {
	op := graphql.GetOperationContext(ctx)
	field := graphql.GetFieldContext(ctx).Field
	caller := auth.CallerFrom(ctx)
	userSel := userFieldsByName(op, field)
	src := live.Source{SessionToken: caller.SessionToken}
	for _, f := range graphql.CollectFields(op, field.Selections, []string{"Session"}) {
		src.WithExpires = src.WithExpires || f.Name == "expires"
	}
	if caller.SessionToken == "" {
		src.UserID, src.Expires = caller.UserID, caller.Expires
	}
	src.User = engine.UserProjection(op, userSel, caller, "$.selectionSet.session.selectionSet.user")
	// The SQL of the selection names its shape: subscribers with the same one
	// share one read per change.
	b := &sqlbuild.Builder{}
	if err := src.User(b, "u"); err != nil {
		return nil, err
	}
	args, _ := json.Marshal(b.Args())
	shape := sha256.Sum256([]byte(b.SQL() + string(args)))
	src.Shape = string(shape[:])

	ch := make(chan *model.Session, 1)
	r.Live.Subscribe(ctx, src, func(up *live.Update) {
		var s *model.Session
		if up != nil {
			s = &model.Session{Expires: up.Expires}
			if err := json.Unmarshal(up.UserJSON, &s.User); err != nil {
				graphql.AddError(ctx, err)
				return
			}
		}
		latest(ch, s)
	})
	return ch, nil
}

// latest sends v on ch (capacity 1) without blocking, replacing a value the
// reader has not taken yet.
func latest(ch chan *model.Session, v *model.Session) {
	for {
		select {
		case ch <- v:
			return
		default:
		}
		select {
		case <-ch:
		default:
		}
	}
}

// userFieldsByName merges the selections of every `user` field under the
// subscribed Session into one set keyed by field name: the row is decoded
// into the typed model, and gqlgen applies the aliases itself.
func userFieldsByName(op *graphql.OperationContext, field graphql.CollectedField) ast.SelectionSet {
	var merged ast.SelectionSet
	seen := map[string]bool{}
	for _, sf := range graphql.CollectFields(op, field.Selections, []string{"Session"}) {
		if sf.Name != "user" {
			continue
		}
		for _, uf := range graphql.CollectFields(op, sf.Selections, []string{"users"}) {
			if seen[uf.Name] || uf.Name == "__typename" {
				continue
			}
			seen[uf.Name] = true
			f := *uf.Field
			f.Alias = f.Name
			merged = append(merged, &f)
		}
	}
	return merged
}
