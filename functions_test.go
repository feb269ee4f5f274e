package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A tracked function in subscription_root: its body may read any table,
// so its live queries are polled, and pushed when the answer changes.
func TestFunctionSubscriptions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, filepath.Join("testdata", "hasura", "projects", "functions"), nil))
	ws := liveAs(t, s, "graphql-transport-ws", "admin", "")
	ws.start("1", `subscription { search_posts(args: {search: "hasura"}, order_by: {id: asc}) { title } }`, nil)
	assertJSON(t, []byte(ws.result("1")), `{"data":{"search_posts":[{"title":"post by hasura"}]}}`)
	s.exec(t, `INSERT INTO post (title, content) VALUES ('hasura again', 'x')`)
	start := time.Now()
	assertJSON(t, []byte(ws.result("1")), `{"data":{"search_posts":[{"title":"post by hasura"},{"title":"hasura again"}]}}`)
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("the change came after %v", waited)
	}
	ws.quiet(1500 * time.Millisecond) // polled, but the same answer is not sent again
}

// A function that cannot be tracked stops the start, with Hasura's words
// and the file that tracks it.
func TestFunctionsThatCannotBeTrackedAreRefused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, filepath.Join("testdata", "hasura", "projects", "functions"), nil))
	file := filepath.Join("databases", "default", "functions", "functions.yaml")
	for _, tt := range []struct{ entry, want string }{
		{"- function: {name: missing, schema: public}", `functions.yaml: no such function exists in postgres : "missing"`},
		{"- function: {name: overloaded, schema: public}", `functions.yaml: function "overloaded" is overloaded. Overloaded functions are not supported`},
		{"- function: {name: returns_int, schema: public}", `functions.yaml: the function "returns_int" cannot be tracked because the function does not return a table`},
		{"- {function: {name: search_posts, schema: public}, configuration: {exposed_as: mutation}}",
			`the function "search_posts" cannot be tracked because the function was requested to be exposed as a mutation, but is not marked VOLATILE.`},
		{"- {function: {name: search_posts, schema: public}, configuration: {session_argument: search}}",
			`the function "search_posts" cannot be tracked because given session argument "search" is not of type json`},
		{"- {function: {name: search_posts, schema: public}, configuration: {session_argument: nope, exposed_as: mutation}}",
			"the function \"search_posts\" cannot be tracked for the following reasons:\n  • the function was requested to be exposed as a mutation, but is not marked VOLATILE. Maybe the function was given the wrong volatility when it was defined?\n  • given session argument \"nope\" not the input argument of the function"},
		{"- {function: {name: search_posts, schema: public}, configuration: {custom_name: post}}", `root field "post" of function public.search_posts is also a root field of table public.post`},
	} {
		dir := copyProject(t, filepath.Join("testdata", "hasura", "projects", "functions"))
		if err := os.WriteFile(filepath.Join(dir, "metadata", file), []byte(tt.entry+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := startError(t, s, dir, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v\nwant %q", tt.entry, err, tt.want)
		}
	}
}

// The example project's search_posts: a role's rows of it are the posts
// its select permission lets it read, as anonymous reads only published
// ones; the admin's its aggregate too.
func TestExampleProjectFunction(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", nil))
	examplePosts(t, s)
	anonymous := map[string]string{}
	assertJSON(t, s.gql(t, `{ search_posts(args: {search: "o"}, order_by: {title: asc}) { title } }`, nil, anonymous),
		`{"data":{"search_posts":[{"title":"Go"}]}}`)
	assertJSON(t, s.gql(t, `{ search_posts(args: {search: "o"}, order_by: {title: asc}) { title } n: search_posts_aggregate(args: {search: "o"}) { aggregate { count } } }`, nil, adminHeaders),
		`{"data":{"search_posts":[{"title":"Bob draft"},{"title":"Go"}],"n":{"aggregate":{"count":2}}}}`)
	user := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": alice}
	assertJSON(t, s.gql(t, `{ search_posts(args: {search: "draft"}) { title } }`, nil, user), `{"data":{"search_posts":[{"title":"Draft"}]}}`)
}
