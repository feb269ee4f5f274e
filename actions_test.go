package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const actionsGraphQL = `type Mutation {
  placeOrder(item: String!, qty: Int, options: OrderOptions): OrderResult
}

type Query {
  quote(item: String!): Quote!
}

input OrderOptions {
  gift: Boolean
  note: String
  size: Size
}

enum Size {
  SMALL
  LARGE
}

type OrderResult {
  id: Int!
  item: String!
  tags: [String!]
  size: Size
  owner: uuid
}

type Quote {
  item: String!
  price: Float!
}

scalar uuid
`

const actionsYAML = `actions:
  - name: placeOrder
    definition:
      kind: synchronous
      handler: "{{ACTIONS_URL}}/place"
      forward_client_headers: true
      headers:
        - {name: X-Api-Key, value_from_env: ACTIONS_KEY}
      timeout: 1
    permissions:
      - role: user
  - name: quote
    definition:
      kind: synchronous
      type: query
      handler: "{{ACTIONS_URL}}/quote"
custom_types:
  enums: [{name: Size}]
  input_objects: [{name: OrderOptions}]
  objects: [{name: OrderResult}, {name: Quote}]
  scalars: [{name: uuid}]
`

// actionHandler is the test's handler of both actions: it answers by the
// item asked for, and keeps what it was sent.
type actionHandler struct {
	mu     sync.Mutex
	bodies []map[string]any
	header http.Header
}

func (h *actionHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.header = r.Header.Clone()
	h.mu.Unlock()
	input, _ := body["input"].(map[string]any)
	answer := func(status int, v string) {
		w.WriteHeader(status)
		_, _ = io.WriteString(w, v)
	}
	switch input["item"] {
	case "tea":
		answer(200, `{"id": 1, "item": "tea", "tags": ["hot"], "size": "SMALL", "owner": "11111111-1111-1111-1111-111111111111", "extra": "not selected"}`)
	case "refused":
		answer(400, `{"message": "out of stock", "extensions": {"code": "out-of-stock", "item": "refused"}}`)
	case "bare refusal":
		answer(422, `{"message": "no"}`)
	case "broken":
		answer(500, `internal secrets: stack trace`)
	case "missing":
		answer(200, `{"item": "missing"}`)
	case "null id":
		answer(200, `{"id": null, "item": "x"}`)
	case "array":
		answer(200, `[{"id": 1, "item": "x"}]`)
	case "failing":
		answer(503, `{"message": "busy"}`)
	case "code only":
		answer(409, `{"message": "no stock", "code": "out-of-stock"}`)
	case "wrong type":
		answer(200, `{"id": "one", "item": "x"}`)
	case "wrong enum":
		answer(200, `{"id": 1, "item": "x", "size": "HUGE"}`)
	case "slow":
		time.Sleep(2 * time.Second)
		answer(200, `{"id": 1, "item": "slow"}`)
	case "coffee":
		answer(200, `{"item": "coffee", "price": 2.5}`)
	default:
		answer(200, `null`)
	}
}

// actionsProject is the example project with the test's actions.
func actionsProject(t *testing.T) string {
	dir := projectWith(t, "SELECT 1;", nil)
	for name, content := range map[string]string{"actions.graphql": actionsGraphQL, "actions.yaml": actionsYAML} {
		if err := os.WriteFile(filepath.Join(dir, "metadata", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Synchronous actions: each role's schema has the actions it may run; the
// handler gets Hasura's body (the action's name, its coerced input, the
// caller's session variables, the query), the metadata's headers and the
// client's; its answer is read as the output type selects it, and what
// does not fit it, a refusal, a failure and a timeout are errors in
// Hasura's shape, the handler's own words passed on only from a 4xx.
func TestSynchronousActions(t *testing.T) {
	t.Parallel()
	const alice = "11111111-1111-1111-1111-111111111111"
	handler := &actionHandler{}
	hook := httptest.NewServer(handler)
	t.Cleanup(hook.Close)
	s := newTestServer(t, withProject(t, actionsProject(t), map[string]string{"ACTIONS_URL": hook.URL, "ACTIONS_KEY": "k3y"}))
	user := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": alice, "X-Client-Note": "from the app"}

	got := s.gql(t, `mutation Place($opts: OrderOptions) { o: placeOrder(item: "tea", qty: 2, options: $opts) { __typename id myItem: item tags size owner } }`,
		map[string]any{"opts": map[string]any{"gift": true, "size": "LARGE"}}, user)
	assertJSON(t, got, `{"data":{"o":{"__typename":"OrderResult","id":1,"myItem":"tea","tags":["hot"],"size":"SMALL","owner":"`+alice+`"}}}`)
	handler.mu.Lock()
	body, header := handler.bodies[0], handler.header
	handler.mu.Unlock()
	raw, _ := json.Marshal(map[string]any{"action": body["action"], "input": body["input"], "session_variables": body["session_variables"]})
	assertJSON(t, raw, `{"action":{"name":"placeOrder"},"input":{"item":"tea","qty":2,"options":{"gift":true,"size":"LARGE"}},
		"session_variables":{"x-hasura-role":"user","x-hasura-user-id":"`+alice+`"}}`)
	if q, _ := body["request_query"].(string); q == "" {
		t.Errorf("request_query missing: %v", body)
	}
	if header.Get("X-Api-Key") != "k3y" || header.Get("X-Client-Note") != "from the app" || header.Get("User-Agent") != "freshgraph" ||
		header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", header)
	}
	// As Hasura forwards a client's headers: never the X-Hasura- ones (the
	// admin secret among them), the client's Host and User-Agent as
	// X-Forwarded- ones.
	for name, values := range header {
		if strings.HasPrefix(strings.ToLower(name), "x-hasura-") {
			t.Errorf("the handler got %s: %v", name, values)
		}
	}
	if header.Get("X-Forwarded-Host") != strings.TrimPrefix(s.URL, "http://") || header.Get("X-Forwarded-User-Agent") == "" {
		t.Errorf("X-Forwarded- headers: %v", header)
	}

	for _, tt := range []struct{ item, want string }{
		{"refused", `{"errors":[{"message":"out of stock","extensions":{"code":"out-of-stock","item":"refused"}}]}`},
		{"bare refusal", `{"errors":[{"message":"no","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"broken", `{"errors":[{"message":"not a valid json response from webhook","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"missing", `{"errors":[{"message":"field \"id\" expected in webhook response, but not found","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"null id", `{"errors":[{"message":"expecting not null value for field \"id\"","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"wrong type", `{"errors":[{"message":"got scalar String for the action webhook response, expecting Int","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"array", `{"errors":[{"message":"got array for the action webhook response, expecting OrderResult","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"failing", `{"errors":[{"message":"internal error","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"code only", `{"errors":[{"message":"no stock","extensions":{"path":"$","code":"out-of-stock"}}]}`},
		{"wrong enum", `{"errors":[{"message":"expecting a value of enum Size for field \"size\"","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"slow", `{"errors":[{"message":"http exception when calling webhook","extensions":{"code":"unexpected","path":"$"}}]}`},
		{"nothing", `{"data":{"placeOrder":null}}`},
	} {
		got := s.gql(t, `mutation { placeOrder(item: "`+tt.item+`") { id item size } }`, nil, user)
		assertJSON(t, got, tt.want)
	}

	// A cookie caller's handler gets its session's user.
	b := newBrowser(t)
	var signedUp struct {
		Data struct {
			SignUp struct{ User struct{ ID string } }
		}
	}
	if err := json.Unmarshal(b.gql(s, `mutation { signUp(email: "actions@example.com", password: "correct horse battery") { user { id } } }`, nil), &signedUp); err != nil {
		t.Fatal(err)
	}
	assertJSON(t, b.gql(s, `mutation { placeOrder(item: "tea") { id } }`, nil), `{"data":{"placeOrder":{"id":1}}}`)
	handler.mu.Lock()
	last := handler.bodies[len(handler.bodies)-1]["session_variables"]
	handler.mu.Unlock()
	raw, _ = json.Marshal(last)
	assertJSON(t, raw, `{"x-hasura-role":"user","x-hasura-user-id":"`+signedUp.Data.SignUp.User.ID+`"}`)

	// Who may run what: the admin both, role user its mutation only,
	// anonymous neither.
	assertJSON(t, s.gql(t, `{ quote(item: "coffee") { item price } }`, nil, adminHeaders), `{"data":{"quote":{"item":"coffee","price":2.5}}}`)
	assertJSON(t, s.gql(t, `{ quote(item: "coffee") { item } }`, nil, user),
		`{"errors":[{"message":"field 'quote' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.quote"}}]}`)
	assertJSON(t, s.gql(t, `mutation { placeOrder(item: "tea") { id } }`, nil, nil),
		`{"errors":[{"message":"field 'placeOrder' not found in type: 'mutation_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.placeOrder"}}]}`)
	assertJSON(t, s.gql(t, `mutation { placeOrder(item: "tea", qty: "two") { id } }`, nil, user),
		`{"errors":[{"message":"expected a 32-bit integer for type 'Int', but found a string","extensions":{"code":"validation-failed","path":"$.selectionSet.placeOrder.args.qty"}}]}`)
}
