package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/document"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/tablestest"
)

// errNoDatabase is what every statement of recordingConn fails with.
var errNoDatabase = errors.New("fuzz: no database")

// recordingConn is a database.Conn that keeps the SQL text of each statement
// and fails it, so that the engine compiles a root field in full without a
// database.
type recordingConn struct {
	database.Conn // nil: a method not overridden here is a bug of the test
	sql           []string
}

func (c *recordingConn) QueryRow(_ context.Context, sql string, _ ...any) pgx.Row {
	c.sql = append(c.sql, sql)
	return failingRow{}
}

func (c *recordingConn) Exec(_ context.Context, sql string, _ ...any) (pgconn.CommandTag, error) {
	c.sql = append(c.sql, sql)
	return pgconn.CommandTag{}, errNoDatabase
}

func (c *recordingConn) Begin(context.Context) (pgx.Tx, error) { return &recordingTx{c: c}, nil }

type recordingTx struct {
	pgx.Tx // nil, as recordingConn's Conn
	c      *recordingConn
}

func (t *recordingTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	return t.c.QueryRow(ctx, sql, args...)
}

func (t *recordingTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return t.c.Exec(ctx, sql, args...)
}

func (t *recordingTx) Begin(context.Context) (pgx.Tx, error) { return t, nil }
func (t *recordingTx) Commit(context.Context) error          { return errNoDatabase }
func (t *recordingTx) Rollback(context.Context) error        { return nil }

type failingRow struct{}

func (failingRow) Scan(...any) error { return errNoDatabase }

// testSchemas are the server's schemas of every role over the built-in
// tables, with its error presenter, recover function and introspection (as
// routes.go sets them up), answering through r.
func testSchemas(tb testing.TB, log *tablestest.PanicLog, r *Resolver) *Schemas {
	r.Tables = tablestest.Builtin(tb)
	logger := slog.New(log)
	schemas, err := NewSchemas(r, Options{HandWritten: handWrittenSDL(tb), Unauthorized: auth.RoleAnonymous, Configure: func(exec *executor.Executor) {
		exec.SetErrorPresenter(testErrorPresenter(logger))
		exec.SetRecoverFunc(hasura.RecoverFunc(logger))
		docs := document.New(limits.Defaults(), 100)
		exec.SetQueryCache(docs.Cache())
		exec.Use(docs)
		exec.Use(extension.Introspection{})
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return schemas
}

// handWrittenSDL is schema.graphqls, which the server embeds.
func handWrittenSDL(tb testing.TB) string {
	b, err := os.ReadFile("../schema.graphqls")
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// testErrorPresenter is the server's error presenter, with no limits to
// explain errors by.
func testErrorPresenter(logger *slog.Logger) graphql.ErrorPresenterFunc {
	return hasura.ErrorPresenter(logger, func(context.Context, error) (*hasura.Error, bool) { return nil, false })
}

// variableOperations take variables of every kind of input type: uuid,
// timestamptz, Int, String, enums, boolean expressions, order_by lists,
// insert inputs with nested relationships, on_conflict, _set, _inc and
// update_many's updates.
var variableOperations = []string{
	`query Users($where: users_bool_exp, $order_by: [users_order_by!], $distinct_on: [users_select_column!], $limit: Int, $offset: Int) {
		users(where: $where, order_by: $order_by, distinct_on: $distinct_on, limit: $limit, offset: $offset) {
			id name email emailVerified image
			accounts(where: {type: {_eq: email}}) { provider type expires_at }
			sessions_aggregate { aggregate { count } }
		}
		users_aggregate(where: $where) { aggregate { count max { emailVerified } } }
	}`,
	`query ByPK($id: uuid!, $token: String!) { users_by_pk(id: $id) { id name } sessions_by_pk(sessionToken: $token) { userId expires } }`,
	// What a signed-in user may ask: rows filtered by X-Hasura-User-Id, and the session.
	`query Mine($id: uuid!, $name: String, $withSession: Boolean! = true) {
		users(where: {id: {_eq: $id}, name: {_ilike: $name}}, limit: 1) { id name }
		users_by_pk(id: $id) { email }
		session @include(if: $withSession) { expires user { id name } }
	}`,
	`query Other($where: accounts_bool_exp, $type: provider_type_enum, $since: timestamptz, $expires_at: Int, $ids: [uuid!]) {
		accounts_aggregate(where: $where) { aggregate { count } }
		byType: accounts(where: {type: {_eq: $type}, expires_at: {_gt: $expires_at}, userId: {_in: $ids}}) { id }
		sessions(where: {expires: {_gt: $since}}) { sessionToken expires }
	}`,
	`mutation Insert($objects: [users_insert_input!]!, $on_conflict: users_on_conflict) {
		insert_users(objects: $objects, on_conflict: $on_conflict) { affected_rows returning { id accounts { id } } }
	}`,
	`mutation InsertOne($object: accounts_insert_input!, $on_conflict: accounts_on_conflict) {
		insert_accounts_one(object: $object, on_conflict: $on_conflict) { id user { id } }
	}`,
	`mutation Update($id: uuid!, $set: users_set_input, $inc: accounts_inc_input, $where: accounts_bool_exp!) {
		update_users_by_pk(pk_columns: {id: $id}, _set: $set) { id }
		update_accounts(where: $where, _inc: $inc) { affected_rows }
	}`,
	`mutation UpdateMany($updates: [users_updates!]!) { update_users_many(updates: $updates) { affected_rows } }`,
	`mutation Delete($where: sessions_bool_exp!, $id: uuid!) { delete_sessions(where: $where) { affected_rows } delete_users_by_pk(id: $id) { id } }`,
	`mutation Profile($email: String!, $password: String!, $name: String, $image: String) {
		signUp(email: $email, password: $password, name: $name) { expires }
		updateUserProfile(name: $name, image: $image) { id }
	}`,
}

// variableCallers are the roles whose schema the operations are checked in.
var variableCallers = []auth.Caller{
	{Role: auth.RoleAdmin},
	{Role: auth.RoleUser, SessionToken: "token'--"},
	{Role: auth.RoleUser, UserID: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
	{Role: auth.RoleAnonymous},
}

// FuzzVariables checks, for any variables JSON a client could send with the
// operations above, that coercing and validating them (gqlgen's validator,
// the role check), compiling each root field (the engine, against a
// database that fails every statement) and parsing the arguments in
// gqlgen's generated resolvers never panic; that every error is a
// *gqlerror.Error carrying nothing or a *hasura.Error, presented in Hasura's
// shape; and that the SQL text does not depend on the strings a client sent
// (it is the same when every string with a quote mark or a semicolon in it
// is replaced by another): values go to PostgreSQL as arguments only.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func FuzzVariables(f *testing.F) {
	for _, seed := range []string{
		`{"where": {"name": {"_eq": "x'; DROP TABLE users; --"}}, "order_by": [{"name": "desc"}], "limit": 10, "offset": 0, "distinct_on": ["email"]}`,
		`{"where": {"_or": [{"email": {"_ilike": "%@example.com"}}, {"emailVerified": {"_gte": "2024-01-01T00:00:00Z"}}]}, "limit": "10"}`,
		`{"where": {"accounts_aggregate": {"count": {"predicate": {"_gt": 1}}}}, "order_by": {"accounts_aggregate": {"count": "asc"}}}`,
		`{"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "token": "t"}`,
		`{"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "name": "%ada%", "withSession": false}`,
		`{"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "name": "Ada"}`,
		`{"id": 42, "token": null}`,
		`{"where": {"type": {"_in": ["email", "oauth"]}}, "type": "credentials", "since": "2024-01-01 10:00:00+05:30", "expires_at": 2147483648, "ids": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}`,
		`{"since": "not a time", "expires_at": 1.5, "type": "EMAIL"}`,
		`{"objects": [{"email": "a@example.com", "name": "A", "emailVerified": "2024-01-01", "accounts": {"data": [{"type": "email", "provider": "p", "providerAccountId": "x"}]}}], "on_conflict": {"constraint": "users_email_key", "update_columns": ["name"]}}`,
		`{"objects": {"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "sessions": {"data": [{"sessionToken": "s';", "expires": "2030-01-01T00:00:00Z"}]}}}`,
		`{"object": {"type": "oauth", "provider": "github", "providerAccountId": "1", "expires_at": 3600, "user": {"data": {"email": "b@example.com"}}}}`,
		`{"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "set": {"name": "n';--", "emailVerified": null}, "inc": {"expires_at": -5}, "where": {"id": {"_is_null": false}}}`,
		`{"updates": [{"where": {"name": {"_eq": "a"}}, "_set": {"name": "b"}}, {"where": {}, "_set": {}}]}`,
		`{"where": {"user": {"email": {"_regex": "^a"}}}, "id": "x"}`,
		`{"email": "a@example.com", "password": "correct horse battery", "name": "A", "image": "https://example.com/a.png"}`,
		`{"where": {"_and": [{"_not": {"_or": []}}]}, "order_by": [{"email": "asc_nulls_first"}, {"id": "sideways"}]}`,
		`{"where": {"__typename": "x"}, "distinct_on": "email", "limit": null}`,
		`{}`,
	} {
		f.Add([]byte(seed))
	}
	log := &tablestest.PanicLog{}
	schemas := testSchemas(f, log, &Resolver{DB: unreachablePool(f)})
	f.Fuzz(func(t *testing.T, data []byte) {
		// As the transports decode them: numbers kept as json.Number.
		var vars map[string]any
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		if dec.Decode(&vars) != nil {
			return
		}
		// The same variables with every string holding a quote mark or a
		// semicolon replaced: only String and custom scalar values can hold
		// one, so this changes no enum, key or number.
		n := 0
		neutral := neutralise(vars, &n)
		for _, query := range variableOperations {
			for i, caller := range variableCallers {
				sql, ok := runVariables(t, schemas, query, vars, caller, i == 0)
				if !ok || n == 0 {
					continue
				}
				if other, ok := runVariables(t, schemas, query, neutral, caller, false); ok && !slices.Equal(sql, other) {
					t.Fatalf("the SQL text depends on the values:\n%s\n%s", strings.Join(sql, "\n"), strings.Join(other, "\n"))
				}
			}
		}
		if p := log.Take(); len(p) > 0 {
			t.Fatalf("%d panics in resolvers, the first:\n%s", len(p), p[0])
		}
	})
}

// runVariables runs query with vars for caller as far as it goes without a
// database, checking the errors on the way, and returns the SQL text of the
// engine's root fields; ok is false if the variables were refused. dispatch
// also runs the operation through gqlgen's own execution.
func runVariables(t *testing.T, schemas *Schemas, query string, vars map[string]any, caller auth.Caller, dispatch bool) (sql []string, ok bool) {
	t.Helper()
	exec := schemas.Executor(caller.Role)
	ctx := graphql.StartOperationTrace(auth.WithCaller(context.Background(), caller))
	// Each run coerces its own copy: the validator writes coerced values into
	// the variables it is given.
	params := &graphql.RawParams{Query: query, Variables: cloneJSON(vars)}
	start := graphql.Now()
	params.ReadTime = graphql.TraceTiming{Start: start, End: start}
	opCtx, errs := exec.CreateOperationContext(ctx, params)
	if errs != nil {
		checkGQLErrors(t, errs)
		checkPresented(t, exec.DispatchError(graphql.WithOperationContext(ctx, opCtx), errs))
		return nil, false
	}
	checkPlan(t, schemas, query, vars, caller, opCtx)
	for _, field := range graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, nil) {
		view := schemas.View(caller.Role)
		rf, ok := view.RootField(field.Name)
		if !ok {
			continue
		}
		conn := &recordingConn{}
		_, err := engine.Execute(ctx, conn, opCtx, rf, field, view, caller)
		var he *hasura.Error
		if err != nil && !errors.Is(err, errNoDatabase) && !errors.As(err, &he) {
			t.Fatalf("%s for %+v: %T %v, want a *hasura.Error", field.Name, caller, err, err)
		}
		sql = append(sql, field.Alias+":")
		if he != nil {
			sql = append(sql, "error "+string(he.Code)+" at "+he.Path)
		}
		sql = append(sql, conn.sql...)
	}
	if dispatch {
		// The whole execution, as far as a database that does not answer.
		responses, ctx := exec.DispatchOperation(graphql.WithOperationContext(ctx, opCtx), opCtx)
		checkPresented(t, responses(ctx))
	}
	return sql, true
}

// checkPlan checks that the plan made from a request with vars (if one
// is), bound with other values of the same shape — every string it binds,
// the session token and the user id changed — gives the statements those
// values compile to: no value a plan binds may shape the SQL.
func checkPlan(t *testing.T, schemas *Schemas, query string, vars map[string]any, caller auth.Caller, op *graphql.OperationContext) {
	t.Helper()
	rs := schemas.of(caller.Role)
	dp := rs.newDocPlans(op)
	shape, ok := dp.shape(vars, caller)
	if dp.none || !ok {
		return
	}
	p := rs.makePlan(op, graphql.CollectFields(op, op.Operation.SelectionSet, []string{"query_root"}), dp, vars, caller)
	if p == nil {
		return
	}
	other := maps.Clone(vars)
	for _, v := range dp.vars {
		if x, ok := vars[v.name]; ok {
			other[v.name], _ = dp.markValue(v.typ, x, x, v.name, func(_, s string) string { return "other " + s })
		}
	}
	otherCaller := caller
	if caller.SessionToken != "" {
		otherCaller.SessionToken = "other " + caller.SessionToken
	}
	if caller.UserID != "" {
		otherCaller.UserID = "b1ffcd88-8d1a-4ef8-bb6d-6bb9bd380a22"
	}
	if otherShape, _ := dp.shape(other, otherCaller); otherShape != shape {
		t.Fatalf("changed values changed the shape: %q, %q", shape, otherShape)
	}
	ctx := graphql.StartOperationTrace(auth.WithCaller(context.Background(), otherCaller))
	now := graphql.Now()
	params := &graphql.RawParams{Query: query, Variables: cloneJSON(other), ReadTime: graphql.TraceTiming{Start: now, End: now}}
	otherOp, errs := rs.exec.CreateOperationContext(ctx, params)
	if errs != nil {
		t.Fatalf("values a plan would bind are refused: %v", errs)
	}
	fields := graphql.CollectFields(otherOp, otherOp.Operation.SelectionSet, []string{"query_root"})
	for i, pf := range p.fields {
		var wantSQL, gotSQL string
		var want, template []any
		switch {
		case pf.statement != nil:
			rf, _ := rs.view.RootField(fields[i].Name)
			st, err := engine.CompileQuery(otherOp, rf, fields[i], rs.view, otherCaller, budgetMarker)
			if err != nil {
				t.Fatalf("%s: the plan binds values that do not compile: %v", pf.alias, err)
			}
			wantSQL, want, gotSQL, template = st.SQL, st.Args, pf.statement.SQL, pf.statement.Args
		case pf.session != nil:
			shape, err := newSessionShape(otherOp, fields[i], rs.view, otherCaller)
			if err != nil {
				t.Fatalf("%s: the plan binds values that do not compile: %v", pf.alias, err)
			}
			wantSQL, want, gotSQL, template = shape.user.SQL(), shape.userArgs(), pf.session.user.SQL(), pf.session.userArgs()
		default:
			continue
		}
		got, ok := bind(template, pf.slots, other, otherCaller, budgetMarker)
		if !ok || gotSQL != wantSQL || !slices.EqualFunc(got, want, func(a, b any) bool { return reflect.DeepEqual(a, b) }) {
			t.Fatalf("%s: the plan bound with other values is not what they compile to:\n%s %#v\n%s %#v", pf.alias, gotSQL, got, wantSQL, want)
		}
	}
}

// neutralise returns v with every string value (not key) that holds a quote
// mark or a semicolon replaced by another, harmless, one; n counts them.
func neutralise[T any](v T, n *int) T {
	var r func(any) any
	r = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				m[k] = r(e)
			}
			return m
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				l[i] = r(e)
			}
			return l
		case string:
			if strings.ContainsAny(x, "';") {
				*n++
				return fmt.Sprintf("neutral%d", *n)
			}
		}
		return v
	}
	return r(v).(T)
}

// checkGQLErrors fails unless every error is a *gqlerror.Error wrapping
// nothing or a *hasura.Error.
func checkGQLErrors(t *testing.T, errs gqlerror.List) {
	t.Helper()
	for _, e := range errs {
		if e == nil {
			t.Fatal("nil error in the list")
		}
		var he *hasura.Error
		if e.Err != nil && !errors.As(e.Err, &he) {
			t.Fatalf("error %q wraps a %T: %v", e.Message, e.Err, e.Err)
		}
	}
}

// checkPresented fails unless resp is answered in Hasura's shape: valid JSON,
// and each error with a message and extensions code and path.
func checkPresented(t *testing.T, resp *graphql.Response) {
	t.Helper()
	out := hasura.AppendResponse(nil, resp)
	var body struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message    *string `json:"message"`
			Extensions struct {
				Code *string `json:"code"`
				Path *string `json:"path"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(out, &body); err != nil {
		t.Fatalf("the response is not JSON: %v\n%s", err, out)
	}
	if (body.Data == nil) == (body.Errors == nil) {
		t.Fatalf("the response has not exactly one of data and errors: %s", out)
	}
	for _, e := range body.Errors {
		if e.Message == nil || e.Extensions.Code == nil || e.Extensions.Path == nil || !strings.HasPrefix(*e.Extensions.Path, "$") {
			t.Fatalf("an error not in Hasura's shape: %s", out)
		}
	}
}
