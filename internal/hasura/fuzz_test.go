package hasura_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/freshgraph/freshgraph/internal/accounts"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/document"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/session"
	"github.com/freshgraph/freshgraph/internal/tablestest"
	"github.com/jackc/pgx/v5/pgxpool"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/99designs/gqlgen/graphql/handler/extension"

	"github.com/freshgraph/freshgraph/graph"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
)

// newExecutor is the server's gqlgen executor for role anonymous over the
// built-in tables, its database unreachable.
func newExecutor(f *testing.F, log *tablestest.PanicLog) *executor.Executor {
	logger := slog.New(log)
	sdl, err := os.ReadFile("../../schema.graphqls")
	if err != nil {
		f.Fatal(err)
	}
	pool, err := pgxpool.New(context.Background(), "host=/nonexistent/freshgraph port=5432 user=nobody connect_timeout=1")
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(pool.Close)
	cfg := session.Config{Secrets: []string{strings.Repeat("transport-fuzz-secret-", 2)}, MaxAge: time.Hour, UpdateAge: time.Minute}
	r := &graph.Resolver{DB: pool, Accounts: accounts.NewService(pool, cfg), Tables: tablestest.Builtin(f)}
	schemas, err := graph.NewSchemas(r, graph.Options{HandWritten: string(sdl), Unauthorized: auth.RoleAnonymous, Configure: func(exec *executor.Executor) {
		exec.SetErrorPresenter(hasura.ErrorPresenter(logger, func(context.Context, error) (*hasura.Error, bool) { return nil, false }))
		exec.SetRecoverFunc(hasura.RecoverFunc(logger))
		docs := document.New(limits.Defaults(), 100)
		exec.SetQueryCache(docs.Cache())
		exec.Use(docs)
		exec.Use(extension.Introspection{})
	}})
	if err != nil {
		f.Fatal(err)
	}
	return schemas.Executor(auth.RoleAnonymous)
}

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// invalidJSON is every message an invalid-json error may have: none quotes
// the body's strings, which may be passwords.
var invalidJSON = regexp.MustCompile(`^invalid JSON in request body: (unexpected end of input|unexpected data after the top-level value|syntax error at byte \d+|malformed request|expected [\w.\[\]]+, found (string|bool|array|object|null|number( -?[0-9][0-9.eE+-]*)?)|field "(query|operationName|variables|extensions)" must not be (string|bool|array|object|null|number( -?[0-9][0-9.eE+-]*)?))$`)

// FuzzTransport checks, for any POST body and any GET query string, that
// /v1/graphql's transport never panics, answers HTTP 200 with JSON in
// Hasura's shape — one response, or an array of them for a batch, each with
// data or errors, every error with a message, a code and a path — and that
// a body that is not JSON is described without quoting it.
func FuzzTransport(f *testing.F) {
	for _, seed := range []struct {
		body string
		get  bool
	}{
		{`{"query": "query Q($id: uuid!) { users_by_pk(id: $id) { id name } }", "variables": {"id": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}}`, false},
		{`{"query": "query ($w: users_bool_exp, $t: timestamptz) { users(where: $w) { id } sessions(where: {expires: {_gt: $t}}) { expires } }", "variables": {"w": {"name": {"_eq": "a"}}, "t": "2024-01-01 10:00:00+05:30"}}`, false},
		{`{"query": "query ($t: timestamptz!) { sessions(where: {expires: {_gt: $t}}) { expires } }", "variables": {"t": "yesterday"}}`, false},
		{`{"query": "mutation ($o: [users_insert_input!]!) { insert_users(objects: $o) { affected_rows } }", "variables": {"o": [{"email": "a@example.com", "emailVerified": 12}]}}`, false},
		{`{"query": "mutation { signIn(email: \"a@example.com\", password: \"hunter2hunter2\") { expires } }"}`, false},
		{`{"query": "subscription { session { expires } }"}`, false},
		{`{"query": "{ __schema { queryType { name } } __type(name: \"users\") { fields { name } } }"}`, false},
		{`{"query": "query A { __typename } query B { session { expires } }", "operationName": "B"}`, false},
		// Fragments Hasura drops, cycles, unknown types and directives: the
		// document's own reading must answer every one of them.
		{`{"query": "query ($x: Nope, $y: Int) { ... on users { id(arg: $x) } users(limit: $y) { ...F ...G @include } } fragment F on users { accounts { ...G } } fragment G on accounts { user { ...F } }", "variables": {"y": -1, "z": 2}}`, false},
		{`{"query": "{ users { x: id x: name ... on Nope { a } } users(limit: 1) { id } }"}`, false},
		{`[{"query": "{ __typename }"}, {"query": "{ users { id } }"}, 1, {"variables": {}}]`, false},
		{` [ ] `, false},
		{`{"query": 1}`, false},
		{`{"query": "{ __typename }", "variables": "{\"password\": \"secret\"}"}`, false},
		{`{"query": "{ __typename }"} {"query": "x"}`, false},
		{`{"password": "hunter2`, false},
		{`"just a string"`, false},
		{``, false},
		{`query=%7B__typename%7D`, true},
		{`query=query+Q(%24id%3A+uuid!)+%7B+users_by_pk(id%3A+%24id)+%7B+id+%7D+%7D&variables=%7B%22id%22%3A5%7D`, true},
		{`query=mutation+%7B+signOut+%7D`, true},
		{`query=%7B__typename%7D&variables=%7Bnot+json`, true},
		{`variables=%7B%7D`, true},
	} {
		f.Add([]byte(seed.body), seed.get)
	}
	log := &tablestest.PanicLog{}
	exec := newExecutor(f, log)
	f.Fuzz(func(t *testing.T, body []byte, get bool) {
		var r *http.Request
		if get {
			r = httptest.NewRequest(http.MethodGet, "/v1/graphql", nil)
			r.URL.RawQuery = string(body)
		} else {
			r = httptest.NewRequest(http.MethodPost, "/v1/graphql", bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		}
		// As gqlgen's handler.Server does before handing a request over.
		r = r.WithContext(graphql.StartOperationTrace(r.Context()))
		w := httptest.NewRecorder()
		hasura.Transport{}.Do(w, r, exec)
		if p := log.Take(); len(p) > 0 {
			t.Fatalf("%d panics in resolvers, the first:\n%s", len(p), p[0])
		}
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
			t.Fatalf("HTTP %d, Content-Type %q", w.Code, w.Header().Get("Content-Type"))
		}
		out := w.Body.Bytes()
		var batch []json.RawMessage
		if bytes.HasPrefix(out, []byte("[")) {
			if err := json.Unmarshal(out, &batch); err != nil {
				t.Fatalf("the answer is not JSON: %v\n%s", err, out)
			}
			if trimmed := bytes.TrimLeft(body, " \t\r\n"); get || !bytes.HasPrefix(trimmed, []byte("[")) {
				t.Fatalf("an array answers a request that is not a batch: %s", out)
			}
		} else {
			batch = []json.RawMessage{out}
		}
		for _, resp := range batch {
			checkResponse(t, resp)
		}
	})
}

// checkResponse fails unless resp is one response in Hasura's shape.
func checkResponse(t *testing.T, resp []byte) {
	t.Helper()
	var r map[string]json.RawMessage
	if err := json.Unmarshal(resp, &r); err != nil {
		t.Fatalf("a response is not a JSON object: %v\n%s", err, resp)
	}
	_, hasData := r["data"]
	rawErrors, hasErrors := r["errors"]
	if len(r) != 1 || hasData == hasErrors {
		t.Fatalf("a response has not exactly one of data and errors: %s", resp)
	}
	if !hasErrors {
		return
	}
	var errs []struct {
		Message    *string        `json:"message"`
		Extensions map[string]any `json:"extensions"`
	}
	if err := json.Unmarshal(rawErrors, &errs); err != nil || len(errs) == 0 {
		t.Fatalf("errors is not a list of errors: %s", resp)
	}
	for _, e := range errs {
		code, _ := e.Extensions["code"].(string)
		path, _ := e.Extensions["path"].(string)
		if e.Message == nil || code == "" || !strings.HasPrefix(path, "$") {
			t.Fatalf("an error not in Hasura's shape: %s", resp)
		}
		if code == string(hasura.CodeInvalidJSON) && !invalidJSON.MatchString(*e.Message) {
			t.Fatalf("an invalid-json message may quote the body: %q", *e.Message)
		}
	}
}
