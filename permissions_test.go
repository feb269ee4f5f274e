package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/pgtest"
)

// The example project's metadata with its posts table's permissions
// replaced by permissions (YAML, under the table's own keys).
func examplePostsWith(t *testing.T, permissions string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("examples/hasura-project/metadata")); err != nil {
		t.Fatal(err)
	}
	posts := `table:
  name: posts
  schema: public
object_relationships:
  - name: author
    using:
      foreign_key_constraint_on: author_id
array_relationships:
  - name: comments
    using:
      foreign_key_constraint_on:
        column: post_id
        table:
          name: comments
          schema: public
` + permissions
	if err := os.WriteFile(filepath.Join(dir, "databases", "default", "tables", "public_posts.yaml"), []byte(posts), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

const exampleProjectMigrations = "examples/hasura-project/migrations"

// Every permission is read when the metadata loads: one that does not fit
// the catalogue — a column, relationship, operator, operand or literal —
// stops the start, naming the file, the line and the part at fault; none
// can fail a request later.
func TestPermissionsThatDoNotFitStopTheStart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ filter, want string }{
		{`{titel: {_eq: x}}`, `filter.titel: "titel" does not exist: table public.posts has no column, relationship or computed field of that name`},
		{`{likes: {_foo: 1}}`, `filter.likes._foo: unknown operator "_foo"`},
		{`{likes: {_like: "%1"}}`, `filter.likes._like: _like works only on columns of type "varchar", "text", "citext", "bpchar", not integer`},
		{`{likes: {$has_key: a}}`, `filter.likes.$has_key: _has_key works only on columns of type jsonb, not integer`},
		{`{likes: {_contains: 1}}`, `filter.likes._contains: _contains works only on columns of an array type or jsonb, not integer`},
		{`{likes: {_eq: true}}`, `filter.likes._eq: parsing Integer expected for input type: PGInteger failed, expected Number, but encountered Boolean`},
		{`{likes: {_eq: 2.5}}`, `filter.likes._eq: The value 2.5 lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?`},
		{`{likes: {_eq: abc}}`, `filter.likes._eq: PostgreSQL cannot read it as integer: invalid input syntax for type integer: "abc"`},
		{`{created_at: {_gt: not-a-time}}`, `filter.created_at._gt: PostgreSQL cannot read it as timestamp with time zone: invalid input syntax for type timestamp with time zone: "not-a-time"`},
		{`{likes: {_in: 1}}`, `filter.likes._in: a list of values, or a session variable holding an array literal ({1,2}), not a number`},
		{`{likes: {_is_null: X-Hasura-User-Id}}`, `filter.likes._is_null: _is_null takes true or false, not a string`},
		{`{likes: {_ceq: [$, title]}}`, `filter.likes._ceq: incompatible column types: "likes" has type integer, but "title" has type text`},
		{`{likes: {_ceq: nope}}`, `filter.likes._ceq: column "nope" does not exist in table public.posts`},
		{`{author: {nope: {_eq: 1}}}`, `filter.author.nope: "nope" does not exist: table public.users has no column, relationship or computed field of that name`},
		{`{author: 1}`, `filter.author: a relationship takes a boolean expression over table public.users, not a number`},
		{`{_or: {likes: {_eq: 1}}}`, `filter._or: _or takes a list of boolean expressions`},
		{`{_exists: {_table: nope, _where: {}}}`, `filter._exists._table: table "public.nope" does not exist: it is not tracked`},
		{`{_exists: {_table: comments, _where: {nope: {_eq: 1}}}}`, `filter._exists._where.nope: "nope" does not exist: table public.comments has no column, relationship or computed field of that name`},
		{`{comments_aggregate: {count: {predicate: {_eq: 1}}}}`, `filter.comments_aggregate: "comments_aggregate" does not exist: table public.posts has no column, relationship or computed field of that name`},
		{`{tags: {_cast: {integer: {_eq: 1}}}}`, `filter.tags._cast.integer: cannot cast column of type jsonb to type integer`},
	} {
		t.Run(c.filter, func(t *testing.T) {
			t.Parallel()
			dir := examplePostsWith(t, "select_permissions:\n  - role: user\n    permission:\n      columns: '*'\n      filter: "+c.filter+"\n")
			env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "PORT": "0", "SESSION_SECRET": testSessionSecret,
				"HASURA_GRAPHQL_METADATA_DIR": dir, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleProjectMigrations}
			err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
			file := filepath.Join(dir, "databases", "default", "tables", "public_posts.yaml")
			if err == nil || !strings.HasPrefix(err.Error(), "HASURA_GRAPHQL_METADATA_DIR: "+file+":") ||
				!strings.HasSuffix(err.Error(), ": select_permissions of role user: "+c.want) {
				t.Errorf("got  %v\nwant HASURA_GRAPHQL_METADATA_DIR: %s:<line>:<column>: select_permissions of role user: %s", err, file, c.want)
			}
		})
	}
}

// Permissions written as Hasura's metadata allows them — $-spellings,
// {col: value}, _ne, _cast, column comparisons with the permission's own
// row (["$", col]), _exists, relationships, session variables holding
// arrays, _eq null on a nullable column — filter what each role reads.
func TestPermissionsInHasurasSpellings(t *testing.T) {
	t.Parallel()
	const alice, bob = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	role := func(name string) string {
		return "  - role: " + name + "\n    permission:\n      columns: [title]\n      filter: "
	}
	dir := examplePostsWith(t, "select_permissions:\n"+
		role("or")+`{$or: [{likes: {$gt: 10}}, {title: Draft}]}`+"\n"+
		role("keys")+`{$and: [{tags: {$has_key: go}}, {tags: {$has_keys_any: [sql, rust]}}]}`+"\n"+
		role("columns")+`{title: {$cgt: [body]}, likes: {_ne: 0}}`+"\n"+
		role("exists")+`{_exists: {_table: {schema: public, name: comments}, _where: {post_id: {_ceq: [$, id]}}}}`+"\n"+
		role("author")+`{author: {name: {_ilike: "%li%"}}}`+"\n"+
		role("session")+`{$and: [{likes: {_in: X-Hasura-Likes}}, {author_id: {_eq: x-hasura-user-id}}]}`+"\n"+
		role("unrated")+`{rating: {_eq: null}}`+"\n"+
		role("rated")+`{rating: {_neq: null}, title: {_like: "%"}}`+"\n"+
		role("text")+`{tags: {_cast: {text: {_like: "%sql%"}}}}`+"\n")
	s := newTestServer(t, func(c *config) {
		*c = testConfig(t, map[string]string{"HASURA_GRAPHQL_METADATA_DIR": dir, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleProjectMigrations})
	})
	s.exec(t, `INSERT INTO users (id, email, name) VALUES ('`+alice+`', 'a@x.io', 'Alice'), ('`+bob+`', 'b@x.io', 'Bob')`)
	s.exec(t, `INSERT INTO posts (author_id, title, body, tags, likes, views, rating) VALUES
		('`+alice+`', 'Go', 'A', '{"go": 1, "sql": 2}', 12, 100, 4.5),
		('`+alice+`', 'Draft', 'Z', '[]', 0, 0, NULL),
		('`+bob+`', 'Rust', 'Q', '{"go": 1, "rust": 1}', 3, 2, NULL),
		('`+bob+`', 'SQL', 'Z', '["sql"]', 7, 9, 3)`)
	s.exec(t, `INSERT INTO comments (post_id, author_id, body) SELECT id, author_id, 'hi' FROM posts WHERE title = 'SQL'`)
	as := func(role string, vars ...string) map[string]string {
		h := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": role}
		for i := 0; i < len(vars); i += 2 {
			h[vars[i]] = vars[i+1]
		}
		return h
	}
	const q = `{ posts(order_by: {title: asc}) { title } }`
	for _, c := range []struct {
		headers map[string]string
		want    string
	}{
		{as("or"), `[{"title":"Draft"},{"title":"Go"}]`},
		{as("keys"), `[{"title":"Go"},{"title":"Rust"}]`},
		{as("columns"), `[{"title":"Go"},{"title":"Rust"}]`},
		{as("exists"), `[{"title":"SQL"}]`},
		{as("author"), `[{"title":"Draft"},{"title":"Go"}]`},
		{as("session", "X-Hasura-Likes", "{0,3,7,12}", "X-Hasura-User-Id", bob), `[{"title":"Rust"},{"title":"SQL"}]`},
		{as("unrated"), `[{"title":"Draft"},{"title":"Rust"}]`},
		{as("rated"), `[{"title":"Go"},{"title":"SQL"}]`},
		{as("text"), `[{"title":"Go"},{"title":"SQL"}]`},
	} {
		assertJSON(t, s.post(t, `{"query": "`+q+`"}`, c.headers), `{"data":{"posts":`+c.want+`}}`)
	}
	// A session variable the caller lacks, as Hasura answers it.
	assertJSON(t, s.post(t, `{"query": "`+q+`"}`, as("session", "X-Hasura-User-Id", bob)),
		`{"errors":[{"message":"missing session variable: \"x-hasura-likes\"","extensions":{"code":"not-found","path":"$"}}]}`)
	// One that PostgreSQL cannot read as the column's type: its error.
	assertJSON(t, s.post(t, `{"query": "`+q+`"}`, as("session", "X-Hasura-Likes", "[1, 2]", "X-Hasura-User-Id", bob)),
		`{"errors":[{"message":"malformed array literal: \"[1, 2]\"","extensions":{"code":"data-exception","path":"$"}}]}`)
}
