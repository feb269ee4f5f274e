package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/session"
)

const activeSessions = `{ activeSessions { id createdAt lastSeenAt expires userAgent address current } }`

type device struct {
	ID, UserAgent, Address string
	CreatedAt, LastSeenAt  *time.Time
	Expires                time.Time
	Current                bool
}

// devicesOf is b's activeSessions on s.
func devicesOf(t *testing.T, b *browser, s *testServer) []device {
	t.Helper()
	got := b.gql(s, activeSessions, nil)
	var out struct {
		Data struct{ ActiveSessions []device }
	}
	if err := json.Unmarshal(got, &out); err != nil || out.Data.ActiveSessions == nil {
		t.Fatalf("activeSessions: %s", got)
	}
	return out.Data.ActiveSessions
}

// signInFrom signs b in as email from a client with userAgent.
func signInFrom(t *testing.T, b *browser, s *testServer, email, userAgent string) {
	t.Helper()
	signInWith(t, b, s, email, "correct horse battery", userAgent)
}

// signInWith signs b in as email with password from a client with userAgent.
func signInWith(t *testing.T, b *browser, s *testServer, email, password, userAgent string) {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": signIn, "variables": map[string]any{"email": email, "password": password}})
	got, _ := s.postWith(t, b.client, string(body), map[string]string{"User-Agent": userAgent})
	if !strings.Contains(string(got), `"signIn"`) || strings.Contains(string(got), "errors") {
		t.Fatalf("signIn: %s", got)
	}
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// A person sees the devices they are signed in on — each with an opaque id,
// when and from where it started, when it was last used, its expiry, and
// which one is asking — and ends one, or all the others, or all: each ended
// session's live subscription on the other instance gets null at once, the
// others stay live, and the ended cookies are dead wherever they are replayed.
func TestDevicesAreListedAndEnded(t *testing.T) {
	t.Parallel()
	a := newTestServer(t)
	b := newTestServerOn(t, a.dbURL)
	laptop, phone, tablet := newBrowser(t), newBrowser(t), newBrowser(t)
	signUpAs(t, laptop, a, "devices@example.com", "Dev")
	signInFrom(t, phone, a, "devices@example.com", "Phone/1.0")
	signInFrom(t, tablet, b, "devices@example.com", "Tablet/2.0")
	other := newBrowser(t)
	signUpAs(t, other, a, "someone-else@example.com", "Else")

	list := devicesOf(t, laptop, a)
	if len(list) != 3 {
		t.Fatalf("%d sessions listed, want 3: %+v", len(list), list)
	}
	if !list[0].Current || list[1].Current || list[2].Current {
		t.Errorf("the caller's own session is not first and alone current: %+v", list)
	}
	agents := map[string]string{}
	tokens := queryStrings(t, a, `SELECT "sessionToken" FROM sessions`)
	for _, d := range list {
		agents[d.ID] = d.UserAgent
		if !uuidPattern.MatchString(d.ID) {
			t.Errorf("id %q is not an opaque uuid", d.ID)
		}
		for _, token := range tokens {
			sum := sha256.Sum256([]byte(token))
			if d.ID == token || strings.Contains(d.ID, token) || d.ID == hex.EncodeToString(sum[:]) {
				t.Errorf("id %q is the token or derived from it", d.ID)
			}
		}
		if d.CreatedAt == nil || d.LastSeenAt == nil || time.Since(*d.CreatedAt) > time.Minute || d.LastSeenAt.Before(*d.CreatedAt) {
			t.Errorf("created %v, last seen %v", d.CreatedAt, d.LastSeenAt)
		}
		if time.Until(d.Expires) < 29*24*time.Hour {
			t.Errorf("expires %v", d.Expires)
		}
		if d.Address != "127.0.0.1" {
			t.Errorf("address %q", d.Address)
		}
	}
	phoneID, tabletID := idOf(t, list, "Phone/1.0"), idOf(t, list, "Tablet/2.0")
	if !strings.HasPrefix(list[0].UserAgent, "Go-http-client/") {
		t.Errorf("the laptop's user agent %q", list[0].UserAgent)
	}
	// Another user's list is theirs alone.
	if others := devicesOf(t, other, a); len(others) != 1 || !others[0].Current {
		t.Errorf("the other user's sessions: %+v", others)
	}

	phoneSub := liveOn(t, b, phone, a)
	tabletSub := liveOn(t, b, tablet, b)

	// One device revoked from another, through instance A.
	assertJSON(t, laptop.gql(a, `mutation($id: uuid!) { revokeSession(id: $id) }`, map[string]any{"id": phoneID}),
		`{"data":{"revokeSession":true}}`)
	if got := phoneSub.data(); got != `{"session":null}` {
		t.Errorf("the revoked phone's subscription on B: %s", got)
	}
	expectClosed(t, phoneSub, 4401)
	assertJSON(t, phone.gql(a, sessionQuery, nil), `{"data":{"session":null}}`)
	// Again, or another user's session: nothing to end.
	assertJSON(t, laptop.gql(a, `mutation($id: uuid!) { revokeSession(id: $id) }`, map[string]any{"id": phoneID}),
		`{"data":{"revokeSession":false}}`)
	otherID := devicesOf(t, other, a)[0].ID
	assertJSON(t, laptop.gql(a, `mutation($id: uuid!) { revokeSession(id: $id) }`, map[string]any{"id": otherID}),
		`{"data":{"revokeSession":false}}`)
	assertJSON(t, other.gql(a, sessionQuery, nil), `{"data":{"session":{"user":{"name":"Else","email":"someone-else@example.com","image":null}}}}`)
	// The tablet's subscription stayed live: its next message is the next change.
	laptop.gql(a, rename, map[string]any{"name": "Renamed"})
	if got := tabletSub.data(); got != `{"session":{"user":{"image":null,"name":"Renamed"}}}` {
		t.Errorf("the tablet's subscription after the rename: %s", got)
	}

	// Every other device: the laptop stays signed in, its cookie untouched.
	got, resp := laptop.gqlResp(a, `mutation { signOutEverywhere(keepCurrent: true) }`, nil)
	assertJSON(t, got, `{"data":{"signOutEverywhere":1}}`)
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("keepCurrent touched the cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if got := tabletSub.data(); got != `{"session":null}` {
		t.Errorf("the tablet's subscription after signOutEverywhere: %s", got)
	}
	expectClosed(t, tabletSub, 4401)
	assertJSON(t, laptop.gql(a, `mutation($id: uuid!) { revokeSession(id: $id) }`, map[string]any{"id": tabletID}),
		`{"data":{"revokeSession":false}}`)
	assertJSON(t, tablet.gql(b, sessionQuery, nil), `{"data":{"session":null}}`)
	assertJSON(t, laptop.gql(a, sessionQuery, nil), `{"data":{"session":{"user":{"name":"Renamed","email":"devices@example.com","image":null}}}}`)

	// Everywhere, the caller too: its cookie is cleared, and a copy of it is dead.
	signInFrom(t, phone, a, "devices@example.com", "Phone/1.0")
	laptopCookie := laptop.cookie(a).Value
	got, resp = phone.gqlResp(a, `mutation { signOutEverywhere }`, nil)
	assertJSON(t, got, `{"data":{"signOutEverywhere":2}}`)
	if c := responseCookie(resp); c == nil || c.MaxAge >= 0 {
		t.Errorf("the caller's cookie is not cleared: %q", resp.Header.Values("Set-Cookie"))
	}
	assertJSON(t, withCookie(t, a, laptopCookie, sessionQuery), `{"data":{"session":null}}`)
	assertJSON(t, phone.gql(a, sessionQuery, nil), `{"data":{"session":null}}`)
	assertJSON(t, other.gql(a, sessionQuery, nil), `{"data":{"session":{"user":{"name":"Else","email":"someone-else@example.com","image":null}}}}`)

	// Signed out, there is nothing to list or end.
	for _, query := range []string{activeSessions, `mutation { signOutEverywhere }`, `mutation { revokeSession(id: "` + otherID + `") }`} {
		if got := string(laptop.gql(a, query, nil)); !strings.Contains(got, `"message":"not signed in"`) || !strings.Contains(got, `"code":"access-denied"`) {
			t.Errorf("%s signed out: %s", query, got)
		}
	}
}

// expectClosed waits for the server to close c with code.
func expectClosed(t *testing.T, c *wsClient, code websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, msg, err := c.conn.Read(ctx)
		if err == nil {
			if !strings.Contains(string(msg), `"ka"`) && !strings.Contains(string(msg), `"ping"`) {
				t.Fatalf("a message after the session ended: %s", msg)
			}
			continue
		}
		if got := websocket.CloseStatus(err); got != code {
			t.Errorf("closed with %v (%v), want %v", got, err, code)
		}
		return
	}
}

// A session Auth.js wrote (no device row) is listed without the details
// freshgraph did not see, and gets its last use once it is used here.
func TestDevicesOfASessionAuthJSWrote(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	id := signUpAs(t, tab, s, "adapter-device@example.com", "Ada")
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES ('written-by-authjs', $1, now() + interval '1 day')`, id)
	list := devicesOf(t, tab, s)
	if len(list) != 2 || list[1].CreatedAt != nil || list[1].LastSeenAt != nil || list[1].UserAgent != "" || list[1].Current {
		t.Fatalf("the adapter's session: %+v", list)
	}
	cookies, err := session.NewCookies(testConfig(t).Session)
	if err != nil {
		t.Fatal(err)
	}
	value, err := cookies.EncodeCookie("written-by-authjs")
	if err != nil {
		t.Fatal(err)
	}
	assertJSON(t, withCookie(t, s, value, sessionQuery), `{"data":{"session":{"user":{"name":"Ada","email":"adapter-device@example.com","image":null}}}}`)
	list = devicesOf(t, tab, s)
	if list[1].LastSeenAt == nil || time.Since(*list[1].LastSeenAt) > time.Minute || list[1].CreatedAt != nil {
		t.Errorf("after its use: %+v", list[1])
	}
}

func idOf(t *testing.T, list []device, userAgent string) string {
	t.Helper()
	for _, d := range list {
		if d.UserAgent == userAgent {
			return d.ID
		}
	}
	t.Fatalf("no session from %q in %+v", userAgent, list)
	return ""
}

// liveOn subscribes to the session on s with b's cookie for cookieServer.
func liveOn(t *testing.T, s *testServer, b *browser, cookieServer *testServer) *wsClient {
	t.Helper()
	sub, _, err := dialWS(t, s, "graphql-transport-ws", cookieHeader(t, b, cookieServer))
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe(`subscription { session { user { name image } } }`, nil)
	if got := sub.data(); !strings.HasPrefix(got, `{"session":{"user":`) {
		t.Fatalf("first message %s", got)
	}
	return sub
}

func responseCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == session.CookieName {
			return c
		}
	}
	return nil
}

// queryStrings runs sql on s's database and returns its one text column.
func queryStrings(t *testing.T, s *testServer, sql string) []string {
	t.Helper()
	rows, err := s.pool.Query(t.Context(), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// A tracked table's root field may take a session API name: the start
// stops, naming both; SESSION_API_ROOT_FIELDS serves the session API's
// under another name, in queries, mutations, subscriptions and
// introspection alike.
func TestSessionAPIRootFieldsCanBeRenamed(t *testing.T) {
	t.Parallel()
	posts, err := os.ReadFile(filepath.Join(exampleMetadata, "databases", "default", "tables", "public_posts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := copyMetadata(t, map[string]string{"databases/default/tables/public_posts.yaml": strings.Replace(string(posts), "select: allPosts", "select: session", 1)})
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "PORT": "0", "SESSION_SECRET": testSessionSecret,
		"HASURA_GRAPHQL_METADATA_DIR": dir, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleMigrations}
	err = run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	want := "the root field session of schema.graphqls has the name of a root field of table public.posts: " +
		"serve the session API's under another name with SESSION_API_ROOT_FIELDS=session:<name>, or give the table's another with custom_root_fields in its metadata"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}

	for name, bad := range map[string]string{
		"session:2fast":                 `SESSION_API_ROOT_FIELDS: "2fast" is not a GraphQL name for session`,
		"sessions:me":                   "SESSION_API_ROOT_FIELDS: the session API has no root field sessions",
		"session:me,signIn:me":          "SESSION_API_ROOT_FIELDS: ",
		"session":                       `SESSION_API_ROOT_FIELDS: "session" is not name:new_name`,
		"session:me,session:freshgraph": "SESSION_API_ROOT_FIELDS: session is renamed twice",
	} {
		env := maps.Clone(env)
		env["SESSION_API_ROOT_FIELDS"] = name
		if err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("SESSION_API_ROOT_FIELDS=%s: %v, want %s", name, err, bad)
		}
	}

	base, _, stop := startOnDatabase(t, map[string]string{"HASURA_GRAPHQL_METADATA_DIR": dir, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleMigrations,
		"SESSION_API_ROOT_FIELDS": "session:me,signUp:register"})
	defer func() { _ = stop() }()
	s := &testServer{Server: &httptest.Server{URL: strings.TrimSuffix(base, "/")}}
	tab := newBrowser(t)
	got, _ := s.postWith(t, tab.client, `{"query":"mutation { register(email: \"renamed@example.com\", password: \"correct horse battery\", name: \"Ren\") { user { name } } }"}`, nil)
	assertJSON(t, got, `{"data":{"register":{"user":{"name":"Ren"}}}}`)
	assertJSON(t, tab.gql(s, `{ me { user { name } } session(limit: 1) { __typename } }`, nil),
		`{"data":{"me":{"user":{"name":"Ren"}},"session":[]}}`)
	for range 2 { // the second answered from its plan
		assertJSON(t, tab.gql(s, `{ me { user { name } } }`, nil), `{"data":{"me":{"user":{"name":"Ren"}}}}`)
	}
	fields := string(tab.gql(s, `{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }`, nil))
	for _, name := range []string{`"me"`, `"register"`, `"signIn"`} {
		if !strings.Contains(fields, name) {
			t.Errorf("introspection lacks %s: %s", name, fields)
		}
	}
	if strings.Contains(fields, `"signUp"`) {
		t.Errorf("introspection still has signUp: %s", fields)
	}
	sub, _, err := dialWS(t, s, "graphql-transport-ws", cookieHeader(t, tab, s))
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe(`subscription { me { user { name } } }`, nil)
	if got := sub.data(); got != `{"me":{"user":{"name":"Ren"}}}` {
		t.Errorf("the live session under its new name: %s", got)
	}
}

// SESSION_MAX_LIFETIME bounds a session from its sign-in, beside the
// sliding SESSION_MAX_AGE.
func TestSessionLifetimeBoundsTheExpiry(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *config) { c.Session.MaxLifetime = time.Hour })
	tab := newBrowser(t)
	got, _ := s.postWith(t, tab.client, `{"query":"mutation { signUp(email: \"lifetime@example.com\", password: \"correct horse battery\") { expires } }"}`, nil)
	var out struct {
		Data struct{ SignUp struct{ Expires time.Time } }
	}
	if err := json.Unmarshal(got, &out); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	if d := time.Until(out.Data.SignUp.Expires); d < 59*time.Minute || d > time.Hour {
		t.Errorf("signUp's session expires in %v, want the lifetime of 1h: %s", d, got)
	}
}

// The server deletes expired sessions every SESSION_CLEANUP_INTERVAL, and
// leaves the live ones.
func TestTheServerDeletesExpiredSessions(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *config) { c.SessionCleanupInterval = 20 * time.Millisecond })
	tab := newBrowser(t)
	id := signUpAs(t, tab, s, "cleanup-server@example.com", "Clean")
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES ('gone-1', $1, now() - interval '1 second'), ('gone-2', $1, now())`, id)
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := queryStrings(t, s, `SELECT "sessionToken" FROM sessions WHERE "sessionToken" LIKE 'gone-%'`)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("expired sessions still there: %v", left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	assertJSON(t, tab.gql(s, sessionQuery, nil), `{"data":{"session":{"user":{"name":"Clean","email":"cleanup-server@example.com","image":null}}}}`)
}

// An Auth.js app's own session cookie (database strategy: the value is
// the sessions row's token) is a session here, read fresh: in GraphQL, in
// activeSessions, at /api/auth/session in Auth.js's shape; signOut deletes
// the row, so the app is signed out too; freshgraph never sets, clears or
// slides that cookie; AUTHJS_SESSION_COOKIES=off turns it off.
func TestAuthJSSessionCookies(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	userID := queryStrings(t, s, `INSERT INTO users (name, email) VALUES ('Ada', 'ada-authjs@example.com') RETURNING id::text`)[0]
	expires := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES ('6c4e1f1a-authjs-token', $1, $2)`, userID, expires)
	get := func(path, cookie string) (string, *http.Response) {
		req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		body, resp := doWith(t, http.DefaultClient, req)
		return string(body), resp
	}
	post := func(cookie, query string) (string, *http.Response) {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/v1/graphql", strings.NewReader(`{"query":`+strconvQuote(query)+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Cookie", cookie)
		body, resp := doWith(t, http.DefaultClient, req)
		return string(body), resp
	}
	want := `{"user":{"name":"Ada","email":"ada-authjs@example.com","image":null},"expires":"` + expires.Format("2006-01-02T15:04:05.000Z") + `"}` + "\n"
	for _, name := range []string{"authjs.session-token", "__Secure-authjs.session-token", "next-auth.session-token", "__Secure-next-auth.session-token"} {
		cookie := name + "=6c4e1f1a-authjs-token"
		got, resp := post(cookie, `{ session { user { name } } activeSessions { current } }`)
		assertJSON(t, []byte(got), `{"data":{"session":{"user":{"name":"Ada"}},"activeSessions":[{"current":true}]}}`)
		if len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("%s: freshgraph set a cookie: %q", name, resp.Header.Values("Set-Cookie"))
		}
		got, resp = get("/api/auth/session", cookie)
		if got != want || resp.Header.Get("Content-Type") != "application/json" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
			t.Errorf("%s: /api/auth/session %s %q, want %s", name, got, resp.Header, want)
		}
	}
	// Fresh by construction: a rename shows at once.
	s.exec(t, `UPDATE users SET name = 'Ada L.' WHERE id = $1`, userID)
	if got, _ := get("/api/auth/session", "authjs.session-token=6c4e1f1a-authjs-token"); !strings.Contains(got, `"name":"Ada L."`) {
		t.Errorf("after a rename: %s", got)
	}
	// Auth.js slides its own sessions: freshgraph leaves the expiry alone.
	if got := queryStrings(t, s, `SELECT to_char(expires AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM sessions WHERE "sessionToken" = '6c4e1f1a-authjs-token'`); got[0] != expires.Format("2006-01-02T15:04:05.000Z") {
		t.Errorf("the Auth.js session's expiry moved to %s", got[0])
	}
	// Signed out, with or without a dead cookie: {} as next-auth v4
	// answers, or null as Auth.js v5 does, to the app whose cookie it is
	// (and v4's to one with no cookie: AUTHJS_SESSION_COOKIES names both).
	for cookie, want := range map[string]string{"": "{}", "authjs.session-token=no-such-token": "null",
		"next-auth.session-token=no-such-token": "{}", "__Secure-authjs.session-token=no-such-token": "null"} {
		if got, _ := get("/api/auth/session", cookie); got != want {
			t.Errorf("signed out, cookie %q: %s, want %s", cookie, got, want)
		}
	}
	// signOut through GraphQL ends the row: the Auth.js app is signed out too.
	got, resp := post("authjs.session-token=6c4e1f1a-authjs-token", `mutation { signOut }`)
	assertJSON(t, []byte(got), `{"data":{"signOut":true}}`)
	if len(resp.Header.Values("Set-Cookie")) != 0 {
		t.Errorf("signOut set a cookie: %q", resp.Header.Values("Set-Cookie"))
	}
	if n := queryStrings(t, s, `SELECT count(*)::text FROM sessions WHERE "sessionToken" = '6c4e1f1a-authjs-token'`); n[0] != "0" {
		t.Errorf("the Auth.js session row is still there")
	}

	// Off: the cookie is no credential at all.
	s.exec(t, `INSERT INTO sessions ("sessionToken", "userId", expires) VALUES ('off-token', $1, now() + interval '1 hour')`, userID)
	off := newTestServerOn(t, s.dbURL, func(c *config) { c.AuthJSCookies = nil })
	req, _ := http.NewRequest(http.MethodGet, off.URL+"/api/auth/session", nil)
	req.Header.Set("Cookie", "authjs.session-token=off-token")
	if body, _ := doWith(t, http.DefaultClient, req); string(body) != "null" {
		t.Errorf("AUTHJS_SESSION_COOKIES=off: %s", body)
	}
}

func strconvQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
