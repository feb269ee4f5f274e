package main

import (
	"html"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The seed app's query, verbatim.
const getUser = `query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id name email image emailVerified } }`

const fillMurrayID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"

func insertFillMurray(t *testing.T, s *testServer) {
	t.Helper()
	s.exec(t, `INSERT INTO users (id, name, email, image, "emailVerified")
		VALUES ($1, 'Fill Murray', 'fill@murray.com', NULL, '2024-01-15 10:20:30.123+00')`, fillMurrayID)
}

func TestSeedQueryReturnsTheUserRow(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	insertFillMurray(t, s)
	s.sql.take()

	got := s.gql(t, getUser, map[string]any{"userId": fillMurrayID}, adminHeaders)
	assertJSON(t, got, `{"data":{"users_by_pk":{
		"id":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","name":"Fill Murray","email":"fill@murray.com",
		"image":null,"emailVerified":"2024-01-15T10:20:30.123+00:00"}}}`)

	sqls := s.sql.take()
	if len(sqls) != 1 {
		t.Fatalf("%d SQL statements for one root field, want 1: %q", len(sqls), sqls)
	}
}

func TestSeedQueryForMissingIDIsNull(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	got := s.gql(t, getUser, map[string]any{"userId": "00000000-0000-0000-0000-000000000000"}, adminHeaders)
	assertJSON(t, got, `{"data":{"users_by_pk":null}}`)
}

func TestUsersByPkReadsOnlyRequestedColumns(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	insertFillMurray(t, s)
	s.sql.take()

	got := s.gql(t, `{ u: users_by_pk(id: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11") { name __typename } }`, nil, adminHeaders)
	assertJSON(t, got, `{"data":{"u":{"name":"Fill Murray","__typename":"users"}}}`)

	sqls := s.sql.take()
	if len(sqls) != 1 {
		t.Fatalf("%d SQL statements, want 1: %q", len(sqls), sqls)
	}
	for _, col := range []string{`"email"`, `"image"`, `"emailVerified"`} {
		if strings.Contains(sqls[0], col) {
			t.Errorf("SQL reads unrequested column %s: %s", col, sqls[0])
		}
	}
}

func TestTimestamptzKeepsMicrosecondsAndDropsTrailingZeros(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	s.exec(t, `INSERT INTO users (id, email, "emailVerified") VALUES
		('00000000-0000-0000-0000-000000000001', 'a@example.com', '2016-07-20 17:30:15.234890+05:30'),
		('00000000-0000-0000-0000-000000000002', 'b@example.com', '2016-07-20 17:30:15+00')`)
	got := s.gql(t, `{
		a: users_by_pk(id: "00000000-0000-0000-0000-000000000001") { emailVerified }
		b: users_by_pk(id: "00000000-0000-0000-0000-000000000002") { emailVerified }
	}`, nil, adminHeaders)
	assertJSON(t, got, `{"data":{
		"a":{"emailVerified":"2016-07-20T12:00:15.23489+00:00"},
		"b":{"emailVerified":"2016-07-20T17:30:15+00:00"}}}`)
}

func TestErrorsHaveHasurasShape(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tests := []struct {
		name    string
		body    string
		headers map[string]string
		want    string
	}{{
		name:    "malformed JSON",
		body:    `{"query": `,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"invalid JSON in request body: unexpected end of input","extensions":{"code":"invalid-json","path":"$"}}]}`,
	}, {
		name:    "no query",
		body:    `{"variables": {}}`,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"key \"query\" not found","extensions":{"code":"parse-failed","path":"$"}}]}`,
	}, {
		name:    "unparsable query",
		body:    `{"query": "query {"}`,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"not a valid graphql query","extensions":{"code":"validation-failed","path":"$.query"}}]}`,
	}, {
		name:    "unknown field",
		body:    `{"query": "{ users_by_pk(id: \"` + fillMurrayID + `\") { id\n nickname } }"}`,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"field 'nickname' not found in type: 'users'","extensions":{"code":"validation-failed","path":"$.selectionSet.users_by_pk.selectionSet.nickname"}}]}`,
	}, {
		name:    "unknown root field",
		body:    `{"query": "{ users_by_email { id } }"}`,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"field 'users_by_email' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.users_by_email"}}]}`,
	}, {
		name:    "invalid uuid literal",
		body:    `{"query": "{ users_by_pk(id: \"not-a-uuid\") { id } }"}`,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"invalid input syntax for type uuid: \"not-a-uuid\"","extensions":{"code":"data-exception","path":"$"}}]}`,
	}, {
		name:    "invalid uuid variable",
		body:    `{"query": "query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id } }", "variables": {"userId": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1"}}`,
		headers: adminHeaders,
		want:    `{"errors":[{"message":"invalid input syntax for type uuid: \"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1\"","extensions":{"code":"data-exception","path":"$"}}]}`,
	}, {
		name:    "wrong admin secret",
		body:    `{"query": "{ __typename }"}`,
		headers: map[string]string{"X-Hasura-Admin-Secret": "guess"},
		want:    `{"errors":[{"message":"invalid x-hasura-admin-secret/x-hasura-access-key","extensions":{"code":"access-denied","path":"$"}}]}`,
	}, {
		name:    "wrong legacy access key",
		body:    `{"query": "{ __typename }"}`,
		headers: map[string]string{"X-Hasura-Access-Key": "guess"},
		want:    `{"errors":[{"message":"invalid x-hasura-admin-secret/x-hasura-access-key","extensions":{"code":"access-denied","path":"$"}}]}`,
	}, {
		name: "no role with permission",
		body: `{"query": "query GetUser($userId: uuid!) { users_by_pk(id: $userId) { id } }", "variables": {"userId": "` + fillMurrayID + `"}}`,
		want: `{"errors":[{"message":"field 'users_by_pk' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.users_by_pk"}}]}`,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertJSON(t, s.post(t, tt.body, tt.headers), tt.want)
		})
	}
	if strings.Contains(s.log.String(), testAdminSecret) || strings.Contains(s.log.String(), "guess") {
		t.Errorf("the log holds a secret:\n%s", s.log)
	}
}

func TestAnonymousCallerMayAskForTypename(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	assertJSON(t, s.post(t, `{"query": "{ __typename }"}`, nil), `{"data":{"__typename":"query_root"}}`)
}

func TestAdminAccessIsOffWithoutAConfiguredSecret(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *config) { c.AdminSecret = "" })
	for _, secret := range []string{"", "anything"} {
		got := s.post(t, `{"query": "{ __typename }"}`, map[string]string{"X-Hasura-Admin-Secret": secret})
		assertJSON(t, got, `{"errors":[{"message":"invalid x-hasura-admin-secret/x-hasura-access-key","extensions":{"code":"access-denied","path":"$"}}]}`)
	}
}

func TestNonJSONBodiesAreRefused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(`{"query":"{ __typename }"}`))
	req.Header.Set("Content-Type", "text/plain")
	assertJSON(t, s.do(t, req), `{"errors":[{"message":"Content-Type must be application/json","extensions":{"code":"invalid-headers","path":"$"}}]}`)
}

func TestOversizedBodyIsRefused(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *config) { c.HTTP.BodyBytes = 64 })
	body := `{"query": "{ __typename }", "variables": {"pad": "` + strings.Repeat("x", 100) + `"}}`
	assertJSON(t, s.post(t, body, nil), `{"errors":[{"message":"request body is larger than 64 bytes","extensions":{"code":"bad-request","path":"$"}}]}`)
}

func TestBatchIsAnsweredWithAnArray(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	insertFillMurray(t, s)
	got := s.post(t, `[
		{"query": "query GetUser($userId: uuid!) { users_by_pk(id: $userId) { name } }", "variables": {"userId": "`+fillMurrayID+`"}},
		{"query": "{ nope }"}
	]`, adminHeaders)
	assertJSON(t, got, `[
		{"data":{"users_by_pk":{"name":"Fill Murray"}}},
		{"errors":[{"message":"field 'nope' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.nope"}}]}
	]`)
}

func TestGetRunsQueries(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	insertFillMurray(t, s)
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/graphql?query="+
		"query+GetUser($userId:uuid!){users_by_pk(id:$userId){email}}&variables=%7B%22userId%22%3A%22"+fillMurrayID+"%22%7D", nil)
	req.Header.Set("X-Hasura-Admin-Secret", testAdminSecret)
	assertJSON(t, s.do(t, req), `{"data":{"users_by_pk":{"email":"fill@murray.com"}}}`)
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for _, path := range []string{"/healthz", "/hasura/healthz", "/healthz?strict=true"} {
		status, body := get(t, s.URL+path)
		if status != http.StatusOK || body != "OK" {
			t.Errorf("healthy %s: %d %q, want 200 OK", path, status, body)
		}
	}

	// A server whose database stops answering.
	dead, err := pgxpool.NewWithConfig(t.Context(), s.pool.Config())
	if err != nil {
		t.Fatal(err)
	}
	down := newTestServerOnPool(t, dead)
	dead.Close()
	status, body := get(t, down.URL+"/healthz?strict=true")
	if status != http.StatusInternalServerError || body != "ERROR" {
		t.Errorf("unhealthy: %d %q, want 500 ERROR", status, body)
	}
}

func TestVersionAndGraphiQL(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	status, body := get(t, s.URL+"/v1/version")
	if status != http.StatusOK || body != `{"version":"dev"}` {
		t.Errorf("version: %d %s", status, body)
	}
	status, body = get(t, s.URL+"/")
	if status != http.StatusOK || !strings.Contains(body, "GraphiQL") || !strings.Contains(body, `"/v1/graphql"`) {
		t.Errorf("GraphiQL page: %d %.200s", status, body)
	}
	if status, _ := get(t, s.URL+"/nothing-here"); status != http.StatusNotFound {
		t.Errorf("unknown path: %d, want 404", status)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestDemoPageAndGraphiQLAssets(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	for path, want := range map[string]string{"/demo": "<title>freshgraph demo", "/demo/demo.js": "subscription { session", "/demo/demo.css": "#user-button"} {
		status, body := get(t, s.URL+path)
		if status != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d %.80q", path, status, body)
		}
	}

	// GraphiQL's page loads its files from the server, and each is there.
	_, page := get(t, s.URL+"/")
	srcs := regexp.MustCompile(`(?:src|href)="(/graphiql/assets/[^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(srcs) != 6 || strings.Contains(page, "https://") || !strings.Contains(page, "GraphiQLPluginExplorer.explorerPlugin()") {
		t.Errorf("the GraphiQL page does not load its six files, the Explorer's among them, from this server:\n%.600s", page)
	}
	for _, src := range srcs {
		if status, body := get(t, s.URL+html.UnescapeString(src[1])); status != http.StatusOK || len(body) < 1000 {
			t.Errorf("GET %s: %d, %d bytes", src[1], status, len(body))
		}
	}
	if status, _ := get(t, s.URL+"/graphiql/assets/../config.go"); status != http.StatusNotFound {
		t.Errorf("a file that is not an asset: %d, want 404", status)
	}

	cfg := testConfig(t)
	cfg.GraphiQL.AssetsDir = filepath.Join(t.TempDir(), "missing")
	if _, err := NewServer(t.Context(), discardLogger(), cfg, s.pool); err == nil || !strings.Contains(err.Error(), "refresh.sh") {
		t.Errorf("a missing assets directory: %v", err)
	}
}
