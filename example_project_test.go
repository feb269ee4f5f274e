package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
)

// The example project (examples/hasura-project): its migrations and
// metadata served as Hasura serves them — every tracked table, its
// relationships and each role's permissions, beside the built-in tables.
func TestServesTheExampleProject(t *testing.T) {
	t.Parallel()
	base, _, stop := startOnDatabase(t, map[string]string{
		"HASURA_GRAPHQL_METADATA_DIR":   "examples/hasura-project/metadata",
		"HASURA_GRAPHQL_MIGRATIONS_DIR": "examples/hasura-project/migrations",
	})
	t.Cleanup(func() { _ = stop() })
	const alice, bob = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
	as := func(role, user string) map[string]string {
		return map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": role, "X-Hasura-User-Id": user}
	}
	admin := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}
	query := exampleQuery(t, base)

	// The admin writes through every table; a nested insert three levels
	// deep (post → comments → reactions) in one mutation.
	assertJSON(t, query(admin, `mutation { insert_users(objects: [
			{id: "`+alice+`", email: "alice@example.com", name: "Alice"},
			{id: "`+bob+`", email: "bob@example.com", name: "Bob"}]) { affected_rows } }`),
		`{"data":{"insert_users":{"affected_rows":2}}}`)
	assertJSON(t, query(admin, `mutation { insert_posts(objects: [
			{author_id: "`+alice+`", title: "Go", status: published, tags: ["go", "sql"], likes: 3, rating: 4.5,
			 comments: {data: [{author_id: "`+bob+`", body: "Nice", reactions: {data: [{emoji: "+1"}, {emoji: "heart"}]}}]}},
			{author_id: "`+alice+`", title: "Draft", tags: ["go"], likes: 1},
			{author_id: "`+bob+`", title: "SQL", status: published, tags: ["sql"], likes: 5, rating: 3}
		]) { affected_rows returning { title comments { body reactions(order_by: {emoji: asc}) { emoji } } } } }`),
		`{"data":{"insert_posts":{"affected_rows":6,"returning":[
			{"title":"Go","comments":[{"body":"Nice","reactions":[{"emoji":"+1"},{"emoji":"heart"}]}]},
			{"title":"Draft","comments":[]},{"title":"SQL","comments":[]}]}}}`)

	// Relationships both ways by foreign key (posts.author, users.posts),
	// and a manual one (posts.status_info, over the enum table's rows).
	assertJSON(t, query(admin, `{ users(order_by: {email: asc}) { name posts(order_by: {title: asc}) { title author { name } status_info { comment } } } }`),
		`{"data":{"users":[
			{"name":"Alice","posts":[{"title":"Draft","author":{"name":"Alice"},"status_info":{"comment":"Visible to its author only"}},
				{"title":"Go","author":{"name":"Alice"},"status_info":{"comment":"Visible to everyone"}}]},
			{"name":"Bob","posts":[{"title":"SQL","author":{"name":"Bob"},"status_info":{"comment":"Visible to everyone"}}]}]}}`)

	// Anonymous: published posts only, with their authors (whose email it
	// may not see), the enum, jsonb operators, and no aggregates.
	assertJSON(t, query(nil, `{ posts(order_by: {title: asc}) { title status author { name } } }`),
		`{"data":{"posts":[{"title":"Go","status":"published","author":{"name":"Alice"}},{"title":"SQL","status":"published","author":{"name":"Bob"}}]}}`)
	assertJSON(t, query(nil, `{ posts(where: {tags: {_contains: ["go"]}}) { title } }`), `{"data":{"posts":[{"title":"Go"}]}}`)
	assertJSON(t, query(nil, `{ posts(where: {tags: {_has_key: "sql"}}, order_by: {title: asc}) { title } }`),
		`{"data":{"posts":[{"title":"Go"},{"title":"SQL"}]}}`)
	assertJSON(t, query(nil, `{ posts { author { email } } }`),
		`{"errors":[{"message":"field 'email' not found in type: 'users'","extensions":{"code":"validation-failed","path":"$.selectionSet.posts.selectionSet.author.selectionSet.email"}}]}`)
	assertJSON(t, query(nil, `{ posts_aggregate { aggregate { count } } }`),
		`{"errors":[{"message":"field 'posts_aggregate' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_aggregate"}}]}`)
	// Filtering a list of ids or counts, on an integer column (issue 21:
	// it answered "unexpected"), as a literal and through _nin; and a
	// bigint beyond 2^53 and a long numeric, exactly.
	assertJSON(t, query(nil, `{ posts(where: {likes: {_in: [1, 3]}}) { title } }`), `{"data":{"posts":[{"title":"Go"}]}}`)
	assertJSON(t, query(nil, `{ posts(where: {likes: {_nin: [1, 3]}}, order_by: {title: asc}) { title } }`), `{"data":{"posts":[{"title":"SQL"}]}}`)
	assertJSON(t, query(admin, `mutation { update_posts(where: {title: {_eq: "SQL"}}, _set: {views: 9007199254740993, rating: 12345678901234567890.123456789}) { returning { views rating } } }`),
		`{"data":{"update_posts":{"returning":[{"views":9007199254740993,"rating":12345678901234567890.123456789}]}}}`)
	assertJSON(t, query(admin, `{ posts(where: {views: {_eq: 9007199254740993}, rating: {_gt: 12345678901234567890.12345678}}) { title } }`),
		`{"data":{"posts":[{"title":"SQL"}]}}`)
	assertJSON(t, query(admin, `mutation { update_posts(where: {title: {_eq: "SQL"}}, _set: {views: 0, rating: 3}) { affected_rows } }`),
		`{"data":{"update_posts":{"affected_rows":1}}}`)
	// Custom root field and column names (comments: commentsList, createdAt).
	assertJSON(t, query(nil, `{ commentsList { body author { name } post { title } } }`),
		`{"data":{"commentsList":[{"body":"Nice","author":{"name":"Bob"},"post":{"title":"Go"}}]}}`)

	// Role user (Alice): her drafts too, aggregates over what she may read.
	user := as("user", alice)
	assertJSON(t, query(user, `{ posts(order_by: {title: asc}) { title } posts_aggregate { aggregate { count sum { likes rating } max { likes } } } }`),
		`{"data":{"posts":[{"title":"Draft"},{"title":"Go"},{"title":"SQL"}],
			"posts_aggregate":{"aggregate":{"count":3,"sum":{"likes":9,"rating":7.5},"max":{"likes":5}}}}}`)
	// An insert takes the author from the session (a preset), and its
	// check holds.
	assertJSON(t, query(user, `mutation { insert_posts_one(object: {title: "Mine", status: published}) { title author { name } } }`),
		`{"data":{"insert_posts_one":{"title":"Mine","author":{"name":"Alice"}}}}`)
	assertJSON(t, query(user, `mutation { insert_posts_one(object: {title: "Theirs", author_id: "`+bob+`"}) { title } }`),
		`{"errors":[{"message":"field 'author_id' not found in type: 'posts_insert_input'","extensions":{"code":"validation-failed","path":"$.selectionSet.insert_posts_one.args.object.author_id"}}]}`)
	// jsonb's update operators under the role's update permission: her
	// posts' tags only; no operator on a column she may not update.
	assertJSON(t, query(user, `mutation { update_posts(where: {}, _append: {tags: ["new"]}, _delete_elem: {tags: 0}) { affected_rows } }`),
		`{"errors":[{"message":"Column found in multiple operators: ['tags'].","extensions":{"code":"validation-failed","path":"$.selectionSet.update_posts.args"}}]}`)
	assertJSON(t, query(user, `mutation { update_posts(where: {title: {_in: ["Go", "SQL"]}}, _append: {tags: ["new"]}) { returning { title tags } } }`),
		`{"data":{"update_posts":{"returning":[{"title":"Go","tags":["go","sql","new"]}]}}}`)
	assertJSON(t, query(user, `mutation { update_posts(where: {title: {_eq: "Go"}}, _delete_at_path: {tags: ["2"]}) { returning { tags } } }`),
		`{"data":{"update_posts":{"returning":[{"tags":["go","sql"]}]}}}`)
	assertJSON(t, query(user, `mutation { update_posts(where: {}, _inc: {likes: 1}) { affected_rows } }`),
		`{"errors":[{"message":"'update_posts' has no argument named '_inc'","extensions":{"code":"validation-failed","path":"$.selectionSet.update_posts"}}]}`)
	// Updates: only her rows, and the check refuses archiving (nothing written).
	assertJSON(t, query(user, `mutation { update_posts(where: {title: {_eq: "SQL"}}, _set: {body: "mine now"}) { affected_rows } }`),
		`{"data":{"update_posts":{"affected_rows":0}}}`)
	assertJSON(t, query(user, `mutation { update_posts(where: {title: {_eq: "Go"}}, _set: {status: archived}) { affected_rows } }`),
		`{"errors":[{"message":"check constraint of an insert/update permission has failed","extensions":{"code":"permission-error","path":"$"}}]}`)
	assertJSON(t, query(nil, `{ posts(where: {title: {_eq: "Go"}}) { status } }`), `{"data":{"posts":[{"status":"published"}]}}`)
	// A comment on a published post, its author the session's user; on
	// Alice's draft, the insert check fails.
	assertJSON(t, query(as("user", bob), `mutation { insert_comments_one(object: {post_id: "`+postID(t, query, "Mine")+`", body: "Hi"}) { body author { name } } }`),
		`{"data":{"insert_comments_one":{"body":"Hi","author":{"name":"Bob"}}}}`)
	assertJSON(t, query(as("user", bob), `mutation { insert_comments_one(object: {post_id: "`+postID(t, query, "Draft")+`", body: "Hi"}) { body } }`),
		`{"errors":[{"message":"check constraint of an insert/update permission has failed","extensions":{"code":"permission-error","path":"$.selectionSet.insert_comments_one.args.object"}}]}`)
	// Deletes: her own posts only.
	assertJSON(t, query(user, `mutation { delete_posts(where: {}) { affected_rows } }`), `{"data":{"delete_posts":{"affected_rows":3}}}`)
	assertJSON(t, query(admin, `{ posts { title } }`), `{"data":{"posts":[{"title":"SQL"}]}}`)
	// A nested insert's checks are asked once all its rows are there: a
	// comment on the published post it comes with passes (its check reads
	// that post), one on a draft fails, and nothing of that insert stays.
	assertJSON(t, query(user, `mutation { insert_posts_one(object: {title: "With comment", status: published, comments: {data: [{body: "First"}]}}) {
			title comments { body author { name } } } }`),
		`{"data":{"insert_posts_one":{"title":"With comment","comments":[{"body":"First","author":{"name":"Alice"}}]}}}`)
	assertJSON(t, query(user, `mutation { insert_posts_one(object: {title: "Draft with comment", comments: {data: [{body: "First"}]}}) { title } }`),
		`{"errors":[{"message":"check constraint of an insert/update permission has failed","extensions":{"code":"permission-error","path":"$.selectionSet.insert_posts_one.args.object"}}]}`)
	assertJSON(t, query(admin, `{ posts(where: {title: {_like: "%comment"}}) { title } comments_aggregate { aggregate { count } } }`),
		`{"data":{"posts":[{"title":"With comment"}],"comments_aggregate":{"aggregate":{"count":1}}}}`)
	// A role the metadata does not name has no table.
	assertJSON(t, query(as("editor", alice), `{ no_queries_available }`), `{"data":{"no_queries_available":"There are no queries available to the current role. Either there are no sources or remote schemas configured, or the current role doesn't have the required permissions."}}`)
}

// exampleQuery returns a function that posts a query to the server at base
// with the given headers, and returns the response body.
func exampleQuery(t *testing.T, base string) func(headers map[string]string, q string) []byte {
	return func(headers map[string]string, q string) []byte {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"query": q})
		req, err := http.NewRequest(http.MethodPost, base+"v1/graphql", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return out
	}
}

// Hasura's settings for a project: HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES
// writes the numbers a JavaScript client cannot hold as strings, and
// HASURA_GRAPHQL_UNAUTHORIZED_ROLE gives callers without credentials a role
// of the project's choosing, which can still sign in.
func TestExampleProjectSettings(t *testing.T) {
	t.Parallel()
	base, _, stop := startOnDatabase(t, map[string]string{
		"HASURA_GRAPHQL_METADATA_DIR":            "examples/hasura-project/metadata",
		"HASURA_GRAPHQL_MIGRATIONS_DIR":          "examples/hasura-project/migrations",
		"HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES": "true",
		"HASURA_GRAPHQL_UNAUTHORIZED_ROLE":       "public",
	})
	t.Cleanup(func() { _ = stop() })
	query := exampleQuery(t, base)
	const alice = "11111111-1111-1111-1111-111111111111"
	admin := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}
	assertJSON(t, query(admin, `mutation { insert_users_one(object: {id: "`+alice+`", email: "alice@example.com"}) { id } }`),
		`{"data":{"insert_users_one":{"id":"`+alice+`"}}}`)
	// 2^53 + 1 is the first integer a float64 cannot hold.
	got := query(admin, `mutation { insert_posts(objects: [
			{author_id: "`+alice+`", title: "a", status: published, views: 9007199254740993, likes: 3, rating: 0.1, tags: {k: ["x", {deep: 1}]}},
			{author_id: "`+alice+`", title: "b", status: published, views: "1", likes: 4, rating: "0.2", tags: []}
		]) { returning { views likes rating tags(path: "k[1].deep") } } }`)
	assertJSON(t, got, `{"data":{"insert_posts":{"returning":[{"views":"9007199254740993","likes":3,"rating":"0.1","tags":1},{"views":"1","likes":4,"rating":"0.2","tags":null}]}}}`)
	// Aggregates are stringified by the column's type, as Hasura's are:
	// the sum of a bigint is a string, the average of an integer a number;
	// a count never is.
	got = query(admin, `{ posts_aggregate { aggregate { count sum { views likes rating } avg { likes } max { views } } } }`)
	assertJSON(t, got, `{"data":{"posts_aggregate":{"aggregate":{"count":2,"sum":{"views":"9007199254740994","likes":7,"rating":"0.3"},"avg":{"likes":3.5000000000000000},"max":{"views":"9007199254740993"}}}}}`)
	// A path Hasura cannot read is its error, before any SQL.
	assertJSON(t, query(admin, `{ posts { tags(path: "a..b") } }`),
		`{"errors":[{"message":"parse json path error: a..b. Accept letters, digits, underscore (_) or hyphen (-) only. Use quotes enclosed in bracket ([\"...\"]) if there is any special character","extensions":{"code":"validation-failed","path":"$.selectionSet.posts.selectionSet.tags.args.path"}}]}`)
	assertJSON(t, query(admin, `{ posts(order_by: {title: asc}) { whole: tags(path: "$") } }`),
		`{"data":{"posts":[{"whole":{"k":["x",{"deep":1}]}},{"whole":[]}]}}`)

	// Without credentials the caller is "public", which the metadata gives
	// no table; the anonymous role's posts are not its.
	assertJSON(t, query(nil, `{ posts { title } }`),
		`{"errors":[{"message":"field 'posts' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.posts"}}]}`)
	assertJSON(t, query(nil, `{ session { user { id } } }`), `{"data":{"session":null}}`)
	assertJSON(t, query(map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "anonymous"}, `{ posts(order_by: {title: asc}) { title } }`),
		`{"data":{"posts":[{"title":"a"},{"title":"b"}]}}`)
}

// postID is the id of the post titled title, read by the admin.
func postID(t *testing.T, query func(map[string]string, string) []byte, title string) string {
	t.Helper()
	var out struct {
		Data struct{ Posts []struct{ ID string } }
	}
	if err := json.Unmarshal(query(map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}, `{ posts(where: {title: {_eq: "`+title+`"}}) { id } }`), &out); err != nil || len(out.Data.Posts) != 1 {
		t.Fatalf("post %q: %v %+v", title, err, out)
	}
	return out.Data.Posts[0].ID
}
