package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Auth.js's own code against the server: session cookies made by
// next-auth v4's and @auth/core's (v5) encode and chunked by their own
// SessionStore (test/nextauth/tokens.mjs), and their clients driven as a
// browser runs them (test/nextauth/client.mjs); the packages are pinned
// by test/nextauth/package-lock.json.

const (
	authSecret    = "the-app-auth-secret-0123456789abcdef"
	oldAuthSecret = "the-apps-previous-secret-before-rotation"
)

// nextAuth runs the Node script in test/nextauth with stdin (JSON) and
// env; without Node.js it skips.
func nextAuth(t *testing.T, script string, stdin any, env ...string) []byte {
	t.Helper()
	dir := filepath.Join("test", "nextauth")
	node := nodePackages(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	in, _ := json.Marshal(stdin)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node %s: %v\n%s", script, err, stderr.String())
	}
	return out
}

// authJSOp is one of tokens.mjs's operations.
type authJSOp struct {
	Op      string            `json:"op"`
	V       int               `json:"v"`
	Name    string            `json:"name"`
	Secret  any               `json:"secret"`
	Token   map[string]any    `json:"token,omitempty"`
	MaxAge  int               `json:"maxAge,omitempty"`
	Cookies map[string]string `json:"cookies,omitempty"`
}

// authJSResult is one of its results.
type authJSResult struct {
	Cookies map[string]string `json:"cookies"`
	Payload map[string]any    `json:"payload"`
	Error   string            `json:"error"`
}

func authJS(t *testing.T, ops []authJSOp) []authJSResult {
	t.Helper()
	var out []authJSResult
	if err := json.Unmarshal(nextAuth(t, "tokens.mjs", ops), &out); err != nil || len(out) != len(ops) {
		t.Fatalf("tokens.mjs: %v, %d results", err, len(out))
	}
	return out
}

// cookieLine is a Cookie header of cookies.
func cookieLine(cookies map[string]string) string {
	var parts []string
	for k, v := range cookies {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, "; ")
}

// withAuthSecret is a deployment given the app's Auth.js secrets, newest
// first.
func withAuthSecret(c *config) { c.AuthJSSecrets = []string{authSecret, oldAuthSecret} }

// TestNextAuthJWTCookies: the JWT strategy's session cookie, as next-auth
// v4 and Auth.js v5 write it, is a session — its subject's user read
// fresh, never the profile the token carries — and one that fails to
// decrypt, has expired or names no subject is no credential.
func TestNextAuthJWTCookies(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withAuthSecret)
	ann := queryStrings(t, s, `INSERT INTO users (name, email) VALUES ('Ann', 'ann@example.com') RETURNING id::text`)[0]
	stale := func(sub any) map[string]any {
		tok := map[string]any{"name": "Stale Name", "email": "stale@example.com", "picture": "https://example.com/stale.png"}
		if sub != nil {
			tok["sub"] = sub
		}
		return tok
	}
	big := stale(ann)
	big["role"] = strings.Repeat("r", 6000) // an app's claims can make the token longer than a cookie
	month := 30 * 24 * 3600
	type tokenCase struct {
		name  string
		op    authJSOp
		valid bool
	}
	cases := []tokenCase{
		{"v4", authJSOp{V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: stale(ann), MaxAge: month}, true},
		{"v4 __Secure-", authJSOp{V: 4, Name: "__Secure-next-auth.session-token", Secret: authSecret, Token: stale(ann), MaxAge: month}, true},
		{"v5", authJSOp{V: 5, Name: "authjs.session-token", Secret: authSecret, Token: stale(ann), MaxAge: month}, true},
		{"v5 __Secure-, several secrets", authJSOp{V: 5, Name: "__Secure-authjs.session-token", Secret: []string{authSecret, oldAuthSecret}, Token: stale(ann), MaxAge: 3600}, true},
		{"v5 chunked", authJSOp{V: 5, Name: "authjs.session-token", Secret: authSecret, Token: big, MaxAge: month}, true},
		{"v4 chunked", authJSOp{V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: big, MaxAge: month}, true},
		{"v5 of the previous secret", authJSOp{V: 5, Name: "authjs.session-token", Secret: oldAuthSecret, Token: stale(ann), MaxAge: month}, true},
		{"v4 of the previous secret", authJSOp{V: 4, Name: "next-auth.session-token", Secret: oldAuthSecret, Token: stale(ann), MaxAge: month}, true},
		{"v4 expired", authJSOp{V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: stale(ann), MaxAge: -1}, false},
		{"v5 expired", authJSOp{V: 5, Name: "authjs.session-token", Secret: authSecret, Token: stale(ann), MaxAge: -1}, false},
		{"v5 of another secret", authJSOp{V: 5, Name: "authjs.session-token", Secret: "another-apps-secret-entirely-0123", Token: stale(ann), MaxAge: month}, false},
		{"v4 of another secret", authJSOp{V: 4, Name: "next-auth.session-token", Secret: "another-apps-secret-entirely-0123", Token: stale(ann), MaxAge: month}, false},
		{"v5 without sub", authJSOp{V: 5, Name: "authjs.session-token", Secret: authSecret, Token: stale(nil), MaxAge: month}, false},
	}
	ops := make([]authJSOp, len(cases))
	for i, c := range cases {
		c.op.Op = "encode"
		ops[i] = c.op
	}
	made := authJS(t, ops)
	if len(made[4].Cookies) < 2 || len(made[5].Cookies) < 2 {
		t.Fatalf("the long tokens were not chunked: %d, %d cookies", len(made[4].Cookies), len(made[5].Cookies))
	}
	// A tampered token, and a v5 token under the other name (the name is
	// its key's salt).
	v5 := made[2].Cookies["authjs.session-token"]
	parts := strings.Split(v5, ".")
	ct, _ := base64.RawURLEncoding.DecodeString(parts[3])
	ct[0] ^= 1
	parts[3] = base64.RawURLEncoding.EncodeToString(ct)
	cases = append(cases, tokenCase{name: "v5 tampered", op: authJSOp{V: 5, Name: "authjs.session-token"}}, tokenCase{name: "v5 under the __Secure- name", op: authJSOp{V: 5, Name: "__Secure-authjs.session-token"}})
	made = append(made, authJSResult{Cookies: map[string]string{"authjs.session-token": strings.Join(parts, ".")}}, authJSResult{Cookies: map[string]string{"__Secure-authjs.session-token": v5}})

	query := `query($id: uuid!) { session { user { id name email image } } users_by_pk(id: $id) { name } }`
	var renew []authJSOp
	for i, c := range cases {
		cookie := cookieLine(made[i].Cookies)
		got := s.gql(t, query, map[string]any{"id": ann}, map[string]string{"Cookie": cookie})
		if c.valid {
			assertJSON(t, got, `{"data":{"session":{"user":{"id":"`+ann+`","name":"Ann","email":"ann@example.com","image":null}},"users_by_pk":{"name":"Ann"}}}`)
		} else {
			// Anonymous: no session, and users_by_pk is not theirs to read.
			assertJSON(t, got, `{"errors":[{"message":"field 'users_by_pk' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.users_by_pk"}}]}`)
			assertJSON(t, s.gql(t, `{ session { expires } }`, nil, map[string]string{"Cookie": cookie}), `{"data":{"session":null}}`)
		}
		// Auth.js's endpoint: the user fresh, and the cookie renewed as
		// Auth.js renews it; a cookie that is no session is left alone.
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/auth/session", nil)
		req.Header.Set("Cookie", cookie)
		body, resp := doWith(t, http.DefaultClient, req)
		if !c.valid {
			want := map[int]string{4: "{}", 5: "null"}[c.op.V]
			if string(body) != want || len(resp.Cookies()) != 0 {
				t.Errorf("%s: /api/auth/session %s %v, want %s and no cookie", c.name, body, resp.Cookies(), want)
			}
			continue
		}
		var endpoint struct {
			User    map[string]any `json:"user"`
			Expires string         `json:"expires"`
		}
		if err := json.Unmarshal(body, &endpoint); err != nil {
			t.Fatalf("%s: %s", c.name, body)
		}
		if b, _ := json.Marshal(endpoint.User); string(b) != `{"email":"ann@example.com","image":null,"name":"Ann"}` {
			t.Errorf("%s: /api/auth/session user %s", c.name, b)
		}
		renewed := map[string]string{}
		for _, ck := range resp.Cookies() {
			if ck.MaxAge >= 0 {
				renewed[ck.Name] = ck.Value
			}
			if !ck.HttpOnly || ck.Path != "/" || ck.SameSite != http.SameSiteLaxMode || ck.Secure != strings.HasPrefix(ck.Name, "__Secure-") {
				t.Errorf("%s: renewed cookie %s", c.name, ck)
			}
			if ck.MaxAge >= 0 && ck.Expires.UTC().Format("2006-01-02T15:04:05.000Z") != endpoint.Expires {
				t.Errorf("%s: cookie expires %v, the session %s", c.name, ck.Expires, endpoint.Expires)
			}
		}
		if len(renewed) != len(made[i].Cookies) {
			t.Errorf("%s: renewed into %d cookies, Auth.js wrote %d", c.name, len(renewed), len(made[i].Cookies))
		}
		renew = append(renew, authJSOp{Op: "decode", V: c.op.V, Name: c.op.Name, Secret: authSecret, Cookies: renewed})
		exp, _ := time.Parse(time.RFC3339, endpoint.Expires)
		if want := time.Now().Add(time.Duration(c.op.MaxAge) * time.Second); exp.Sub(want).Abs() > 5*time.Second {
			t.Errorf("%s: expires %s, want about %s (the same lifetime, from now)", c.name, endpoint.Expires, want)
		}
	}
	// What freshgraph renewed, Auth.js reads with the newest secret alone:
	// the same claims, issued now.
	for i, r := range authJS(t, renew) {
		if r.Error != "" || r.Payload["sub"] != ann || r.Payload["name"] != "Stale Name" || r.Payload["jti"] == nil {
			t.Errorf("Auth.js reads the renewed %s cookie as %v %s", renew[i].Name, r.Payload, r.Error)
		}
	}
}

// TestNextAuthJWTCookieUserGone: a token whose user is gone, or whose
// subject names no user here ("42": an app's own ids), runs as role user
// with that X-Hasura-User-Id, and its session is null.
func TestNextAuthJWTCookieUserGone(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withAuthSecret)
	made := authJS(t, []authJSOp{
		{Op: "encode", V: 5, Name: "authjs.session-token", Secret: authSecret, Token: map[string]any{"sub": "0b7c3f62-0000-4000-8000-000000000000"}, MaxAge: 60},
		{Op: "encode", V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: map[string]any{"sub": "42"}, MaxAge: 60},
	})
	for i, m := range made {
		got := s.gql(t, `{ session { expires } }`, nil, map[string]string{"Cookie": cookieLine(m.Cookies)})
		assertJSON(t, got, `{"data":{"session":null}}`)
		// Role user, as its own: none of the users is its. Where a
		// permission compares a uuid column with "42", PostgreSQL refuses
		// the value, as it does under Hasura.
		got = s.gql(t, `{ users { id } }`, nil, map[string]string{"Cookie": cookieLine(m.Cookies)})
		assertJSON(t, got, []string{`{"data":{"users":[]}}`,
			`{"errors":[{"message":"invalid input syntax for type uuid: \"42\"","extensions":{"code":"data-exception","path":"$"}}]}`}[i])
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/auth/session", nil)
		req.Header.Set("Cookie", cookieLine(m.Cookies))
		if body, resp := doWith(t, http.DefaultClient, req); (string(body) != "null" && string(body) != "{}") || len(resp.Cookies()) != 0 {
			t.Errorf("/api/auth/session: %s %v", body, resp.Cookies())
		}
	}
}

// TestNextAuthJWTCookieLive: the rename is seen fresh through Auth.js's
// cookie over HTTP and over the WebSocket, and the live session ends when
// the token expires.
func TestNextAuthJWTCookieLive(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withAuthSecret)
	ann := queryStrings(t, s, `INSERT INTO users (name, email) VALUES ('Ann', 'ann-live@example.com') RETURNING id::text`)[0]
	made := authJS(t, []authJSOp{
		{Op: "encode", V: 5, Name: "authjs.session-token", Secret: authSecret, Token: map[string]any{"sub": ann, "name": "Stale"}, MaxAge: 3600},
		{Op: "encode", V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: map[string]any{"sub": ann, "name": "Stale"}, MaxAge: 6},
	})
	v5, shortV4 := cookieLine(made[0].Cookies), cookieLine(made[1].Cookies)
	subscribe := func(cookie string) *wsClient {
		sub, _, err := dialWS(t, s, "graphql-transport-ws", http.Header{"Cookie": {cookie}})
		if err != nil {
			t.Fatal(err)
		}
		sub.subscribe(`subscription { session { user { name } } }`, nil)
		if got := sub.data(); got != `{"session":{"user":{"name":"Ann"}}}` {
			t.Fatalf("first message %s", got)
		}
		return sub
	}
	long, short := subscribe(v5), subscribe(shortV4)
	// Renamed through GraphQL with one cookie; both sessions follow.
	assertJSON(t, s.gql(t, `mutation { updateUserProfile(name: "Ann Renamed") { name } }`, nil, map[string]string{"Cookie": v5}),
		`{"data":{"updateUserProfile":{"name":"Ann Renamed"}}}`)
	for _, sub := range []*wsClient{long, short} {
		if got := sub.data(); got != `{"session":{"user":{"name":"Ann Renamed"}}}` {
			t.Errorf("after the rename: %s", got)
		}
	}
	assertJSON(t, s.gql(t, `{ session { user { name } } }`, nil, map[string]string{"Cookie": shortV4}), `{"data":{"session":{"user":{"name":"Ann Renamed"}}}}`)
	// The short token expires: its subscriber is told at once.
	if got := short.data(); got != `{"session":null}` {
		t.Errorf("after the token expired: %s", got)
	}
	assertJSON(t, s.gql(t, `{ session { user { name } } }`, nil, map[string]string{"Cookie": shortV4}), `{"data":{"session":null}}`)
}

// TestNextAuthJWTCookieKeepsAnonymousPermissions: in a Hasura project, a
// JWT-strategy cookie that is no session (expired, another secret) leaves
// its visitor the unauthorized role's permissions; a valid one runs as
// user.
func TestNextAuthJWTCookieKeepsAnonymousPermissions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", map[string]string{"AUTH_SECRET": authSecret}))
	const alice = "11111111-1111-1111-1111-111111111111"
	s.exec(t, `INSERT INTO users (id, email, name) VALUES ('`+alice+`', 'alice@example.com', 'Alice')`)
	s.exec(t, `INSERT INTO posts (author_id, title, status) VALUES ('`+alice+`', 'Public', 'published'), ('`+alice+`', 'Mine', 'draft')`)
	made := authJS(t, []authJSOp{
		{Op: "encode", V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: map[string]any{"sub": alice}, MaxAge: 600},
		{Op: "encode", V: 4, Name: "next-auth.session-token", Secret: authSecret, Token: map[string]any{"sub": alice}, MaxAge: -1},
		{Op: "encode", V: 5, Name: "authjs.session-token", Secret: "another-apps-secret-entirely-0123", Token: map[string]any{"sub": alice}, MaxAge: 600},
	})
	q := `{"query": "{ posts(order_by: {title: asc}) { title } session { user { name } } }"}`
	assertJSON(t, s.post(t, q, map[string]string{"Cookie": cookieLine(made[0].Cookies)}),
		`{"data":{"posts":[{"title":"Mine"},{"title":"Public"}],"session":{"user":{"name":"Alice"}}}}`)
	for _, m := range made[1:] {
		assertJSON(t, s.post(t, q, map[string]string{"Cookie": cookieLine(m.Cookies)}), `{"data":{"posts":[{"title":"Public"}],"session":null}}`)
	}
}

// isoInstant is how Auth.js writes expires (Date.prototype.toISOString).
var isoInstant = regexp.MustCompile(`"expires":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"`)

// TestNextAuthClient drives Auth.js's own client, v4's next-auth/react and
// v5's, against the server alone, as the browser runs it: getSession
// signed out and in, a SessionProvider whose header shows the name, a
// rename through GraphQL, and update() — GET /api/auth/csrf, then POST
// /api/auth/session with the token — which brings the new name into the
// header; a POST with a forged token is refused. Neither client logs an
// error.
func TestNextAuthClient(t *testing.T) {
	t.Parallel()
	for _, v := range []int{4, 5} {
		t.Run(map[int]string{4: "next-auth v4", 5: "Auth.js v5"}[v], func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, withAuthSecret, func(c *config) {
				// An Auth.js v5 app names its own cookies: a visitor with
				// none is then answered null, as v5's client expects.
				if v == 5 {
					c.AuthJSCookies = []string{"authjs.session-token", "__Secure-authjs.session-token"}
				}
			})
			email := map[int]string{4: "ann4@example.com", 5: "ann5@example.com"}[v]
			ann := queryStrings(t, s, `INSERT INTO users (name, email) VALUES ('Ann', '`+email+`') RETURNING id::text`)[0]
			name := map[int]string{4: "next-auth.session-token", 5: "authjs.session-token"}[v]
			made := authJS(t, []authJSOp{{Op: "encode", V: v, Name: name, Secret: authSecret, Token: map[string]any{"sub": ann, "name": "Ann"}, MaxAge: 3600}})
			cookies, _ := json.Marshal(made[0].Cookies)
			out := nextAuth(t, "client.mjs", nil, "BASE="+s.URL, "FLAVOR="+map[int]string{4: "4", 5: "5"}[v], "COOKIES="+string(cookies), "NAME=Ann Renamed")
			got := isoInstant.ReplaceAll(out, []byte(`"expires":"<ISO>"`))
			session := func(name string) string {
				return `{"user":{"name":"` + name + `","email":"` + email + `","image":null},"expires":"<ISO>"}`
			}
			// v5's SessionProvider reads the session twice as it mounts.
			mount := map[int]string{4: `"GET /api/auth/session 200",`, 5: `"GET /api/auth/session 200","GET /api/auth/session 200",`}[v]
			// Each client reads its own empty answer as signed out, and
			// logs no error.
			want := `{"signedOut":null,"getSession":` + session("Ann") + `,
				"mounted":{"status":"authenticated","header":"Ann"},
				"rename":{"data":{"updateUserProfile":{"name":"Ann Renamed"}}},
				"beforeUpdate":"Ann",
				"update":` + session("Ann Renamed") + `,
				"afterUpdate":"Ann Renamed",
				"forged":{"status":400,"body":"` + map[int]string{4: "{}", 5: "null"}[v] + `"},
				"requests":["GET /api/auth/session 200","GET /api/auth/session 200",` + mount + `"POST /v1/graphql 200","GET /api/auth/csrf 200","POST /api/auth/session 200","POST /api/auth/session 400"],
				"errors":[]}`
			assertJSON(t, got, want)
		})
	}
}
