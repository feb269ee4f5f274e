package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/pglocal"
)

// wsClient speaks graphql-transport-ws (or the legacy graphql-ws) to /v1/graphql.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	legacy bool
}

// dialWS opens a WebSocket to s with header (cookies, Origin) and the protocol.
func dialWS(t *testing.T, s *testServer, protocol string, header http.Header) (*wsClient, *http.Response, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/v1/graphql",
		&websocket.DialOptions{Subprotocols: []string{protocol}, HTTPHeader: header})
	if err != nil {
		return nil, resp, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: t, conn: conn, legacy: protocol == "graphql-ws"}
	t.Cleanup(func() { _ = conn.Close(websocket.StatusNormalClosure, "") })
	return c, resp, nil
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := wsjson.Write(ctx, c.conn, v); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message that is not a keep-alive.
func (c *wsClient) next(timeout time.Duration) map[string]any {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var msg map[string]any
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			c.t.Fatalf("no message within %v: %v", timeout, err)
		}
		if msg["type"] != "ka" && msg["type"] != "ping" && msg["type"] != "pong" {
			return msg
		}
	}
}

// subscribe initialises the connection and starts query as subscription "1".
func (c *wsClient) subscribe(query string, initPayload map[string]any) {
	c.t.Helper()
	c.send(map[string]any{"type": "connection_init", "payload": initPayload})
	if msg := c.next(5 * time.Second); msg["type"] != "connection_ack" {
		c.t.Fatalf("connection_init answered with %v", msg)
	}
	typ := "subscribe"
	if c.legacy {
		typ = "start"
	}
	c.send(map[string]any{"id": "1", "type": typ, "payload": map[string]any{"query": query}})
}

// data returns the data of the next result message, as JSON.
func (c *wsClient) data() string {
	c.t.Helper()
	msg := c.next(10 * time.Second)
	want := "next"
	if c.legacy {
		want = "data"
	}
	if msg["type"] != want || msg["id"] != "1" {
		c.t.Fatalf("got %v, want a %q message", msg, want)
	}
	payload, _ := msg["payload"].(map[string]any)
	if payload["errors"] != nil {
		c.t.Fatalf("errors: %v", payload["errors"])
	}
	b, _ := json.Marshal(payload["data"])
	return string(b)
}

func cookieHeader(t *testing.T, b *browser, s *testServer) http.Header {
	t.Helper()
	u, _ := url.Parse(s.URL)
	h := http.Header{}
	for _, c := range b.client.Jar.Cookies(u) {
		h.Add("Cookie", c.String())
	}
	return h
}

const liveQuery = `subscription { session { user { name image } } }`

func TestLiveSessionFollowsEveryWriterAcrossInstances(t *testing.T) {
	t.Parallel()
	a := newTestServer(t)
	b := newTestServerOn(t, a.dbURL)
	tab := newBrowser(t)
	id := signUpAs(t, tab, a, "live@example.com", "Live")

	sub, _, err := dialWS(t, b, "graphql-transport-ws", cookieHeader(t, tab, a))
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe(liveQuery, nil)
	if got := sub.data(); got != `{"session":{"user":{"image":null,"name":"Live"}}}` {
		t.Fatalf("first message %s", got)
	}

	// Through A's session API.
	tab.gql(a, rename, map[string]any{"name": "Renamed on A"})
	if got := sub.data(); got != `{"session":{"user":{"image":null,"name":"Renamed on A"}}}` {
		t.Errorf("after updateUserProfile on A: %s", got)
	}
	// Through Hasura's API.
	a.admin(t, `mutation($id: uuid!) { update_users_by_pk(pk_columns: {id: $id}, _set: {image: "https://example.com/i.png"}) { id } }`,
		map[string]any{"id": id})
	if got := sub.data(); got != `{"session":{"user":{"image":"https://example.com/i.png","name":"Renamed on A"}}}` {
		t.Errorf("after update_users_by_pk: %s", got)
	}
	// A write that changes nothing is not pushed: the next message is the next real change.
	a.exec(t, `UPDATE users SET name = name`)
	a.exec(t, `UPDATE users SET name = 'Plain SQL'`)
	if got := sub.data(); got != `{"session":{"user":{"image":"https://example.com/i.png","name":"Plain SQL"}}}` {
		t.Errorf("after plain SQL: %s", got)
	}
	// Sign-out through A: B's subscriber learns at once.
	tab.gql(a, `mutation { signOut }`, nil)
	if got := sub.data(); got != `{"session":null}` {
		t.Errorf("after sign-out on A: %s", got)
	}
}

func TestLiveSessionEndsWithExpiryAndUserDeletion(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab, other := newBrowser(t), newBrowser(t)
	signUpAs(t, tab, s, "exp@example.com", "Expiring")
	signUpAs(t, other, s, "del@example.com", "Deleted")

	expiring, _, err := dialWS(t, s, "graphql-transport-ws", cookieHeader(t, tab, s))
	if err != nil {
		t.Fatal(err)
	}
	expiring.subscribe(`subscription { session { user { name } } }`, nil)
	expiring.data()
	s.exec(t, `UPDATE sessions SET expires = now() + interval '1 second' FROM users u WHERE u.id = "userId" AND u.email = 'exp@example.com'`)
	if got := expiring.data(); got != `{"session":null}` {
		t.Errorf("after expiry: %s", got)
	}

	deleted, _, err := dialWS(t, s, "graphql-transport-ws", cookieHeader(t, other, s))
	if err != nil {
		t.Fatal(err)
	}
	deleted.subscribe(`subscription { session { user { name } } }`, nil)
	deleted.data()
	s.admin(t, `mutation { delete_users(where: {email: {_eq: "del@example.com"}}) { affected_rows } }`, nil)
	if got := deleted.data(); got != `{"session":null}` {
		t.Errorf("after deleting the user: %s", got)
	}
}

func TestLiveSessionLegacyProtocolAndInitPayloadAuth(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	tab := newBrowser(t)
	id := signUpAs(t, tab, s, "legacy@example.com", "Legacy")

	legacy, _, err := dialWS(t, s, "graphql-ws", cookieHeader(t, tab, s))
	if err != nil {
		t.Fatal(err)
	}
	legacy.subscribe(`subscription { session { u: user { name } } }`, nil)
	if got := legacy.data(); got != `{"session":{"u":{"name":"Legacy"}}}` {
		t.Errorf("legacy protocol: %s", got)
	}

	// A server client authenticates in connection_init, as Hasura's clients
	// do: the admin posing as the user.
	server, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	server.subscribe(`subscription { session { user { email } } }`, map[string]any{"headers": map[string]any{
		"x-hasura-admin-secret": testAdminSecret, "x-hasura-role": "user", "x-hasura-user-id": id}})
	// No JWT expiry: the admin's posing has no session to follow.
	if got := server.data(); got != `{"session":null}` {
		t.Errorf("posing admin: %s", got)
	}
	wrong, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	wrong.send(map[string]any{"type": "connection_init", "payload": map[string]any{"headers": map[string]any{"x-hasura-admin-secret": "guess"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var msg map[string]any
	err = wsjson.Read(ctx, wrong.conn, &msg)
	if err == nil && msg["type"] == "connection_ack" {
		t.Errorf("a wrong admin secret in connection_init was accepted")
	}
}

func TestLiveSessionRefusesCrossOriginUpgrades(t *testing.T) {
	t.Parallel()
	s := newTestServer(t)
	evil := http.Header{"Origin": {"https://evil.example"}}
	if _, resp, err := dialWS(t, s, "graphql-transport-ws", evil); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin upgrade: %v, %v; want 403", resp, err)
	}
	allowed := newTestServerOn(t, s.dbURL, func(c *config) { c.AllowedOrigins = []string{"app.example"} })
	if _, _, err := dialWS(t, allowed, "graphql-transport-ws", http.Header{"Origin": {"https://app.example"}}); err != nil {
		t.Errorf("allowed origin refused: %v", err)
	}
	same := http.Header{"Origin": {s.URL}}
	if _, _, err := dialWS(t, s, "graphql-transport-ws", same); err != nil {
		t.Errorf("same-origin upgrade refused: %v", err)
	}
}

func TestLiveSessionSurvivesAPostgresRestart(t *testing.T) {
	t.Parallel()
	if os.Getenv("TEST_DATABASE_URL") != "" {
		t.Skip("needs a PostgreSQL it can restart")
	}
	dir, err := os.MkdirTemp("", "freshgraph-restart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	opts := pglocal.Options{Dir: dir, Settings: map[string]string{"fsync": "off"}}
	cluster, err := pglocal.Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Stop() })
	pool, err := database.Open(context.Background(), cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	if err := database.Migrate(context.Background(), pool, discardLogger(), nil); err != nil {
		t.Fatal(err)
	}
	pool.Close()
	s := newTestServerOn(t, cluster.URL())
	tab := newBrowser(t)
	signUpAs(t, tab, s, "restart@example.com", "Before")
	sub, _, err := dialWS(t, s, "graphql-transport-ws", cookieHeader(t, tab, s))
	if err != nil {
		t.Fatal(err)
	}
	sub.subscribe(liveQuery, nil)
	sub.data()
	// And a live query of the users table, by the live query hub.
	users := liveAs(t, s, "graphql-ws", "admin", "")
	users.start("u", `subscription { users { name } }`, nil)
	assertJSON(t, []byte(users.result("u")), `{"data":{"users":[{"name":"Before"}]}}`)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	if cluster, err = pglocal.Start(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	// A change made before the server is listening again would be lost as a
	// notification; the re-read after reconnecting still delivers it.
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := s.pool.Exec(context.Background(), `UPDATE users SET name = 'After restart'`)
		if err == nil {
			break
		}
		if time.Now().After(deadline) || errors.Is(err, context.Canceled) {
			t.Fatalf("the database did not come back: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := sub.data(); got != `{"session":{"user":{"image":null,"name":"After restart"}}}` {
		t.Errorf("after the restart: %s", got)
	}
	assertJSON(t, []byte(users.result("u")), `{"data":{"users":[{"name":"After restart"}]}}`)
	// And the listener works again for the next change.
	s.exec(t, `UPDATE users SET name = 'Later'`)
	if got := sub.data(); got != `{"session":{"user":{"image":null,"name":"Later"}}}` {
		t.Errorf("the next change after the restart: %s", got)
	}
	assertJSON(t, []byte(users.result("u")), `{"data":{"users":[{"name":"Later"}]}}`)
}

func TestWebsocketKeepAliveQueriesAndErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, func(c *config) { c.KeepAlive = 50 * time.Millisecond })
	tab := newBrowser(t)
	signUpAs(t, tab, s, "ws@example.com", "Sock")
	c, _, err := dialWS(t, s, "graphql-transport-ws", cookieHeader(t, tab, s))
	if err != nil {
		t.Fatal(err)
	}
	c.send(map[string]any{"type": "connection_init"})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var sawAck, sawPing bool
	for !sawAck || !sawPing {
		var msg map[string]any
		if err := wsjson.Read(ctx, c.conn, &msg); err != nil {
			t.Fatalf("ack %v, ping %v: %v", sawAck, sawPing, err)
		}
		sawAck = sawAck || msg["type"] == "connection_ack"
		sawPing = sawPing || msg["type"] == "ping"
	}
	// A query over the socket: one result, then complete.
	c.send(map[string]any{"id": "q", "type": "subscribe", "payload": map[string]any{"query": `{ session { user { name } } }`}})
	if msg := c.next(5 * time.Second); msg["type"] != "next" || msg["id"] != "q" {
		t.Fatalf("query result: %v", msg)
	} else if b, _ := json.Marshal(msg["payload"]); string(b) != `{"data":{"session":{"user":{"name":"Sock"}}}}` {
		t.Errorf("query payload %s", b)
	}
	if msg := c.next(5 * time.Second); msg["type"] != "complete" || msg["id"] != "q" {
		t.Errorf("after the query: %v", msg)
	}
	// An invalid operation gets graphql-transport-ws's error message.
	c.send(map[string]any{"id": "bad", "type": "subscribe", "payload": map[string]any{"query": `subscription { nope }`}})
	msg := c.next(5 * time.Second)
	if b, _ := json.Marshal(msg); msg["type"] != "error" || !strings.Contains(string(b), `field 'nope' not found in type: 'subscription_root'`) {
		t.Errorf("invalid subscription: %s", b)
	}
}
