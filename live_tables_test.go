package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/freshgraph/freshgraph/internal/pgtest"
)

const (
	alice = "11111111-1111-1111-1111-111111111111"
	bob   = "22222222-2222-2222-2222-222222222222"
)

// liveClient is a WebSocket client of several operations at once, in
// either protocol, whose messages are read raw. A goroutine reads them all
// (a read that times out would close the connection).
type liveClient struct {
	*wsClient
	messages chan json.RawMessage
	// pending are messages read while waiting for another operation's.
	pending []json.RawMessage
}

// liveAs connects to s in protocol as the role (with X-Hasura-User-Id
// user) that the admin secret poses as; role "" is the unauthorized role.
func liveAs(t *testing.T, s *testServer, protocol, role, user string) *liveClient {
	t.Helper()
	c, _, err := dialWS(t, s, protocol, nil)
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]any{}
	if role != "" {
		headers = map[string]any{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": role, "X-Hasura-User-Id": user}
	}
	c.send(map[string]any{"type": "connection_init", "payload": map[string]any{"headers": headers}})
	if msg := c.next(5 * time.Second); msg["type"] != "connection_ack" {
		t.Fatalf("connection_init answered with %v", msg)
	}
	lc := &liveClient{wsClient: c, messages: make(chan json.RawMessage, 1024)}
	go func() {
		defer close(lc.messages)
		for {
			var raw json.RawMessage
			if err := wsjson.Read(context.Background(), c.conn, &raw); err != nil {
				return
			}
			var m struct{ Type string }
			_ = json.Unmarshal(raw, &m)
			if m.Type != "ka" && m.Type != "ping" && m.Type != "pong" {
				lc.messages <- raw
			}
		}
	}()
	return lc
}

// start starts query, with vars, as operation id.
func (c *liveClient) start(id, query string, vars map[string]any) {
	c.t.Helper()
	typ := "subscribe"
	if c.legacy {
		typ = "start"
	}
	c.send(map[string]any{"id": id, "type": typ, "payload": map[string]any{"query": query, "variables": vars}})
}

// stop ends operation id.
func (c *liveClient) stop(id string) {
	c.t.Helper()
	typ := "complete"
	if c.legacy {
		typ = "stop"
	}
	c.send(map[string]any{"id": id, "type": typ})
}

// read returns the next message, or nil when none comes within timeout.
func (c *liveClient) read(timeout time.Duration) json.RawMessage {
	c.t.Helper()
	if len(c.pending) > 0 {
		m := c.pending[0]
		c.pending = c.pending[1:]
		return m
	}
	select {
	case m := <-c.messages:
		return m
	case <-time.After(timeout):
		return nil
	}
}

// payload returns the payload of operation id's next message of type
// typ ("next" for results, "data" in the legacy protocol).
func (c *liveClient) payload(id, typ string) string {
	c.t.Helper()
	if typ == "next" && c.legacy {
		typ = "data"
	}
	for i, m := range c.pending {
		if p, ok := c.matches(m, id, typ); ok {
			c.pending = append(c.pending[:i], c.pending[i+1:]...)
			return p
		}
	}
	timeout := time.After(10 * time.Second)
	for {
		select {
		case raw, ok := <-c.messages:
			if !ok {
				c.t.Fatalf("connection closed waiting for %q of operation %s (others: %s)", typ, id, c.pending)
			}
			if p, ok := c.matches(raw, id, typ); ok {
				return p
			}
			c.pending = append(c.pending, raw)
		case <-timeout:
			c.t.Fatalf("no %q message of operation %s (others: %s)", typ, id, c.pending)
		}
	}
}

func (c *liveClient) matches(raw json.RawMessage, id, typ string) (string, bool) {
	var m struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}
	_ = json.Unmarshal(raw, &m)
	return string(m.Payload), m.ID == id && m.Type == typ
}

// result returns operation id's next result's payload.
func (c *liveClient) result(id string) string { c.t.Helper(); return c.payload(id, "next") }

// quiet fails if any operation gets a message within d.
func (c *liveClient) quiet(d time.Duration) {
	c.t.Helper()
	if m := c.read(d); m != nil {
		c.t.Fatalf("unexpected message: %s", m)
	}
}

func examplePosts(t *testing.T, s *testServer) {
	t.Helper()
	s.exec(t, `INSERT INTO users (id, email, name) VALUES ($1, 'alice@example.com', 'Alice'), ($2, 'bob@example.com', 'Bob')`, alice, bob)
	s.exec(t, `INSERT INTO posts (author_id, title, status, likes, created_at) VALUES
		($1, 'Go', 'published', 3, '2024-01-01T00:00:00Z'), ($1, 'Draft', 'draft', 1, '2024-01-02T00:00:00Z'),
		($2, 'SQL', 'published', 5, '2024-01-03T00:00:00Z'), ($2, 'Bob draft', 'draft', 0, '2024-01-04T00:00:00Z')`, alice, bob)
}

// Every tracked table is live in subscription_root for the roles that
// read it: each subscriber gets its answer at once, and again after a
// write — by plain SQL here — only if its own answer changed, under its
// role's row filter and columns, in both protocols.
func TestLiveQueriesPushEachRolesAnswer(t *testing.T) {
	t.Parallel()
	captureModes(t, func(t *testing.T, env map[string]string) {
		s := newTestServer(t, withProject(t, "examples/hasura-project", env))
		examplePosts(t, s)
		for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
			t.Run(protocol, func(t *testing.T) {
				a := liveAs(t, s, protocol, "user", alice)
				b := liveAs(t, s, protocol, "user", bob)
				anon := liveAs(t, s, protocol, "", "")
				const list = `subscription { posts(order_by: {title: asc}) { title status } }`
				a.start("1", list, nil)
				b.start("1", list, nil)
				anon.start("1", `subscription { posts(order_by: {title: asc}) { title } }`, nil)
				assertJSON(t, []byte(a.result("1")), `{"data":{"posts":[{"title":"Draft","status":"draft"},{"title":"Go","status":"published"},{"title":"SQL","status":"published"}]}}`)
				assertJSON(t, []byte(b.result("1")), `{"data":{"posts":[{"title":"Bob draft","status":"draft"},{"title":"Go","status":"published"},{"title":"SQL","status":"published"}]}}`)
				assertJSON(t, []byte(anon.result("1")), `{"data":{"posts":[{"title":"Go"},{"title":"SQL"}]}}`)
				a.start("2", `subscription Count { posts_aggregate { aggregate { count } } }`, nil)
				assertJSON(t, []byte(a.result("2")), `{"data":{"posts_aggregate":{"aggregate":{"count":3}}}}`)
				a.start("3", `subscription One($t: String!) { one: posts(where: {title: {_eq: $t}}) { likes } }`, map[string]any{"t": "SQL"})
				assertJSON(t, []byte(a.result("3")), `{"data":{"one":[{"likes":5}]}}`)

				// Alice's new draft: hers alone to see.
				s.exec(t, `INSERT INTO posts (author_id, title) VALUES ($1, 'Alice 2')`, alice)
				assertJSON(t, []byte(a.result("1")), `{"data":{"posts":[{"title":"Alice 2","status":"draft"},{"title":"Draft","status":"draft"},{"title":"Go","status":"published"},{"title":"SQL","status":"published"}]}}`)
				assertJSON(t, []byte(a.result("2")), `{"data":{"posts_aggregate":{"aggregate":{"count":4}}}}`)
				b.quiet(300 * time.Millisecond)
				anon.quiet(50 * time.Millisecond)

				// Published: everyone's answer changes.
				s.exec(t, `UPDATE posts SET status = 'published' WHERE title = 'Alice 2'`)
				assertJSON(t, []byte(a.result("1")), `{"data":{"posts":[{"title":"Alice 2","status":"published"},{"title":"Draft","status":"draft"},{"title":"Go","status":"published"},{"title":"SQL","status":"published"}]}}`)
				assertJSON(t, []byte(b.result("1")), `{"data":{"posts":[{"title":"Alice 2","status":"published"},{"title":"Bob draft","status":"draft"},{"title":"Go","status":"published"},{"title":"SQL","status":"published"}]}}`)
				assertJSON(t, []byte(anon.result("1")), `{"data":{"posts":[{"title":"Alice 2"},{"title":"Go"},{"title":"SQL"}]}}`)
				a.quiet(200 * time.Millisecond) // the count is the same: not sent again

				// A write to a table the answer reads through a relationship.
				a.start("4", `subscription { posts(where: {title: {_eq: "Go"}}) { author { name } } }`, nil)
				assertJSON(t, []byte(a.result("4")), `{"data":{"posts":[{"author":{"name":"Alice"}}]}}`)
				s.exec(t, `UPDATE users SET name = 'Alice A.' WHERE id = $1`, alice)
				assertJSON(t, []byte(a.result("4")), `{"data":{"posts":[{"author":{"name":"Alice A."}}]}}`)
				s.exec(t, `UPDATE users SET name = 'Alice' WHERE id = $1`, alice)
				assertJSON(t, []byte(a.result("4")), `{"data":{"posts":[{"author":{"name":"Alice"}}]}}`)
				s.exec(t, `DELETE FROM posts WHERE title = 'Alice 2'`)
				for _, c := range []*liveClient{a, b, anon} {
					c.result("1")
				}
				a.result("2")
				for _, id := range []string{"1", "2", "3", "4"} {
					a.stop(id)
				}
				b.stop("1")
				anon.stop("1")
			})
		}
	})
}

// What Hasura answers for subscriptions it refuses.
func TestLiveQueriesRefusals(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", nil))
	admin := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}
	for _, c := range []struct{ query, want string }{
		{`subscription { posts { id } }`,
			`{"errors":[{"message":"subscriptions are not supported over HTTP, use websockets instead","extensions":{"code":"unexpected-payload","path":"$"}}]}`},
		{`subscription { posts { id } users { id } }`,
			`{"errors":[{"message":"subscriptions must select one top level field","extensions":{"code":"validation-failed","path":"$"}}]}`},
	} {
		body, _ := json.Marshal(map[string]any{"query": c.query})
		assertJSON(t, s.post(t, string(body), admin), c.want)
	}
	ws := liveAs(t, s, "graphql-transport-ws", "user", alice)
	for i, c := range []struct{ query, want string }{
		{`subscription { posts { id } users { id } }`,
			`[{"message":"subscriptions must select one top level field","extensions":{"code":"validation-failed","path":"$"}}]`},
		{`subscription { posts_stream(batch_size: 1, cursor: []) { id } }`,
			`[{"message":"one streaming column field is expected","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_stream.args"}}]`},
		{`subscription { posts_stream(batch_size: 1, cursor: {initial_value: {}}) { id } }`,
			`[{"message":"one streaming column field is expected","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_stream.args"}}]`},
		{`subscription { posts_stream(batch_size: 1, cursor: {initial_value: {likes: 1, title: "a"}}) { id } }`,
			`[{"message":"multiple column cursors are not supported yet","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_stream.args"}}]`},
		{`subscription { posts_stream(batch_size: 1, cursor: [{initial_value: {likes: 1}}, {initial_value: {likes: 2}}]) { id } }`,
			`[{"message":"multiple column cursors are not supported yet","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_stream.args"}}]`},
		{`subscription { posts_stream(batch_size: -1, cursor: {initial_value: {likes: 1}}) { id } }`,
			`[{"message":"expected a non-negative 32-bit integer for type \"Int\", but found an integer","extensions":{"code":"validation-failed","path":"$.selectionSet.posts_stream.args.batch_size"}}]`},
	} {
		id := fmt.Sprint(i)
		ws.start(id, c.query, nil)
		assertJSON(t, []byte(ws.payload(id, "error")), c.want)
	}
}

// A stream sends the rows after its cursor in cursor order, a batch at
// most per message, each row once, though cursor values tie across
// batches; nothing while nothing new is written.
func TestStreamsSendEveryRowOnce(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", nil))
	examplePosts(t, s)
	s.exec(t, `INSERT INTO posts (author_id, title, status, likes) SELECT $1, 'tie ' || i, 'published', 7 FROM generate_series(1, 5) i`, alice)
	for i, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(protocol, func(t *testing.T) {
			c := liveAs(t, s, protocol, "", "")
			c.start("1", `subscription { posts_stream(batch_size: 2, cursor: {initial_value: {likes: 0}}) { title likes } }`, nil)
			var got []string
			for len(got) < 7+i {
				var p struct {
					Data struct {
						Rows []struct {
							Title string
							Likes int
						} `json:"posts_stream"`
					}
				}
				if err := json.Unmarshal([]byte(c.result("1")), &p); err != nil {
					t.Fatal(err)
				}
				if n := len(p.Data.Rows); n == 0 || n > 2 {
					t.Fatalf("a batch of %d rows", n)
				}
				for _, r := range p.Data.Rows {
					got = append(got, fmt.Sprintf("%s:%d", r.Title, r.Likes))
				}
			}
			// Bob's draft (likes 0) is not after the cursor and not the
			// anonymous role's; the ties come in key order, whatever it is.
			if !strings.HasPrefix(strings.Join(got, ","), "Go:3,SQL:5,tie ") || len(got) != 7+i {
				t.Fatalf("streamed %v", got)
			}
			c.quiet(200 * time.Millisecond)
			s.exec(t, `INSERT INTO posts (author_id, title, status, likes) VALUES ($1, $2, 'published', $3)`, alice, protocol, 9+i)
			assertJSON(t, []byte(c.result("1")), fmt.Sprintf(`{"data":{"posts_stream":[{"title":%q,"likes":%d}]}}`, protocol, 9+i))
			c.quiet(200 * time.Millisecond)
			_ = c.conn.Close(websocket.StatusNormalClosure, "")
		})
	}
}

// Hasura skips rows of transactions that commit out of cursor order
// (graphql-engine #8632): a stream's cursor moves past a value a running
// transaction has already taken. Eight writers here take cursor values —
// an identity column's, and now() — then commit in another order (or roll
// back); each stream must send every committed row exactly once, none of
// the rolled back, in cursor order.
func TestStreamsUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	captureModes(t, func(t *testing.T, env map[string]string) {
		s := newTestServer(t, withProject(t, "examples/hasura-project", env))
		s.exec(t, `INSERT INTO users (id, email, name) VALUES ($1, 'alice@example.com', 'Alice')`, alice)
		ws := liveAs(t, s, "graphql-transport-ws", "admin", "")
		ws.start("ids", `subscription { reactions_stream(batch_size: 7, cursor: {initial_value: {id: 0}}) { id emoji } }`, nil)
		ws.start("times", `subscription { posts_stream(batch_size: 5, cursor: {initial_value: {created_at: "2000-01-01T00:00:00Z"}}) { title created_at } }`, nil)
		ws.quiet(200 * time.Millisecond)

		const writers, each = 8, 40
		committed := make(chan string, writers*each)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					name := fmt.Sprintf("w%d-%d", w, i)
					tx, err := s.pool.Begin(context.Background())
					if err != nil {
						t.Error(err)
						return
					}
					_, err1 := tx.Exec(context.Background(), `INSERT INTO posts (author_id, title) VALUES ($1, $2)`, alice, name)
					_, err2 := tx.Exec(context.Background(), `INSERT INTO reactions (emoji) VALUES ($1)`, name)
					time.Sleep(time.Duration(rand.IntN(3000)) * time.Microsecond)
					if err1 != nil || err2 != nil {
						t.Error(err1, err2)
					}
					if i%9 == 4 {
						_ = tx.Rollback(context.Background())
						continue
					}
					if err := tx.Commit(context.Background()); err != nil {
						t.Error(err)
						return
					}
					committed <- name
				}
			})
		}
		wg.Wait()
		close(committed)
		want := map[string]bool{}
		for name := range committed {
			want[name] = true
		}

		// Read both streams until each has every committed row.
		ids, times := map[string]bool{}, map[string]bool{}
		var lastID int64
		var lastTime string
		deadline := time.Now().Add(30 * time.Second)
		for (len(ids) < len(want) || len(times) < len(want)) && time.Now().Before(deadline) {
			raw := ws.read(time.Until(deadline))
			if raw == nil {
				break
			}
			var m struct {
				ID      string
				Type    string
				Payload struct {
					Data struct {
						Reactions []struct {
							ID    int64
							Emoji string
						} `json:"reactions_stream"`
						Posts []struct {
							Title     string
							CreatedAt string `json:"created_at"`
						} `json:"posts_stream"`
					}
					Errors any
				}
			}
			if err := json.Unmarshal(raw, &m); err != nil || m.Type != "next" || m.Payload.Errors != nil {
				t.Fatalf("unexpected message %s", raw)
			}
			for _, r := range m.Payload.Data.Reactions {
				if !want[r.Emoji] || ids[r.Emoji] || r.ID <= lastID {
					t.Fatalf("reactions_stream sent %s (committed: %v, sent before: %v, after id %d)", raw, want[r.Emoji], ids[r.Emoji], lastID)
				}
				ids[r.Emoji], lastID = true, r.ID
			}
			for _, p := range m.Payload.Data.Posts {
				if !want[p.Title] || times[p.Title] || p.CreatedAt < lastTime {
					t.Fatalf("posts_stream sent %s (committed: %v, sent before: %v, after %s)", raw, want[p.Title], times[p.Title], lastTime)
				}
				times[p.Title], lastTime = true, p.CreatedAt
			}
		}
		if len(ids) != len(want) || len(times) != len(want) {
			t.Fatalf("committed %d rows; the identity stream sent %d, the now() stream %d", len(want), len(ids), len(times))
		}
		ws.quiet(300 * time.Millisecond)
	})
}

// A live query that fails at once is refused as Hasura refuses it; one
// that fails later (here: an answer grown over the response size limit)
// gets the error as a result and goes on, while the other cohorts of its
// statement are answered as before.
func TestLiveQueryErrors(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", map[string]string{"RESPONSE_SIZE_LIMIT": "2KiB"}))
	s.exec(t, `INSERT INTO users (id, email, name) VALUES ($1, 'alice@example.com', 'Alice')`, alice)
	admin := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret}
	for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
		t.Run(protocol, func(t *testing.T) {
			s.exec(t, `DELETE FROM posts`)
			ws := liveAs(t, s, protocol, "admin", "")
			httpAnswer := s.post(t, `{"query":"query { posts(where: {likes: {_eq: \"many\"}}) { title } }"}`, admin)
			ws.start("bad", `subscription { posts(where: {likes: {_eq: "many"}}) { title } }`, nil)
			if ws.legacy {
				assertJSON(t, []byte(ws.payload("bad", "data")), string(httpAnswer))
				ws.payload("bad", "complete")
			} else {
				var errs struct{ Errors json.RawMessage }
				_ = json.Unmarshal(httpAnswer, &errs)
				assertJSON(t, []byte(ws.payload("bad", "error")), string(errs.Errors))
			}

			const like = `subscription ($p: String!) { posts(where: {title: {_like: $p}}, order_by: {title: asc}) { title body } }`
			ws.start("big", like, map[string]any{"p": "%"})
			ws.start("small", like, map[string]any{"p": "G%"})
			assertJSON(t, []byte(ws.result("big")), `{"data":{"posts":[]}}`)
			assertJSON(t, []byte(ws.result("small")), `{"data":{"posts":[]}}`)
			s.exec(t, `INSERT INTO posts (author_id, title, body) VALUES ($1, 'Go', ''), ($1, 'Long', repeat('x', 3000))`, alice)
			assertJSON(t, []byte(ws.result("small")), `{"data":{"posts":[{"title":"Go","body":""}]}}`)
			httpAnswer = s.post(t, `{"query":"query { posts(where: {title: {_like: \"%\"}}, order_by: {title: asc}) { title body } }"}`, admin)
			var errs struct{ Errors json.RawMessage }
			_ = json.Unmarshal(httpAnswer, &errs)
			assertJSON(t, []byte(ws.result("big")), `{"data":null,"errors":`+string(errs.Errors)+`}`)
			s.exec(t, `DELETE FROM posts WHERE title = 'Long'`)
			assertJSON(t, []byte(ws.result("big")), `{"data":{"posts":[{"title":"Go","body":""}]}}`)
			ws.quiet(200 * time.Millisecond) // small's answer is the same
		})
	}
}

// A write through one instance reaches the subscribers of another, and
// subscriptions count against WEBSOCKET_OPERATION_LIMIT.
func TestLiveQueriesAcrossInstances(t *testing.T) {
	t.Parallel()
	captureModes(t, func(t *testing.T, env map[string]string) {
		env["WEBSOCKET_OPERATION_LIMIT"] = "2"
		a := newTestServer(t, withProject(t, "examples/hasura-project", env))
		b := newTestServerOn(t, a.dbURL, withProject(t, "examples/hasura-project", env))
		examplePosts(t, a)
		ws := liveAs(t, a, "graphql-transport-ws", "user", bob)
		ws.start("1", `subscription { posts_by_pk_count: posts_aggregate(where: {author_id: {_eq: "`+alice+`"}}) { aggregate { count } } }`, nil)
		assertJSON(t, []byte(ws.result("1")), `{"data":{"posts_by_pk_count":{"aggregate":{"count":1}}}}`)
		ws.start("2", `subscription { users(where: {id: {_eq: "`+alice+`"}}) { name } }`, nil)
		ws.result("2")
		ws.start("3", `subscription { posts { id } }`, nil)
		assertJSON(t, []byte(ws.payload("3", "error")),
			`[{"message":"websocket_operation_limit of 2 reached: complete an operation before starting another","extensions":{"code":"bad-request","path":"$"}}]`)

		// Alice publishes her draft through instance B, by GraphQL.
		answer := b.post(t, `{"query":"mutation { update_posts(where: {title: {_eq: \"Draft\"}}, _set: {status: published}) { affected_rows } }"}`,
			map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": alice})
		assertJSON(t, answer, `{"data":{"update_posts":{"affected_rows":1}}}`)
		assertJSON(t, []byte(ws.result("1")), `{"data":{"posts_by_pk_count":{"aggregate":{"count":2}}}}`)
		ws.quiet(200 * time.Millisecond)
	})
}

// A select permission's query_root_fields and subscription_root_fields
// pick the root fields of each root type (absent: all; []: none), and
// custom_root_fields names the stream.
func TestRootFieldsOfASelectPermission(t *testing.T) {
	t.Parallel()
	dir := copyMetadata(t, map[string]string{"graphql_schema_introspection.yaml": "disabled_for_roles: []\n",
		"databases/default/tables/public_posts.yaml": `table: {name: posts, schema: public}
configuration:
  custom_root_fields:
    select_stream: {name: postsFeed, comment: not shown}
select_permissions:
  - role: anonymous
    permission: {columns: [id, title], filter: {status: {_eq: published}}, query_root_fields: [select], subscription_root_fields: [select_stream]}
  - role: user
    permission: {columns: [id, title], filter: {}, allow_aggregations: true, query_root_fields: [], subscription_root_fields: [select_aggregate, select_by_pk]}
`})
	s := newTestServer(t, func(c *config) {
		*c = testConfig(t, map[string]string{"HASURA_GRAPHQL_METADATA_DIR": dir, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleMigrations})
	})
	const roots = `{"query":"{ __schema { queryType { fields { name } } subscriptionType { fields { name description } } } }"}`
	postsFields := func(headers map[string]string) string {
		var got struct {
			Data struct {
				Schema struct {
					QueryType struct {
						Fields []struct{ Name, Description string }
					}
					SubscriptionType *struct {
						Fields []struct{ Name, Description string }
					}
				} `json:"__schema"`
			}
		}
		raw := s.post(t, roots, headers)
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range got.Data.Schema.QueryType.Fields {
			if strings.HasPrefix(f.Name, "posts") {
				out = append(out, "query."+f.Name)
			}
		}
		if st := got.Data.Schema.SubscriptionType; st != nil {
			for _, f := range st.Fields {
				if strings.HasPrefix(strings.ToLower(f.Name), "posts") {
					out = append(out, "subscription."+f.Name+": "+f.Description)
				}
			}
		}
		return strings.Join(out, "\n")
	}
	anonymous := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "anonymous"}
	if got, want := postsFields(anonymous), "query.posts\nsubscription.postsFeed: fetch data from the table in a streaming manner: \"posts\""; got != want {
		t.Errorf("anonymous:\n%s\nwant\n%s", got, want)
	}
	user := map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": alice}
	if got, want := postsFields(user), "subscription.posts_aggregate: fetch aggregated fields from the table: \"posts\"\nsubscription.posts_by_pk: fetch data from the table: \"posts\" using primary key columns"; got != want {
		t.Errorf("user:\n%s\nwant\n%s", got, want)
	}
	assertJSON(t, s.post(t, `{"query":"{ posts { id } }"}`, user),
		`{"errors":[{"message":"field 'posts' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.posts"}}]}`)

	// select_aggregate without allow_aggregations stops the start.
	bad := copyMetadata(t, map[string]string{"databases/default/tables/public_posts.yaml": `table: {name: posts, schema: public}
select_permissions:
  - role: user
    permission: {columns: [id], filter: {}, subscription_root_fields: [select_aggregate]}
`})
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "PORT": "0", "SESSION_SECRET": testSessionSecret,
		"HASURA_GRAPHQL_METADATA_DIR": bad, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleMigrations}
	err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	want := "HASURA_GRAPHQL_METADATA_DIR: " + filepath.Join(bad, "databases", "default", "tables", "public_posts.yaml") +
		`: select_permissions of role user: in permission for role "user": The "select_aggregate" root field can only be enabled in the query_root_fields or  the subscription_root_fields when "allow_aggregations" is set to true`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

// A write to rows of a live list's table re-runs only the cohorts whose
// answer showed one of the rows, or would show one now — not the group —
// however the rows move: in, out, a key changed; a bulk write re-runs all.
func TestLiveQueriesRerunOnlyTheCohortsAWriteTouches(t *testing.T) {
	t.Parallel()
	captureModes(t, func(t *testing.T, env map[string]string) {
		s := newTestServer(t, withProject(t, "examples/hasura-project", env))
		examplePosts(t, s)
		const carol = "33333333-3333-3333-3333-333333333333"
		s.exec(t, `INSERT INTO users (id, email, name) VALUES ($1, 'carol@example.com', 'Carol')`, carol)
		const drafts = `subscription { posts(where: {status: {_eq: draft}}, order_by: {title: asc}) { title likes } }`
		clients := map[string]*liveClient{}
		for name, id := range map[string]string{"alice": alice, "bob": bob, "carol": carol} {
			c := liveAs(t, s, "graphql-transport-ws", "user", id)
			c.start("1", drafts, nil)
			clients[name] = c
		}
		assertJSON(t, []byte(clients["alice"].result("1")), `{"data":{"posts":[{"title":"Draft","likes":1}]}}`)
		assertJSON(t, []byte(clients["bob"].result("1")), `{"data":{"posts":[{"title":"Bob draft","likes":0}]}}`)
		assertJSON(t, []byte(clients["carol"].result("1")), `{"data":{"posts":[]}}`)
		// cohortsRun is how many cohorts the group's last run had.
		cohortsRun := func() int {
			t.Helper()
			time.Sleep(100 * time.Millisecond)
			args := s.sql.lastArgs()
			if len(args) != 1 {
				t.Fatalf("the last statement's arguments: %v", args)
			}
			var cohorts []any
			if err := json.Unmarshal([]byte(args[0].(string)), &cohorts); err != nil {
				t.Fatalf("the last statement's arguments: %v", args)
			}
			return len(cohorts)
		}
		quiet := func(names ...string) {
			t.Helper()
			for _, n := range names {
				clients[n].quiet(50 * time.Millisecond)
			}
		}

		// The example's own inserts may reach the hub after the subscriptions
		// start (logical decoding delivers them a little later than a
		// trigger's notification): let their run pass first.
		time.Sleep(200 * time.Millisecond)
		s.exec(t, `UPDATE posts SET likes = 2 WHERE title = 'Draft'`) // in Alice's answer
		assertJSON(t, []byte(clients["alice"].result("1")), `{"data":{"posts":[{"title":"Draft","likes":2}]}}`)
		if n := cohortsRun(); n != 1 {
			t.Errorf("a write to Alice's draft ran %d cohorts", n)
		}
		quiet("bob", "carol")
		s.exec(t, `INSERT INTO posts (author_id, title) VALUES ($1, 'Carol 1')`, carol) // into Carol's
		assertJSON(t, []byte(clients["carol"].result("1")), `{"data":{"posts":[{"title":"Carol 1","likes":0}]}}`)
		if n := cohortsRun(); n != 1 {
			t.Errorf("Carol's new draft ran %d cohorts", n)
		}
		quiet("alice", "bob")
		s.exec(t, `UPDATE posts SET status = 'published' WHERE title = 'Bob draft'`) // out of Bob's
		assertJSON(t, []byte(clients["bob"].result("1")), `{"data":{"posts":[]}}`)
		quiet("alice", "carol")
		s.exec(t, `UPDATE posts SET id = gen_random_uuid(), likes = 5 WHERE title = 'Carol 1'`) // a new key
		assertJSON(t, []byte(clients["carol"].result("1")), `{"data":{"posts":[{"title":"Carol 1","likes":5}]}}`)
		quiet("alice", "bob")
		s.exec(t, `UPDATE posts SET author_id = $1 WHERE title = 'Draft'`, bob) // from Alice's to Bob's
		assertJSON(t, []byte(clients["alice"].result("1")), `{"data":{"posts":[]}}`)
		assertJSON(t, []byte(clients["bob"].result("1")), `{"data":{"posts":[{"title":"Draft","likes":2}]}}`)
		quiet("carol")
		// Past 100 rows a transaction is announced by the table alone.
		s.exec(t, `INSERT INTO posts (author_id, title, status) SELECT $1, 'bulk ' || i, 'published' FROM generate_series(1, 150) i`, alice)
		s.exec(t, `UPDATE posts SET likes = 9 WHERE title = 'Carol 1'`)
		assertJSON(t, []byte(clients["carol"].result("1")), `{"data":{"posts":[{"title":"Carol 1","likes":9}]}}`)
		quiet("alice", "bob")
		s.exec(t, `WITH bulk AS (UPDATE posts SET likes = likes + 1 WHERE title LIKE 'bulk %') UPDATE posts SET likes = 10 WHERE title = 'Draft'`)
		assertJSON(t, []byte(clients["bob"].result("1")), `{"data":{"posts":[{"title":"Draft","likes":10}]}}`)
		if n := cohortsRun(); n != 3 {
			t.Errorf("a bulk write ran %d cohorts, want every one", n)
		}
		quiet("alice", "carol")
	})
}

// A subscriber that stops reading is closed once 64 messages or 4 MiB wait
// for it, never buffered without end, and holds up no other subscriber.
func TestLiveQuerySubscriberThatStopsReading(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", map[string]string{
		"HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL": "1"}))
	examplePosts(t, s)
	s.exec(t, `UPDATE posts SET body = repeat('x', 4000000) WHERE title = 'Go'`)
	const big = `subscription { posts(where: {title: {_eq: "Go"}}) { likes body } }`
	slow, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	slow.send(map[string]any{"type": "connection_init", "payload": map[string]any{"headers": map[string]any{"X-Hasura-Admin-Secret": testAdminSecret}}})
	if msg := slow.next(5 * time.Second); msg["type"] != "connection_ack" {
		t.Fatalf("connection_init answered with %v", msg)
	}
	slow.send(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": big}})
	fast := liveAs(t, s, "graphql-transport-ws", "admin", "")
	fast.start("1", `subscription { posts(where: {title: {_eq: "Go"}}) { likes } }`, nil)
	assertJSON(t, []byte(fast.result("1")), `{"data":{"posts":[{"likes":3}]}}`)
	// slow reads nothing from here on. Its answers are 4 MB: a few fill
	// the sockets' buffers, and a second one waiting the server's queue.
	// The writes are spaced out so that each is an answer of its own (the
	// hub would fold writes that come faster than it runs the group into
	// one answer, the latest).
	const writes = 20
	for i := 1; i <= writes; i++ {
		s.exec(t, `UPDATE posts SET likes = $1 WHERE title = 'Go'`, 3+i)
		assertJSON(t, []byte(fast.result("1")), fmt.Sprintf(`{"data":{"posts":[{"likes":%d}]}}`, 3+i))
		time.Sleep(300 * time.Millisecond)
	}
	// What reached the slow client before it was cut, then the close.
	received := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		_, _, err := slow.conn.Read(ctx)
		cancel()
		if err != nil {
			// The close frame (policy violation) when the client's buffers
			// let it through; else the connection's end.
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("after %d messages the slow client's connection is still open; the server's log:\n%s", received, s.log.String()[max(0, len(s.log.String())-3000):])
			}
			break
		}
		received++
	}
	if received >= writes {
		t.Fatalf("the slow client was sent all %d answers", received)
	}
}

// A tracked view's writes cannot be captured: its live queries are polled
// every second, as Hasura polls, and the start's log says so.
func TestLiveQueriesOfAViewArePolled(t *testing.T) {
	t.Parallel()
	dir := projectWith(t, "CREATE VIEW public.published AS SELECT id, title, likes FROM public.posts WHERE status = 'published';\n",
		map[string]string{"public_published.yaml": "table: {name: published, schema: public}\n"})
	s := newTestServer(t, withProject(t, dir, nil))
	if !strings.Contains(s.log.String(), "their subscriptions are polled") || !strings.Contains(s.log.String(), "public.published") {
		t.Errorf("the log does not name the polled view:\n%s", s.log.String())
	}
	examplePosts(t, s)
	ws := liveAs(t, s, "graphql-ws", "admin", "")
	ws.start("1", `subscription { published(order_by: {title: asc}) { title likes } }`, nil)
	assertJSON(t, []byte(ws.result("1")), `{"data":{"published":[{"title":"Go","likes":3},{"title":"SQL","likes":5}]}}`)
	s.exec(t, `UPDATE posts SET likes = 4 WHERE title = 'Go'`)
	start := time.Now()
	assertJSON(t, []byte(ws.result("1")), `{"data":{"published":[{"title":"Go","likes":4},{"title":"SQL","likes":5}]}}`)
	if waited := time.Since(start); waited > 2*time.Second {
		t.Errorf("the view's change came after %v", waited)
	}
	ws.quiet(1500 * time.Millisecond) // polled, but the same answer is not sent again
}

// projectWith is a copy of examples/hasura-project with one more migration (after all of its own),
// up, and more tracked tables: metadata file name → its content.
func projectWith(t *testing.T, up string, tables map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("examples/hasura-project")); err != nil {
		t.Fatal(err)
	}
	migration := filepath.Join(dir, "migrations", "default", "1718999999999_test")
	if err := os.MkdirAll(migration, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{filepath.Join(migration, "up.sql"): up}
	tablesDir := filepath.Join(dir, "metadata", "databases", "default", "tables")
	list, err := os.ReadFile(filepath.Join(tablesDir, "tables.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range tables {
		files[filepath.Join(tablesDir, name)] = content
		list = append(list, "- \"!include "+name+"\"\n"...)
	}
	files[filepath.Join(tablesDir, "tables.yaml")] = string(list)
	for name, content := range files {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A stream that has more rows than its client reads goes at the client's
// pace: each batch waits until the client's last one is taken for
// writing, so a client that pauses while catching up on a backlog is sent
// every row once it reads again, not closed as too slow (the rows are
// large enough to fill the sockets' buffers while it pauses).
func TestStreamGoesAtItsClientsPace(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, "examples/hasura-project", nil))
	examplePosts(t, s)
	const rows = 500
	s.exec(t, `INSERT INTO posts (author_id, title, body, created_at)
		SELECT $1, 'Backlog ' || i, repeat('x', 20000), '2025-01-01'::timestamptz + make_interval(secs => i) FROM generate_series(1, $2) i`, alice, rows)
	c, _, err := dialWS(t, s, "graphql-transport-ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c.subscribe(`subscription { posts_stream(batch_size: 1, cursor: {initial_value: {created_at: "2024-12-31"}}) { title body } }`,
		map[string]any{"headers": map[string]any{"X-Hasura-Admin-Secret": testAdminSecret}})
	time.Sleep(4 * time.Second) // the client reads nothing meanwhile
	for got := 0; got < rows; {
		msg := c.next(15 * time.Second)
		if msg["type"] != "next" {
			t.Fatalf("after %d rows: %v", got, msg["type"])
		}
		got++
	}
}
