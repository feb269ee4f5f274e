package main

import (
	"fmt"
	"testing"
	"time"
)

// Hasura's own subscription tests, replayed in both protocols on their
// schema (testdata/hasura/projects/subscriptions):
// server/tests-py/test_subscriptions.py (TestSubscriptionLiveQueries,
// TestStreamingSubscription, with queries/subscriptions/live_queries/
// steps.yaml and streaming/steps.yaml) and server/lib/api-tests
// Test/Subscriptions/{RowUpdates,StreamingSubscriptions}Spec.hs. Hasura
// polls; freshgraph is pushed, so a step's message must come without a
// poll, and none may come where Hasura's tests expect none.
func TestHasuraSubscriptionFixtures(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{"graphql-ws", "graphql-transport-ws"} {
		t.Run(protocol, func(t *testing.T) {
			t.Parallel()
			s := newTestServer(t, withProject(t, "testdata/hasura/projects/subscriptions", nil))
			ws := liveAs(t, s, protocol, "admin", "")
			// A mutation over the socket: its answer, then complete.
			mutate := func(id, query string, vars map[string]any, want string) {
				t.Helper()
				ws.start(id, query, vars)
				assertJSON(t, []byte(ws.result(id)), want)
				ws.payload(id, "complete")
			}

			if ws.legacy {
				// Hasura's test client initialises again before each
				// operation, and Hasura acknowledges each time.
				ws.send(map[string]any{"type": "connection_init", "payload": map[string]any{"headers": map[string]any{"X-Hasura-Admin-Secret": testAdminSecret}}})
				ws.payload("", "connection_ack")
			}

			// test_live_queries: three live queries, an insert, an update
			// and a delete; each gets exactly its own answer per step.
			const live = `subscription ($result_limit: Int!) {
				hge_tests_live_query_%d: hge_tests_test_t2(order_by: {c1: asc}, limit: $result_limit) { c1, c2 } }`
			limitsOf := []int{1, 2, 2}
			for i, limit := range limitsOf {
				ws.start(fmt.Sprintf("live_%d", i), fmt.Sprintf(live, i), map[string]any{"result_limit": limit})
				assertJSON(t, []byte(ws.result(fmt.Sprintf("live_%d", i))), fmt.Sprintf(`{"data":{"hge_tests_live_query_%d":[]}}`, i))
			}
			const insert = `mutation insert_test_t2($objects: [hge_tests_test_t2_insert_input!]! ) {
				insert_hge_tests_test_t2(objects: $objects) { returning { c1 c2 } } }`
			steps := []struct {
				query string
				vars  map[string]any
				want  string
				rows  string
			}{
				{insert, map[string]any{"objects": []any{map[string]any{"c1": 1, "c2": "test1"}}},
					`{"data":{"insert_hge_tests_test_t2":{"returning":[{"c1":1,"c2":"test1"}]}}}`, `[{"c1":1,"c2":"test1"}]`},
				{`mutation update_test_t2 { update_hge_tests_test_t2(where: {c1: {_eq: 1}}, _set: {c2: "test11"}) { returning { c1 c2 } } }`, nil,
					`{"data":{"update_hge_tests_test_t2":{"returning":[{"c1":1,"c2":"test11"}]}}}`, `[{"c1":1,"c2":"test11"}]`},
				{`mutation delete_test_t2 { delete_hge_tests_test_t2(where: {c1: {_eq: 1}}) { affected_rows } }`, nil,
					`{"data":{"delete_hge_tests_test_t2":{"affected_rows":1}}}`, `[]`},
			}
			for n, step := range steps {
				mutate(fmt.Sprintf("mutation_%d", n), step.query, step.vars, step.want)
				for i := range limitsOf {
					assertJSON(t, []byte(ws.result(fmt.Sprintf("live_%d", i))), fmt.Sprintf(`{"data":{"hge_tests_live_query_%d":%s}}`, i, step.rows))
				}
			}
			for i := range limitsOf {
				ws.stop(fmt.Sprintf("live_%d", i))
			}
			ws.quiet(time.Second)

			// RowUpdatesSpec: cohorts of one statement each get their own row.
			s.exec(t, `INSERT INTO hge_tests.articles (id, title) VALUES (101, 'Alice'), (102, 'Bob')`)
			for _, id := range []int{3, 4} {
				ws.start(fmt.Sprint("eq", id), `subscription ($id: Int!) { hge_tests_articles(where: {id: {_eq: $id}}) { id title } }`, map[string]any{"id": id})
				assertJSON(t, []byte(ws.result(fmt.Sprint("eq", id))), `{"data":{"hge_tests_articles":[]}}`)
			}
			ws.start("alice", `subscription getAlice($name: String!) { hge_tests_articles(where: {title: {_eq: $name}}, order_by: {id: desc}) { id title } }`,
				map[string]any{"name": "Alice"})
			assertJSON(t, []byte(ws.result("alice")), `{"data":{"hge_tests_articles":[{"id":101,"title":"Alice"}]}}`)
			mutate("m3", `mutation { insert_hge_tests_articles(objects: [{id: 3, title: "A"}, {id: 4, title: "B"}, {id: 103, title: "Alice"}]) { affected_rows } }`, nil,
				`{"data":{"insert_hge_tests_articles":{"affected_rows":3}}}`)
			assertJSON(t, []byte(ws.result("eq3")), `{"data":{"hge_tests_articles":[{"id":3,"title":"A"}]}}`)
			assertJSON(t, []byte(ws.result("eq4")), `{"data":{"hge_tests_articles":[{"id":4,"title":"B"}]}}`)
			assertJSON(t, []byte(ws.result("alice")), `{"data":{"hge_tests_articles":[{"id":103,"title":"Alice"},{"id":101,"title":"Alice"}]}}`)
			for _, id := range []string{"eq3", "eq4", "alice"} {
				ws.stop(id)
			}
			s.exec(t, `DELETE FROM hge_tests.articles`)
			ws.quiet(300 * time.Millisecond)

			// test_basic_streaming_subscription_existing_static_data.
			for i := 1; i <= 10; i++ {
				s.exec(t, `INSERT INTO hge_tests.articles (id, title) VALUES ($1, $2)`, i, fmt.Sprint("Article title ", i))
			}
			ws.start("stream_1", `subscription ($batch_size: Int!) {
				hge_tests_stream_query: hge_tests_articles_stream(cursor: {initial_value: {id: 0}}, batch_size: $batch_size) { id title } }`,
				map[string]any{"batch_size": 2})
			for idx := range 5 {
				assertJSON(t, []byte(ws.result("stream_1")), fmt.Sprintf(`{"data":{"hge_tests_stream_query":[{"id":%d,"title":"Article title %d"},{"id":%d,"title":"Article title %d"}]}}`,
					2*idx+1, 2*idx+1, 2*idx+2, 2*idx+2))
			}
			ws.stop("stream_1")
			ws.quiet(500 * time.Millisecond)

			// test_streaming_subscriptions_with_concurrent_data_inserts: an
			// empty table sends nothing; each insert its rows.
			ws.start("stream_2", `subscription ($batch_size: Int!, $initial_created_at: timestamptz!) {
				hge_tests_stream_query: hge_tests_test_t2_stream(cursor: [{initial_value: {created_at: $initial_created_at}, ordering: ASC}], batch_size: $batch_size) { c1 c2 } }`,
				map[string]any{"batch_size": 2, "initial_created_at": "2020-01-01"})
			ws.quiet(300 * time.Millisecond)
			mutate("mutation_s1", insert, map[string]any{"objects": []any{map[string]any{"c1": 1, "c2": "test1"}}},
				`{"data":{"insert_hge_tests_test_t2":{"returning":[{"c1":1,"c2":"test1"}]}}}`)
			assertJSON(t, []byte(ws.result("stream_2")), `{"data":{"hge_tests_stream_query":[{"c1":1,"c2":"test1"}]}}`)
			mutate("mutation_s2", insert, map[string]any{"objects": []any{map[string]any{"c1": 2, "c2": "test2"}, map[string]any{"c1": 3, "c2": "test3"}}},
				`{"data":{"insert_hge_tests_test_t2":{"returning":[{"c1":2,"c2":"test2"},{"c1":3,"c2":"test3"}]}}}`)
			assertJSON(t, []byte(ws.result("stream_2")), `{"data":{"hge_tests_stream_query":[{"c1":2,"c2":"test2"},{"c1":3,"c2":"test3"}]}}`)
			ws.stop("stream_2")

			// test_streaming_subscription_with_custom_name_set_for_cursor.
			ws.start("stream_3", `subscription ($batch_size: Int!) {
				hge_tests_stream_query: hge_tests_users_stream(cursor: {initial_value: {userId: 0}}, batch_size: $batch_size) { userId name } }`,
				map[string]any{"batch_size": 1})
			assertJSON(t, []byte(ws.result("stream_3")), `{"data":{"hge_tests_stream_query":[{"userId":1,"name":"Name 1"}]}}`)
			assertJSON(t, []byte(ws.result("stream_3")), `{"data":{"hge_tests_stream_query":[{"userId":2,"name":"Name 2"}]}}`)
			ws.stop("stream_3")
			ws.quiet(500 * time.Millisecond)
		})
	}
}
