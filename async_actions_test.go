package main

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// asyncActionsServer serves Hasura's fixtures of asynchronous actions
// (projects/actions_async) with Hasura's test handler.
func asyncActionsServer(t *testing.T) (*testServer, *hasuraActionHandler) {
	t.Helper()
	handler := &hasuraActionHandler{gate: make(chan struct{})}
	hook := httptest.NewServer(handler)
	t.Cleanup(hook.Close)
	s := newTestServer(t, withProject(t, filepath.Join("testdata", "hasura", "projects", "actions_async"),
		map[string]string{"ACTION_WEBHOOK_HANDLER": hook.URL, "HASURA_GRAPHQL_METRICS_SECRET": metricsSecret}))
	handler.pool.Store(s.pool)
	return s, handler
}

// metricsSecret guards the test servers' /v1/metrics.
const metricsSecret = "test-metrics-secret"

// actionID is the id a mutation of an asynchronous action answered.
func actionID(t *testing.T, got []byte, field string) string {
	t.Helper()
	var resp struct{ Data map[string]string }
	if err := json.Unmarshal(got, &resp); err != nil || len(resp.Data[field]) != 36 {
		t.Fatalf("%s: no action id in %s", field, got)
	}
	return resp.Data[field]
}

// eventually asserts that query answers want within 10 s (the result of
// an asynchronous action comes when its handler is done).
func eventually(t *testing.T, s *testServer, query string, vars map[string]any, headers map[string]string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.gql(t, query, vars, headers)
		if time.Now().After(deadline) || jsonEqual(got, want) {
			assertJSON(t, got, want)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jsonEqual(got []byte, want string) bool {
	var a, b any
	return json.Unmarshal(got, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && canonical(a) == canonical(b)
}

func canonical(v any) string { raw, _ := json.Marshal(v); return string(raw) }

// Hasura's own cases of asynchronous actions (server/tests-py/test_actions.py,
// TestActionsAsync): the mutation answers the call's id at once; the
// handler is called through the event log, with Hasura's body; the result
// — output with its relationships, or the error in Hasura's {path, error,
// code} — is read by <action>(id:), and only by the session that made the
// call (but the admin).
func TestAsynchronousActions(t *testing.T) {
	t.Parallel()
	s, handler := asyncActionsServer(t)
	const result = `query ($action_id: uuid!) { create_user(id: $action_id) { __typename id output { __typename id user { __typename name email is_admin } } } }`

	// test_create_user_success
	id := actionID(t, s.gql(t, `mutation { create_user(email: "clarke@hasura.io", name: "Clarke") }`, nil, adminHeaders), "create_user")
	eventually(t, s, result, map[string]any{"action_id": id}, adminHeaders,
		`{"data":{"create_user":{"__typename":"create_user","id":"`+id+`","output":{"__typename":"UserId","id":1,
			"user":{"__typename":"user","name":"Clarke","email":"clarke@hasura.io","is_admin":false}}}}}`)
	call := handler.last()
	raw, _ := json.Marshal(call.body)
	assertJSON(t, raw, `{"action":{"name":"create_user"},"input":{"email":"clarke@hasura.io","name":"Clarke"},
		"session_variables":{"x-hasura-role":"admin"},"request_query":null}`)

	// test_create_user_fail: the handler's refusal is the call's errors.
	id = actionID(t, s.gql(t, `mutation { create_user(email: "random-email", name: "Clarke") }`, nil, adminHeaders), "create_user")
	eventually(t, s, `query ($action_id: uuid!) { create_user(id: $action_id) { id errors output { id } } }`, map[string]any{"action_id": id}, adminHeaders,
		`{"data":{"create_user":{"id":"`+id+`","errors":{"code":"invalid-email","path":"$","error":"Given email address is not valid"},"output":null}}}`)

	// test_async_actions_error_response_user_role: an answer that is not
	// JSON.
	user1 := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": "1", "Authorization": "Bearer app-token"}
	id = actionID(t, s.gql(t, `mutation { test_async_action_error_response }`, nil, user1), "test_async_action_error_response")
	eventually(t, s, `query ($action_id: uuid!) { test_async_action_error_response(id: $action_id) { id errors } }`, map[string]any{"action_id": id}, user1,
		`{"data":{"test_async_action_error_response":{"id":"`+id+`","errors":{"code":"unexpected","path":"$","error":"not a valid json response from webhook"}}}}`)
	var attempts int
	var response string
	if err := s.pool.QueryRow(t.Context(), `SELECT count(*), min(response) FROM freshgraph_event_attempts WHERE event_id = $1`, id).Scan(&attempts, &response); err != nil ||
		attempts != 1 || response != "this is not JSON\uFFFD" {
		t.Errorf("the call's attempts: %d %q %v", attempts, response, err)
	}

	// test_create_user_roles: user 2 does not read user 1's call; user 1
	// does. The handler got user 1's forwarded headers, but no
	// X-Hasura- one; once called, they are no longer kept.
	id = actionID(t, s.gql(t, `mutation { create_user(email: "blake@hasura.io", name: "Blake") }`, nil, user1), "create_user")
	own := `query ($action_id: uuid!) { create_user(id: $action_id) { id output { id } } }`
	user2 := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": "2"}
	eventually(t, s, own, map[string]any{"action_id": id}, user1, `{"data":{"create_user":{"id":"`+id+`","output":{"id":2}}}}`)
	assertJSON(t, s.gql(t, own, map[string]any{"action_id": id}, user2), `{"data":{"create_user":null}}`)
	call = handler.last()
	if call.header.Get("Authorization") != "Bearer app-token" {
		t.Errorf("the forwarded headers: %v", call.header)
	}
	for name := range call.header {
		if strings.HasPrefix(strings.ToLower(name), "x-hasura-") {
			t.Errorf("the handler got %s", name)
		}
	}
	var kept *string
	if err := s.pool.QueryRow(t.Context(), `SELECT request_headers::text FROM freshgraph_event_log WHERE id = $1`, id).Scan(&kept); err != nil || kept != nil {
		t.Errorf("the forwarded headers are still kept: %v, %v", kept, err)
	}

	// test_create_user_nested_success
	id = actionID(t, s.gql(t, `mutation { create_user_nested(email: "clarke@hasura.io", name: "Clarke") }`, nil, adminHeaders), "create_user_nested")
	eventually(t, s, `query ($action_id: uuid!) { create_user_nested(id: $action_id) { __typename id output { __typename userObj { __typename id } } } }`,
		map[string]any{"action_id": id}, adminHeaders,
		`{"data":{"create_user_nested":{"__typename":"create_user_nested","id":"`+id+`","output":{"__typename":"UserIdNested","userObj":{"__typename":"UserIdObj","id":3}}}}}`)

	// Who sees what: a role without the action has neither its mutation
	// nor its result; an id that is no call's is null, one that is no
	// uuid PostgreSQL's error.
	assertJSON(t, s.gql(t, `mutation { create_user_nested(email: "a@b.io", name: "A") }`, nil, user1),
		`{"errors":[{"message":"field 'create_user_nested' not found in type: 'mutation_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.create_user_nested"}}]}`)
	assertJSON(t, s.gql(t, own, map[string]any{"action_id": "6c5bb2a0-3d1e-4d6b-a6d3-3f1d4f1b2c3d"}, adminHeaders), `{"data":{"create_user":null}}`)
	assertJSON(t, s.gql(t, own, map[string]any{"action_id": "nope"}, adminHeaders),
		`{"errors":[{"message":"invalid input syntax for type uuid: \"nope\"","extensions":{"code":"data-exception","path":"$"}}]}`)

	// A call is written in the mutation's transaction: a mutation that
	// fails writes none.
	var before, after int
	count := `SELECT count(*) FROM freshgraph_event_log WHERE kind = 'action'`
	_ = s.pool.QueryRow(t.Context(), count).Scan(&before)
	got := s.gql(t, `mutation { create_user(email: "rolled@back.io", name: "Back") insert_user_one(object: {id: 1, name: "dup", email: "d@d.io"}) { id } }`, nil, adminHeaders)
	if !strings.Contains(string(got), "constraint-violation") {
		t.Errorf("the duplicate key: %s", got)
	}
	_ = s.pool.QueryRow(t.Context(), count).Scan(&after)
	if after != before {
		t.Errorf("a failed mutation wrote %d calls", after-before)
	}

	// The operator sees the calls beside the events; a call's result
	// stands: it is not an event to redeliver.
	call2 := func(method, path, body string) string {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		req.Header.Set("X-Hasura-Admin-Secret", testAdminSecret)
		got, _ := rawDo(t, s.Client(), req)
		return string(got)
	}
	assertJSON(t, []byte(call2("GET", "/v1/events", "")), `[
		{"kind":"action","name":"create_user","pending":0,"delivered":2,"failed":1,"oldest_pending_seconds":0},
		{"kind":"action","name":"create_user_nested","pending":0,"delivered":1,"failed":0,"oldest_pending_seconds":0},
		{"kind":"action","name":"test_async_action_error_response","pending":0,"delivered":0,"failed":1,"oldest_pending_seconds":0}]`)
	assertJSON(t, []byte(call2("POST", "/v1/metadata", `{"type":"pg_redeliver_event","args":{"event_id":"`+id+`"}}`)),
		`{"path":"$.args","error":"event not found","code":"not-exists"}`)

	// And in the metrics: three calls answered, two failed.
	m := scrape(t, s, metricsSecret)
	if ok, failed := value(m, "freshgraph_async_actions_total", "status", "success"), value(m, "freshgraph_async_actions_total", "status", "failed"); ok != 3 || failed != 2 {
		t.Errorf("freshgraph_async_actions_total: %v success, %v failed", ok, failed)
	}
}

// subscription { <action>(id:) }: the result at once (the call not yet
// done: output and errors null), then when the call is done — pushed, in
// both protocols.
func TestAsynchronousActionSubscription(t *testing.T) {
	t.Parallel()
	s, handler := asyncActionsServer(t)
	for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
		user := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": "7"}
		id := actionID(t, s.gql(t, `mutation { create_user(email: "gated@hasura.io", name: "Gated") }`, nil, user), "create_user")
		ws := liveAs(t, s, protocol, "user", "7")
		ws.start("1", `subscription ($id: uuid!) { r: create_user(id: $id) { id errors output { id } } }`, map[string]any{"id": id})
		assertJSON(t, []byte(ws.result("1")), `{"data":{"r":{"id":"`+id+`","errors":null,"output":null}}}`)
		handler.gate <- struct{}{} // the handler creates the user
		var n int
		_ = s.pool.QueryRow(t.Context(), `SELECT max(id) FROM "user"`).Scan(&n)
		got := ws.result("1")
		var resp struct {
			Data struct {
				R struct{ Output struct{ ID int } }
			}
		}
		if err := json.Unmarshal([]byte(got), &resp); err != nil || resp.Data.R.Output.ID == 0 {
			t.Fatalf("%s: the done call: %s", protocol, got)
		}
		ws.quiet(300 * time.Millisecond)
		// Another user's subscription to the call is null.
		other := liveAs(t, s, protocol, "user", "8")
		other.start("2", `subscription ($id: uuid!) { create_user(id: $id) { id } }`, map[string]any{"id": id})
		assertJSON(t, []byte(other.result("2")), `{"data":{"create_user":null}}`)
	}
}

// A project whose actions do not fit the database or the environment does
// not start, and the error names the file and what does not fit.
func TestActionsThatDoNotFitAreRefusedAtStart(t *testing.T) {
	t.Parallel()
	s, _ := asyncActionsServer(t)
	src := filepath.Join("testdata", "hasura", "projects", "actions_async")
	for _, tt := range []struct {
		name, from, to string
		env            map[string]string
		want           string
	}{
		{"untracked table", "remote_table: user", "remote_table: account", nil,
			"actions.graphql: custom type UserId: relationship user: table public.account is not tracked"},
		{"missing column", "id: id", "id: uid", nil,
			"actions.graphql: custom type UserId: relationship user: table public.user has no column uid"},
		{"unset handler", "", "", map[string]string{"ACTION_WEBHOOK_HANDLER": ""},
			"action create_user: URL: value for environment variables not found: ACTION_WEBHOOK_HANDLER"},
	} {
		dir := copyProject(t, src)
		file := filepath.Join(dir, "metadata", "actions.yaml")
		raw, _ := os.ReadFile(file)
		if err := os.WriteFile(file, []byte(strings.Replace(string(raw), tt.from, tt.to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{"ACTION_WEBHOOK_HANDLER": "http://127.0.0.1:1"}
		maps.Copy(env, tt.env)
		if err := startError(t, s, dir, env); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// The example project's actions (examples/hasura-project): reportPost's
// answer leads to its post, and exportMyData runs in the background, its
// result leading to the user it exported; a stand-in for examples/webhooks
// (whose own test checks its answers) answers as it does.
func TestExampleProjectActions(t *testing.T) {
	t.Parallel()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var call struct {
			Input            map[string]any    `json:"input"`
			SessionVariables map[string]string `json:"session_variables"`
		}
		_ = json.NewDecoder(r.Body).Decode(&call)
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/actions/report-post":
			_ = json.NewEncoder(w).Encode(map[string]any{"ticket": "T-1", "postId": call.Input["postId"], "reason": call.Input["reason"]})
		case "/actions/export-my-data":
			user := call.SessionVariables["x-hasura-user-id"]
			_ = json.NewEncoder(w).Encode(map[string]any{"userId": user, "url": "https://files.example.com/exports/" + user + ".zip"})
		}
	}))
	t.Cleanup(hook.Close)
	dir := copyProject(t, "examples/hasura-project")
	file := filepath.Join(dir, "metadata", "actions.yaml")
	raw, _ := os.ReadFile(file)
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(raw), "http://localhost:3001", hook.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestServer(t, withProject(t, dir, nil))
	examplePosts(t, s)
	var postID string
	if err := s.pool.QueryRow(t.Context(), `SELECT id::text FROM posts WHERE title = 'Go'`).Scan(&postID); err != nil {
		t.Fatal(err)
	}
	user := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": alice}
	assertJSON(t, s.gql(t, `mutation ($p: uuid!) { reportPost(postId: $p, reason: SPAM) { ticket reason post { title author { name } } } }`,
		map[string]any{"p": postID}, user),
		`{"data":{"reportPost":{"ticket":"T-1","reason":"SPAM","post":{"title":"Go","author":{"name":"Alice"}}}}}`)
	id := actionID(t, s.gql(t, `mutation { exportMyData }`, nil, user), "exportMyData")
	eventually(t, s, `query ($id: uuid!) { exportMyData(id: $id) { output { url user { name } } errors } }`, map[string]any{"id": id}, user,
		`{"data":{"exportMyData":{"output":{"url":"https://files.example.com/exports/`+alice+`.zip","user":{"name":"Alice"}},"errors":null}}}`)
}

// copyProject is a copy of the project directory src, for a test to edit.
func copyProject(t *testing.T, src string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startError is what starting a server of the project dir (with env) on
// s's database fails with; nil when it starts.
func startError(t *testing.T, s *testServer, dir string, env map[string]string) error {
	t.Helper()
	var cfg config
	withProject(t, dir, env)(&cfg)
	_, err := NewServer(t.Context(), discardLogger(), cfg, s.pool)
	return err
}
