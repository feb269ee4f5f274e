package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/tablestest"
)

// Requests answered from plans give, byte for byte, what gqlgen gives the
// same requests (a second set of schemas, never asked for a plan): with
// other ids, other users (whose rows a plan must not show another), other
// session cookies, other Int values, @include, nulls and wrong values; and
// only the requests that should be are answered from a plan.
func TestPlans(t *testing.T) {
	r := poolResolver(t)
	pool := r.DB
	log := &tablestest.PanicLog{}
	newSchemas := func() *Schemas {
		return testSchemas(t, log, &Resolver{DB: r.DB, Accounts: r.Accounts})
	}
	planned, reference := newSchemas(), newSchemas()
	const ada, bob = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "b1ffcd88-8d1a-4ef8-bb6d-6bb9bd380a22"
	for _, sql := range []string{
		`INSERT INTO users (id, name, email) VALUES ($1, 'Ada', 'ada@example.com'), ($2, 'Bob', 'bob@example.com')`,
		`INSERT INTO sessions ("sessionToken", "userId", expires) VALUES ('token-ada', $1, '2100-01-01'), ('token-bob', $2, '2100-01-01')`,
	} {
		if _, err := pool.Exec(t.Context(), sql, ada, bob); err != nil {
			t.Fatal(err)
		}
	}
	admin := auth.Caller{Role: auth.RoleAdmin}
	jwt := func(id string) auth.Caller { return auth.Caller{Role: auth.RoleUser, UserID: id} }
	cookie := func(token string) auth.Caller { return auth.Caller{Role: auth.RoleUser, SessionToken: token} }
	const byPK = `query U($id: uuid!) { users_by_pk(id: $id) { id name } }`
	const limited = `query L($n: Int) { users(order_by: {email: asc}, limit: $n) { email } }`
	const mine = `{ __typename users { name } }`
	const sess = `query S($all: Boolean!) { session { expires user { name } } users @include(if: $all) { email } }`
	const byName = `query N($name: String) { users(where: {name: {_eq: $name}}) { id } }`
	const where = `query W($where: users_bool_exp!) { users(where: $where) { id } }`
	const ordered = `query O($o: users_order_by!) { users(order_by: [$o]) { name } }`
	for _, tt := range []struct {
		caller  auth.Caller
		query   string
		vars    string
		planned bool
		want    string // when set, the answer
	}{
		{admin, byPK, `{"id": "` + ada + `"}`, false, `{"data":{"users_by_pk":{"id":"` + ada + `","name":"Ada"}}}`},
		{admin, byPK, `{"id": "` + bob + `"}`, true, `{"data":{"users_by_pk":{"id":"` + bob + `","name":"Bob"}}}`},
		{admin, byPK, `{"id": "c2aade77-7e0b-4ef8-bb6d-6bb9bd380a33"}`, true, `{"data":{"users_by_pk":null}}`},
		// A wrong value is PostgreSQL's to refuse, planned or not.
		{admin, byPK, `{"id": "not a uuid"}`, true, ""},
		// A variable gqlgen refuses never reaches a plan.
		{admin, byPK, `{"id": 7}`, false, ""},
		{admin, byPK, `{"id": "` + ada + `", "other": 1}`, false, ""},
		{admin, byPK, `{}`, false, ""},
		// An Int shapes the SQL: a plan per value.
		{admin, limited, `{"n": 1}`, false, `{"data":{"users":[{"email":"ada@example.com"}]}}`},
		{admin, limited, `{"n": 2}`, false, `{"data":{"users":[{"email":"ada@example.com"},{"email":"bob@example.com"}]}}`},
		{admin, limited, `{"n": 1}`, true, `{"data":{"users":[{"email":"ada@example.com"}]}}`},
		{admin, limited, `{"n": 2}`, true, ""},
		{admin, limited, `{}`, false, ""},
		// Each user's plan binds their own X-Hasura-User-Id.
		{jwt(ada), mine, ``, false, `{"data":{"__typename":"query_root","users":[{"name":"Ada"}]}}`},
		{jwt(bob), mine, ``, true, `{"data":{"__typename":"query_root","users":[{"name":"Bob"}]}}`},
		{cookie("token-ada"), mine, ``, false, `{"data":{"__typename":"query_root","users":[{"name":"Ada"}]}}`},
		{cookie("token-bob"), mine, ``, true, `{"data":{"__typename":"query_root","users":[{"name":"Bob"}]}}`},
		{cookie("token-gone"), mine, ``, true, `{"data":{"__typename":"query_root","users":[]}}`},
		// No user at all: a missing session variable, never planned.
		{auth.Caller{Role: auth.RoleUser}, mine, ``, false, ""},
		{auth.Caller{Role: auth.RoleUser}, mine, ``, false, ""},
		// The session, fresh per cookie, beside a table; @include shapes it.
		{cookie("token-ada"), sess, `{"all": true}`, false, `{"data":{"session":{"expires":"2100-01-01T00:00:00+00:00","user":{"name":"Ada"}},"users":[{"email":"ada@example.com"}]}}`},
		{cookie("token-bob"), sess, `{"all": true}`, true, `{"data":{"session":{"expires":"2100-01-01T00:00:00+00:00","user":{"name":"Bob"}},"users":[{"email":"bob@example.com"}]}}`},
		{cookie("token-bob"), sess, `{"all": false}`, false, `{"data":{"session":{"expires":"2100-01-01T00:00:00+00:00","user":{"name":"Bob"}}}}`},
		{cookie("token-ada"), sess, `{"all": false}`, true, `{"data":{"session":{"expires":"2100-01-01T00:00:00+00:00","user":{"name":"Ada"}}}}`},
		{cookie("token-gone"), sess, `{"all": false}`, true, `{"data":{"session":null}}`},
		// A null shapes the SQL too.
		{admin, byName, `{"name": "Ada"}`, false, `{"data":{"users":[{"id":"` + ada + `"}]}}`},
		{admin, byName, `{"name": "Bob"}`, true, `{"data":{"users":[{"id":"` + bob + `"}]}}`},
		{admin, byName, `{"name": null}`, false, ""},
		{admin, byName, `{"name": null}`, false, ""},
		{admin, byName, `{"name": ""}`, false, ""},
		// An input object's strings are bound (the adapter's getUserByEmail
		// sends each email so); its fields, whatever their order, and its
		// other values shape the SQL.
		{admin, where, `{"where": {"name": {"_eq": "Ada"}, "email": {"_like": "%@example.com"}}}`, false, `{"data":{"users":[{"id":"` + ada + `"}]}}`},
		{admin, where, `{"where": {"email": {"_like": "%@example.com"}, "name": {"_eq": "Ada"}}}`, true, `{"data":{"users":[{"id":"` + ada + `"}]}}`},
		{admin, where, `{"where": {"name": {"_eq": "Bob"}, "email": {"_like": "%@example.com"}}}`, true, `{"data":{"users":[{"id":"` + bob + `"}]}}`},
		{admin, where, `{"where": {"name": {"_eq": "Bob"}, "email": {"_like": "nobody"}}}`, true, `{"data":{"users":[]}}`},
		{admin, where, `{"where": {"name": {"_eq": "Bob"}}}`, false, `{"data":{"users":[{"id":"` + bob + `"}]}}`},
		{admin, where, `{"where": {"name": {"_eq": ""}}}`, false, `{"data":{"users":[]}}`},
		{admin, where, `{"where": {"name": {"_eq": 7}}}`, false, ""},
		{admin, where, `{"where": {"nope": {"_eq": "Bob"}}}`, false, ""},
		{admin, where, `{"where": {"_or": [{"name": {"_eq": "Ada"}}, {"email": {"_eq": "none"}}]}}`, false, `{"data":{"users":[{"id":"` + ada + `"}]}}`},
		{admin, where, `{"where": {"_or": [{"name": {"_eq": "Bob"}}, {"email": {"_eq": "ada@example.com"}}]}}`, true, ""},
		{admin, where, `{"where": {"_or": [{"name": {"_eq": "Bob"}}]}}`, false, `{"data":{"users":[{"id":"` + bob + `"}]}}`},
		{admin, where, `{"where": {"name": {"_in": ["Ada"]}}}`, false, `{"data":{"users":[{"id":"` + ada + `"}]}}`},
		{admin, where, `{"where": {"name": {"_in": ["Bob"]}}}`, false, `{"data":{"users":[{"id":"` + bob + `"}]}}`},
		// An enum in an input object picks SQL: it is part of the shape.
		{admin, ordered, `{"o": {"email": "asc"}}`, false, `{"data":{"users":[{"name":"Ada"},{"name":"Bob"}]}}`},
		{admin, ordered, `{"o": {"email": "desc"}}`, false, `{"data":{"users":[{"name":"Bob"},{"name":"Ada"}]}}`},
		{admin, ordered, `{"o": {"email": "desc"}}`, true, `{"data":{"users":[{"name":"Bob"},{"name":"Ada"}]}}`},
		{admin, where, `{"where": {"name": {"_in": ["Ada", "Bob"]}, "_not": {"email": {"_is_null": true}}}}`, false, ""},
		{admin, where, `{"where": {"_not": {"email": {"_is_null": true}}, "name": {"_in": ["Ada", "Bob"]}}}`, true, ""},
		{admin, where, `{"where": {"name": {"_in": ["Bob", "Ada"]}, "_not": {"email": {"_is_null": true}}}}`, false, ""},
		// Mutations are never planned.
		{admin, `mutation { update_users(where: {id: {_eq: "` + ada + `"}}, _set: {image: "a.png"}) { affected_rows } }`, ``, false, `{"data":{"update_users":{"affected_rows":1}}}`},
		{admin, `mutation { update_users(where: {id: {_eq: "` + ada + `"}}, _set: {image: "a.png"}) { affected_rows } }`, ``, false, `{"data":{"update_users":{"affected_rows":1}}}`},
	} {
		got, wasPlanned := answerOnce(t, planned, tt.caller, tt.query, tt.vars, true)
		want, _ := answerOnce(t, reference, tt.caller, tt.query, tt.vars, false)
		name := tt.query + " " + tt.vars + " as " + string(tt.caller.Role) + " " + tt.caller.UserID + tt.caller.SessionToken
		if got != want {
			t.Errorf("%s:\nplanned   %s\nreference %s", name, got, want)
		}
		if tt.want != "" && compact(t, got) != compact(t, tt.want) {
			t.Errorf("%s:\ngot  %s\nwant %s", name, got, tt.want)
		}
		if wasPlanned != tt.planned {
			t.Errorf("%s: answered from a plan %v, want %v", name, wasPlanned, tt.planned)
		}
	}
	if p := log.Take(); len(p) > 0 {
		t.Fatalf("%d panics, the first:\n%s", len(p), p[0])
	}
}

// compact is JSON without the spaces PostgreSQL writes.
func compact(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return b.String()
}

// poolResolver is a Resolver over a database of its own.
func poolResolver(t *testing.T) *Resolver {
	pool := pgtest.NewPool(t)
	cfg := session.Config{Secrets: []string{strings.Repeat("graph-test-secret-", 2)}, MaxAge: time.Hour, UpdateAge: time.Minute}
	return &Resolver{DB: pool, Accounts: accounts.NewService(pool, cfg)}
}

// answerOnce answers one request as the HTTP transport does: from a plan
// if plans is set and one is there, through gqlgen otherwise. It reports
// whether a plan answered.
func answerOnce(t *testing.T, schemas *Schemas, caller auth.Caller, query, vars string, plans bool) (string, bool) {
	t.Helper()
	params := &graphql.RawParams{Query: query}
	if vars != "" {
		dec := json.NewDecoder(bytes.NewReader([]byte(vars)))
		dec.UseNumber()
		if err := dec.Decode(&params.Variables); err != nil {
			t.Fatal(err)
		}
	}
	now := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: now, End: now}
	ctx, cancel := limits.Defaults().Start(auth.WithCaller(context.Background(), caller), caller.Role)
	defer cancel()
	ctx = graphql.StartOperationTrace(ctx)
	var resp *graphql.Response
	if plans {
		ctx, resp = schemas.Planned(ctx, params)
	}
	if resp != nil {
		return string(hasura.AppendResponse(nil, resp)), true
	}
	exec := schemas.Executor(caller.Role)
	op, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		resp = exec.DispatchError(graphql.WithOperationContext(ctx, op), errs)
	} else {
		responses, ctx := exec.DispatchOperation(ctx, op)
		resp = responses(ctx)
	}
	return string(hasura.AppendResponse(nil, resp)), false
}
