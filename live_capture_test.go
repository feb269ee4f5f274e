package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/pgtest"
)

// captureModes runs f once with each way writes reach the live query hub:
// logical decoding (if the test server has it) and triggers.
func captureModes(t *testing.T, f func(t *testing.T, env map[string]string)) {
	for _, mode := range []livequery.CaptureMode{livequery.CaptureDecoding, livequery.CaptureTriggers} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			if mode == livequery.CaptureDecoding {
				requireLogicalDecoding(t)
			}
			f(t, map[string]string{"LIVE_QUERIES_CAPTURE": string(mode)})
		})
	}
}

// requireLogicalDecoding skips t on a test server without wal_level=logical
// (one given by TEST_DATABASE_URL).
func requireLogicalDecoding(t *testing.T) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), pgtest.NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var level string
	if err := conn.QueryRow(t.Context(), "SHOW wal_level").Scan(&level); err != nil {
		t.Fatal(err)
	}
	if level != "logical" {
		t.Skipf("the test server's wal_level is %s", level)
	}
}

// How each table's writes are captured: by logical decoding, where the
// database allows it — each table with a primary key in the publication,
// whole (a column list would have to cover the replica identity), and no
// trigger on it — and by triggers for the rest (a table without a primary
// key); by triggers alone if asked. Each start puts the database in its
// mode, and each mode serves the same answers. A table whose primary key
// is dropped leaves the publication at the next start (PostgreSQL would
// refuse its updates).
func TestLiveQueriesCaptureByDecodingOrTriggers(t *testing.T) {
	t.Parallel()
	requireLogicalDecoding(t)
	dir := projectWith(t, `CREATE TABLE public.notes (body text NOT NULL);
ALTER TABLE public.reactions REPLICA IDENTITY FULL;
`, map[string]string{"public_notes.yaml": "table: {name: notes, schema: public}\n"})
	project := func(mode livequery.CaptureMode) func(*config) {
		return withProject(t, dir, map[string]string{"LIVE_QUERIES_CAPTURE": string(mode)})
	}
	state := func(s *testServer) string {
		t.Helper()
		var published, triggers string
		err := s.pool.QueryRow(t.Context(), `SELECT
			coalesce((SELECT string_agg(r.prrelid::regclass::text || CASE WHEN r.prattrs IS NULL THEN '' ELSE ' (some columns)' END, ', ' ORDER BY r.prrelid::regclass::text)
				FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE p.pubname = 'freshgraph_changes'), ''),
			coalesce((SELECT string_agg(tgrelid::regclass::text || ' ' || tgname, ', ' ORDER BY tgrelid::regclass::text, tgname) FROM pg_trigger WHERE tgname LIKE 'freshgraph_changes%'), '')`).
			Scan(&published, &triggers)
		if err != nil {
			t.Fatal(err)
		}
		return "published: " + published + "\ntriggers: " + triggers
	}
	// The Auth.js tables are served too.
	const published = `published: accounts, comments, post_status, posts, provider_type, reactions, sessions, users, verification_tokens`
	const decoded = published + "\ntriggers: notes freshgraph_changes"
	var triggers []string
	for _, table := range []string{"accounts", "comments", "notes", "post_status", "posts", "provider_type", "reactions", "sessions", "users", "verification_tokens"} {
		triggers = append(triggers, table+" freshgraph_changes")
		if table != "notes" {
			triggers = append(triggers, table+" freshgraph_changes_truncate")
		}
	}
	triggered := published + "\ntriggers: " + strings.Join(triggers, ", ")

	a := newTestServer(t, project(livequery.CaptureAuto))
	if got := state(a); got != decoded {
		t.Errorf("auto: got\n%s\nwant\n%s", got, decoded)
	}
	if !strings.Contains(a.log.String(), "writes are read by logical decoding") {
		t.Errorf("the log does not say how writes are captured:\n%s", a.log.String())
	}
	b := newTestServerOn(t, a.dbURL, project(livequery.CaptureTriggers))
	if got := state(b); got != triggered {
		t.Errorf("triggers: got\n%s\nwant\n%s", got, triggered)
	}
	c := newTestServerOn(t, a.dbURL, project(livequery.CaptureDecoding))
	if got := state(c); got != decoded {
		t.Errorf("decoding after triggers: got\n%s\nwant\n%s", got, decoded)
	}

	// Instances on one database capture alike (auto decides by the
	// database): the last start's mode is the database's.
	d := newTestServerOn(t, a.dbURL, project(livequery.CaptureTriggers))

	examplePosts(t, a)
	a.exec(t, `INSERT INTO comments (id, post_id, author_id, body) SELECT '44444444-4444-4444-4444-444444444444', id, author_id, 'Nice' FROM posts WHERE title = 'Go'`)
	const subscriptions = `subscription { notes { body } }|subscription { reactions(order_by: {id: asc}) { emoji } }|subscription { posts(where: {title: {_eq: "Go"}}) { likes } }`
	clients := map[string]*liveClient{"decoding": liveAs(t, a, "graphql-transport-ws", "admin", ""), "triggers": liveAs(t, d, "graphql-ws", "admin", "")}
	for _, ws := range clients {
		for i, q := range strings.Split(subscriptions, "|") {
			ws.start(fmt.Sprint(i), q, nil)
		}
		assertJSON(t, []byte(ws.result("0")), `{"data":{"notes":[]}}`)
		assertJSON(t, []byte(ws.result("1")), `{"data":{"reactions":[]}}`)
		assertJSON(t, []byte(ws.result("2")), `{"data":{"posts":[{"likes":3}]}}`)
	}
	a.exec(t, `INSERT INTO notes VALUES ('one')`)
	a.exec(t, `INSERT INTO reactions (comment_id, emoji) VALUES ('44444444-4444-4444-4444-444444444444', 'heart')`)
	a.exec(t, `UPDATE posts SET likes = 4 WHERE title = 'Go'`)
	for _, ws := range clients {
		assertJSON(t, []byte(ws.result("0")), `{"data":{"notes":[{"body":"one"}]}}`)
		assertJSON(t, []byte(ws.result("1")), `{"data":{"reactions":[{"emoji":"heart"}]}}`)
		assertJSON(t, []byte(ws.result("2")), `{"data":{"posts":[{"likes":4}]}}`)
	}
	// A table of REPLICA IDENTITY FULL: an update and a delete name the row.
	a.exec(t, `UPDATE reactions SET emoji = 'star'`)
	assertJSON(t, []byte(clients["decoding"].result("1")), `{"data":{"reactions":[{"emoji":"star"}]}}`)
	a.exec(t, `DELETE FROM reactions`)
	assertJSON(t, []byte(clients["decoding"].result("1")), `{"data":{"reactions":[]}}`)
	a.exec(t, `TRUNCATE notes`)
	assertJSON(t, []byte(clients["decoding"].result("0")), `{"data":{"notes":[]}}`)
	clients["decoding"].quiet(200 * time.Millisecond)

	a.exec(t, `ALTER TABLE reactions DROP CONSTRAINT reactions_pkey`)
	newTestServerOn(t, a.dbURL, project(livequery.CaptureAuto))
	a.exec(t, `UPDATE reactions SET emoji = 'moon'`)
	if got, want := state(a), strings.Replace(decoded, " reactions,", "", 1)+", reactions freshgraph_changes"; got != want { // a statement trigger
		t.Errorf("after the key's drop: got\n%s\nwant\n%s", got, want)
	}
}

// A role that may not replicate: LIVE_QUERIES_CAPTURE=decoding refuses to
// start, saying why; auto puts triggers on the tables, and the log says
// what logical decoding would need.
func TestLiveQueriesCaptureWithoutReplication(t *testing.T) {
	t.Parallel()
	requireLogicalDecoding(t)
	dbURL := pgtest.NewDatabase(t)
	conn, err := pgx.Connect(t.Context(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	role := fmt.Sprintf("freshgraph_norepl_%d", time.Now().UnixNano())
	for _, sql := range []string{
		"CREATE ROLE " + role + " LOGIN",
		"GRANT ALL ON ALL TABLES IN SCHEMA public TO " + role,
		"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO " + role,
		"GRANT CREATE ON SCHEMA public TO " + role,
	} {
		if _, err := conn.Exec(t.Context(), sql); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		ctx := context.Background()
		_, _ = conn.Exec(ctx, "DROP OWNED BY "+role)
		_, _ = conn.Exec(ctx, "DROP ROLE "+role)
	})
	roleURL := strings.Replace(dbURL, "postgres://postgres@", "postgres://"+role+"@", 1)
	env := map[string]string{"DATABASE_URL": roleURL, "PORT": "0", "SESSION_SECRET": testSessionSecret, "LIVE_QUERIES_CAPTURE": "decoding"}
	err = run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	want := "live queries: LIVE_QUERIES_CAPTURE=decoding, but logical decoding is not available: the role has not the REPLICATION attribute"
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}

	s := newTestServerOn(t, roleURL)
	if log := s.log.String(); !strings.Contains(log, "writes are announced by triggers, which cost writers at commit; logical decoding would not: the role has not the REPLICATION attribute") {
		t.Errorf("the log does not say why triggers capture the writes:\n%s", log)
	}
}

// The replication stream is lost (its sender ended, as when a replica
// fails over): meanwhile its tables' live queries are polled, so no write
// is missed; once it is back, writes are pushed again.
func TestLiveQueriesSurviveTheLossOfTheirStream(t *testing.T) {
	t.Parallel()
	requireLogicalDecoding(t)
	s, ws := followGoLikes(t)
	senders := func() int {
		var n int
		if err := s.pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND active`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := senders(); n != 1 {
		t.Fatalf("%d replication slots in use, want 1", n)
	}
	s.exec(t, `SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = current_database() AND active`)
	s.exec(t, `UPDATE posts SET likes = 4 WHERE title = 'Go'`)
	assertJSON(t, []byte(ws.result("1")), `{"data":{"posts":[{"likes":4}]}}`)
	deadline := time.Now().Add(10 * time.Second)
	for senders() != 1 || !strings.Contains(s.log.String(), "logical decoding stopped") {
		if time.Now().After(deadline) {
			t.Fatalf("the stream did not come back (log:\n%s)", s.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the run that follows the stream's return
	s.exec(t, `UPDATE posts SET likes = 5 WHERE title = 'Go'`)
	start := time.Now()
	assertJSON(t, []byte(ws.result("1")), `{"data":{"posts":[{"likes":5}]}}`)
	if waited := time.Since(start); waited > 500*time.Millisecond {
		t.Errorf("the write after the stream came back took %v: polled, not pushed", waited)
	}
}

// The stream carries a transaction once its commit is flushed — before a
// new snapshot sees it, while its commit waits for a synchronous standby.
// A live query re-run then would read the row as it was and miss the
// write for good; the hub waits until the transaction is visible.
func TestLiveQueriesWaitForTheWriteToBeVisible(t *testing.T) {
	requireLogicalDecoding(t)
	s, ws := followGoLikes(t)

	// A synchronous standby that never answers: a session that asks for
	// synchronous commit waits after its commit is flushed (the test
	// server's other sessions commit asynchronously, and do not wait).
	setStandby := func(names string) {
		s.exec(t, `ALTER SYSTEM SET synchronous_standby_names = '`+names+`'`)
		s.exec(t, `SELECT pg_reload_conf()`)
	}
	setStandby("freshgraph_test_none")
	t.Cleanup(func() { setStandby("") })
	writer, err := pgx.Connect(t.Context(), s.dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Close(context.Background())
	var pid int
	if err := writer.QueryRow(t.Context(), `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if _, err := writer.Exec(t.Context(), `SET synchronous_commit = on`); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := writer.Exec(context.Background(), `UPDATE posts SET likes = 9 WHERE title = 'Go'`)
		done <- err
	}()
	// Committed locally, decoded, not yet visible.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting bool
		if err := s.pool.QueryRow(t.Context(), `SELECT EXISTS (SELECT FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'SyncRep')`, pid).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer does not wait for the standby")
		}
		time.Sleep(10 * time.Millisecond)
	}
	ws.quiet(300 * time.Millisecond)
	s.exec(t, `SELECT pg_cancel_backend($1)`, pid) // the commit stands; the wait ends
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	assertJSON(t, []byte(ws.result("1")), `{"data":{"posts":[{"likes":9}]}}`)
}

// followGoLikes is a server decoding the example project's writes, and a
// subscriber to the likes of its post "Go".
func followGoLikes(t *testing.T) (*testServer, *liveClient) {
	t.Helper()
	s := newTestServer(t, withProject(t, "examples/hasura-project", map[string]string{"LIVE_QUERIES_CAPTURE": "decoding"}))
	examplePosts(t, s)
	ws := liveAs(t, s, "graphql-transport-ws", "admin", "")
	ws.start("1", `subscription { posts(where: {title: {_eq: "Go"}}) { likes } }`, nil)
	assertJSON(t, []byte(ws.result("1")), `{"data":{"posts":[{"likes":3}]}}`)
	return s, ws
}
