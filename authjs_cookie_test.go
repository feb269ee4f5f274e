package main

import (
	"strings"
	"testing"
)

// An Auth.js cookie that names no live session — its session ended
// elsewhere or expired, or it is no database session's token at all (the
// JWT strategy's encrypted cookie, with its dots; 248 characters is what
// one holding only `sub` takes) — is no credential: its visitor keeps the
// unauthorized role's permissions (in the example project, anonymous may
// read published posts but has no aggregates), and session is null. A
// live one runs as role user.
func TestAuthJSCookieOfNoLiveSessionIsAnonymous(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", nil))
	const alice = "11111111-1111-1111-1111-111111111111"
	s.exec(t, `INSERT INTO users (id, email, name) VALUES ('`+alice+`', 'alice@example.com', 'Alice')`)
	s.exec(t, `INSERT INTO posts (author_id, title, status) VALUES ('`+alice+`', 'Public', 'published'), ('`+alice+`', 'Mine', 'draft')`)
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES
		('5d1e8a0c-0000-4000-8000-00000000live', '`+alice+`', now() + interval '1 day'),
		('5d1e8a0c-0000-4000-8000-0000expired', '`+alice+`', now() - interval '1 second')`)
	jwe := "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.." + strings.Repeat("x", 22) + "." + strings.Repeat("y", 161) + "." + strings.Repeat("z", 22)
	if len(jwe) != 248 {
		t.Fatalf("the JWE-shaped cookie is %d characters", len(jwe))
	}
	query := func(cookie, q string) string {
		t.Helper()
		return string(s.post(t, `{"query": "`+q+`"}`, map[string]string{"Cookie": "authjs.session-token=" + cookie}))
	}
	anonymous := map[string]string{
		`{ posts(order_by: {title: asc}) { title } }`: `{"data":{"posts":[{"title":"Public"}]}}`,
		`{ posts_aggregate { aggregate { count } } }`: `{"errors":[{"message":"field 'posts_aggregate' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_aggregate"}}]}`,
		`{ session { user { id } } }`:                 `{"data":{"session":null}}`,
	}
	for name, cookie := range map[string]string{
		"no such session": "5d1e8a0c-0000-4000-8000-00000000gone", "an expired session": "5d1e8a0c-0000-4000-8000-0000expired",
		"a JWE": jwe, "not a token": "{not a token}",
	} {
		for q, want := range anonymous {
			got := query(cookie, q)
			t.Run(name, func(t *testing.T) { assertJSON(t, []byte(got), want) })
		}
	}
	assertJSON(t, []byte(query("5d1e8a0c-0000-4000-8000-00000000live", `{ posts(order_by: {title: asc}) { title } posts_aggregate { aggregate { count } } session { user { name } } }`)),
		`{"data":{"posts":[{"title":"Mine"},{"title":"Public"}],"posts_aggregate":{"aggregate":{"count":2}},"session":{"user":{"name":"Alice"}}}}`)
}
