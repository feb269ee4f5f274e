package graph

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/examplefield"
	"github.com/freshgraph/freshgraph/internal/tablestest"
)

// A hand-written part (internal/examplefield, a field a Go developer adds
// with a Go resolver) is served beside the generated API and the session
// API, to the roles with the session API: in one operation with table
// fields, alone, in introspection; and not at all to other roles.
func TestHandWrittenPart(t *testing.T) {
	r := poolResolver(t)
	r.Tables = tablestest.Builtin(t)
	pool := r.DB
	schemas, err := NewSchemas(r, Options{HandWritten: handWrittenSDL(t), Unauthorized: auth.RoleAnonymous, Configure: func(exec *executor.Executor) {
		exec.Use(extension.Introspection{})
	}, Parts: []Part{{Name: examplefield.Name, SDL: examplefield.SDL, New: examplefield.New}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(t.Context(), `INSERT INTO users (id, email) VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'part@example.com')`); err != nil {
		t.Fatal(err)
	}
	run := func(caller auth.Caller, query string) string {
		t.Helper()
		exec := schemas.Executor(caller.Role)
		ctx := graphql.StartOperationTrace(auth.WithCaller(context.Background(), caller))
		now := graphql.Now()
		params := &graphql.RawParams{Query: query, ReadTime: graphql.TraceTiming{Start: now, End: now}}
		op, errs := exec.CreateOperationContext(ctx, params)
		var resp *graphql.Response
		if errs != nil {
			resp = exec.DispatchError(graphql.WithOperationContext(ctx, op), errs)
		} else {
			responses, ctx := exec.DispatchOperation(graphql.WithOperationContext(ctx, op), op)
			resp = responses(ctx)
		}
		out, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	admin := auth.Caller{Role: auth.RoleAdmin}
	for _, tt := range []struct {
		caller auth.Caller
		query  string
		want   string
	}{
		// Beside a table field and the session API: each answered by its own code.
		{admin, `{ greeting(name: "Ada") users { email } session { expires } }`,
			`{"data":{"greeting":"Hello, Ada, from role admin!","users":[{"email":"part@example.com"}],"session":null}}`},
		// Alone, with introspection: the part's code answers it whole.
		{auth.Caller{Role: auth.RoleUser, UserID: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
			`{ hi: greeting(name: "Bob") __type(name: "query_root") { fields(includeDeprecated: true) { name } } }`,
			`{"data":{"hi":"Hello, Bob, from role user!","__type":{"fields":[{"name":"session"},{"name":"activeSessions"},{"name":"greeting"},{"name":"users"},{"name":"users_by_pk"}]}}}`},
		{auth.Caller{Role: auth.RoleAnonymous}, `{ greeting(name: "Eve") }`, `{"data":{"greeting":"Hello, Eve, from role anonymous!"}}`},
		// A role without the session API has no hand-written field.
		{auth.Caller{Role: "editor"}, `{ greeting(name: "Mallory") }`,
			`{"errors":[{"message":"Cannot query field \"greeting\" on type \"query_root\".","locations":[{"line":1,"column":3}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}],"data":null}`},
	} {
		if got := run(tt.caller, tt.query); got != tt.want {
			t.Errorf("%s as %s:\ngot  %s\nwant %s", tt.query, tt.caller.Role, got, tt.want)
		}
	}
}
