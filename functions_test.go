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

	// The computed field comment_count, which both roles read.
	s.exec(t, `INSERT INTO comments (post_id, author_id, body) SELECT id, author_id, 'nice' FROM posts WHERE title = 'Go'`)
	s.exec(t, `INSERT INTO comments (post_id, author_id, body) SELECT id, author_id, 'again' FROM posts WHERE title = 'Go'`)
	assertJSON(t, s.gql(t, `{ posts(order_by: {title: asc}) { title comment_count } }`, nil, anonymous),
		`{"data":{"posts":[{"title":"Go","comment_count":2},{"title":"SQL","comment_count":0}]}}`)
}

// filterOnX ends a computed field's list with a role's select permission
// whose filter is on the field x; its value follows.
const filterOnX = "]\n  select_permissions: [{role: r, permission: {columns: [], filter: {x: "

// A computed field that cannot be added stops the start, with Hasura's
// words and the file.
func TestComputedFieldsThatCannotBeAddedAreRefused(t *testing.T) {
	t.Parallel()
	src := filepath.Join("testdata", "hasura", "projects", "computed_fields")
	s := newTestServer(t, withProject(t, src, nil))
	for _, tt := range []struct{ field, want string }{
		{"{name: x, definition: {function: fetch_articles, table_argument: author_row}}" + filterOnX + "{}}}}]",
			`select_permissions of role r: filter.x: computed field "x" takes arguments, and cannot be part of a boolean expression`},
		{"{name: x, definition: {function: full_name}}" + filterOnX + "{_ceq: first_name}}}}]",
			`select_permissions of role r: filter.x._ceq: _ceq compares columns, and does not apply to computed field "x"`},
		{"{name: x, definition: {function: random_function}}", `in computed field "x": no such function exists in postgres : "random_function"`},
		{"{name: first_name, definition: {function: full_name}}", `in computed field "first_name": field definition conflicts with postgres column`},
		{"{name: x, definition: {function: touch}}",
			`the computed field "x" cannot be added to table "author" because the function "touch" is of type VOLATILE; cannot be added as a computed field`},
		{"{name: x, definition: {function: secrets}}",
			`because the function "secrets" returning set of table "secret" is not tracked or not found in database`},
		{"{name: x, definition: {function: author_row}}", `because the function "author_row" returning type author is not a BASE type`},
		{"{name: x, definition: {function: not_row}}", `because first argument of the function "not_row" is not COMPOSITE type`},
		{"{name: x, definition: {function: article_title}}",
			`because first argument of the function "article_title" of type "public.article" is not the table to which the computed field is being added`},
		{"{name: x, definition: {function: full_name, session_argument: nope}}", `because "nope" is not an input argument of the function "full_name"`},
		{"{name: x, definition: {function: fetch_articles, table_argument: search}}",
			"for the following reasons:\n  • \"search\" argument of the function \"fetch_articles\" is not COMPOSITE type\n  • argument \"author_row\" is of type author, which is not served as an argument"},
	} {
		dir := copyProject(t, src)
		tables := "- table: author\n  computed_fields: [" + tt.field + "]\n- table: article\n"
		if strings.Contains(tt.field, filterOnX) {
			tables = "- table: author\n  computed_fields: [" + tt.field + "\n- table: article\n"
		}
		if err := os.WriteFile(filepath.Join(dir, "metadata", "databases", "default", "tables", "tables.yaml"), []byte(tables), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := startError(t, s, dir, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v\nwant %q", tt.field, err, tt.want)
		}
	}
}

// A live query that reads a computed field is polled too: the function's
// body may read any table.
func TestComputedFieldSubscriptions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, filepath.Join("testdata", "hasura", "projects", "computed_fields"), nil))
	ws := liveAs(t, s, "graphql-ws", "admin", "")
	ws.start("1", `subscription { author_by_pk(id: 1) { full_name article_count } }`, nil)
	assertJSON(t, []byte(ws.result("1")), `{"data":{"author_by_pk":{"full_name":"Roger Chris","article_count":1}}}`)
	s.exec(t, `INSERT INTO article (title, author_id) VALUES ('Article 4', 1)`)
	assertJSON(t, []byte(ws.result("1")), `{"data":{"author_by_pk":{"full_name":"Roger Chris","article_count":2}}}`)
}
