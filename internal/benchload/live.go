package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/freshgraph/freshgraph/internal/livequery"
	"github.com/freshgraph/freshgraph/internal/pglocal"
)

// benchLive is make bench-live: freshgraph serving examples/hasura-project,
// in its own process, with N subscribers in G cohorts (users, whose rows the
// user role's select permission picks by X-Hasura-User-Id), and a writer
// that updates rows they read at W writes per second by plain SQL. It
// prints commit → delivery latency at the clients, server and PostgreSQL
// CPU per write, statements while idle and memory per subscriber, with the
// writes learnt by logical decoding and by triggers; then the same
// subscriptions polled every second as Hasura serves them; then what the
// change capture costs the table's writers (pgbench with triggers, with
// logical decoding and with neither). It prints figures and never fails
// on speed.
//
//	go run ./internal/benchload live [-subscribers 10000] [-groups 1000] [-writes 100] [-duration 20s] [-pgbench 6s] [-rounds 5]
func benchLive() {
	fs := flag.NewFlagSet("live", flag.ExitOnError)
	subscribers := fs.Int("subscribers", 10000, "subscriptions held, over -groups users")
	groups := fs.Int("groups", 1000, "users the subscribers are of: one cohort each")
	writes := fs.Int("writes", 100, "writes per second to rows the subscriptions read")
	duration := fs.Duration("duration", 20*time.Second, "length of each write phase")
	pgbenchTime := fs.Duration("pgbench", 6*time.Second, "length of each pgbench round")
	pgbenchRounds := fs.Int("rounds", 5, "pgbench rounds of each capture and client count (the median is printed)")
	captureOnly := fs.Bool("capture-only", false, "measure only what change capture costs the writers (pgbench), not the subscriptions")
	_ = fs.Parse(os.Args[2:])
	log.SetFlags(0)
	if *subscribers%*groups != 0 {
		log.Fatalf("-subscribers (%d) must be a multiple of -groups (%d)", *subscribers, *groups)
	}
	ctx := context.Background()
	binary, serverURL, cleanup := setUp(ctx, map[string]string{"max_connections": "200"})
	defer cleanup()
	project, err := filepath.Abs("examples/hasura-project")
	if err != nil {
		log.Fatal(err)
	}
	cfg := liveConfig{binary: binary, serverURL: serverURL, project: project,
		subscribers: *subscribers, groups: *groups, duration: *duration}
	if *captureOnly {
		if err := captureCost(ctx, cfg, *pgbenchTime, *pgbenchRounds); err != nil {
			log.Fatal(err)
		}
		return
	}

	push, err := measureLive(ctx, cfg, "decoding", *writes, map[string]string{"LIVE_QUERIES_CAPTURE": "decoding"})
	if err != nil {
		log.Fatal(err)
	}
	pushTriggers, err := measureLive(ctx, cfg, "triggers", *writes, map[string]string{"LIVE_QUERIES_CAPTURE": "triggers"})
	if err != nil {
		log.Fatal(err)
	}
	poll, err := measureLive(ctx, cfg, "poll", 1, map[string]string{"LIVE_QUERIES_POLL_INTERVAL": "1s"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("\nlive queries: %d subscribers in %d cohorts on examples/hasura-project (posts, role user)\n", cfg.subscribers, cfg.groups)
	fmt.Printf("  %-44s %14s %14s %14s\n", "", "pushed", "pushed", "polled (1 s)")
	fmt.Printf("  %-44s %14s %14s %14s\n", "writes learnt by", "decoding", "triggers", "")
	results := []*liveResult{push, pushTriggers, poll}
	row := func(name string, cell func(r *liveResult) string) {
		fmt.Printf("  %-44s", name)
		for _, r := range results {
			fmt.Printf(" %14s", cell(r))
		}
		fmt.Println()
	}
	row("writes per second", func(r *liveResult) string { return strconv.Itoa(r.writesPerSecond) })
	row("commit → delivery p50", func(r *liveResult) string { return ms(r.p50) })
	row("commit → delivery p99", func(r *liveResult) string { return ms(r.p99) })
	row("deliveries measured", func(r *liveResult) string { return strconv.Itoa(r.samples) })
	row("server CPU per write", func(r *liveResult) string { return ms(r.serverCPU / time.Duration(r.writes)) })
	row("PostgreSQL CPU per write", func(r *liveResult) string { return ms(r.pgCPU / time.Duration(r.writes)) })
	row("PostgreSQL CPU per second", func(r *liveResult) string { return ms(perSecond(r.pgCPU, r.seconds)) })
	row("statements per second while idle (+0.1)", func(r *liveResult) string { return fmt.Sprintf("%.1f", r.idleStatements) })
	row("  before any subscription (+0.1)", func(r *liveResult) string { return fmt.Sprintf("%.1f", r.idleWithout) })
	row("  the subscriptions' own", func(r *liveResult) string { return fmt.Sprintf("%.1f", r.idleStatements-r.idleWithout) })
	row("server memory per subscriber", func(r *liveResult) string { return fmt.Sprintf("%.1f KiB", r.bytesPerSubscriber/1024) })
	for _, r := range results[:2] {
		fmt.Printf("  PostgreSQL CPU per second polled at 1 write/s ÷ PostgreSQL CPU per write pushed at %d writes/s (%s): %.1fx\n",
			r.writesPerSecond, r.mode, float64(perSecond(poll.pgCPU, poll.seconds))/float64(r.pgCPU/time.Duration(r.writes)))
	}

	if err := captureCost(ctx, cfg, *pgbenchTime, *pgbenchRounds); err != nil {
		log.Fatal(err)
	}
}

type liveConfig struct {
	binary, serverURL, project string
	subscribers, groups        int
	duration                   time.Duration
}

type liveResult struct {
	mode                             string
	writesPerSecond, writes, samples int
	seconds                          float64
	p50, p99                         time.Duration
	serverCPU, pgCPU                 time.Duration
	idleStatements, idleWithout      float64 // with the subscriptions, and before any
	bytesPerSubscriber               float64
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func perSecond(d time.Duration, seconds float64) time.Duration {
	return time.Duration(float64(d) / seconds)
}

const livePostsPerUser = 5

// The subscription: the user's drafts, which the user role's select
// permission (published or the caller's own) narrows to the caller's.
const liveSubscription = `subscription { posts(where: {status: {_eq: draft}}, order_by: {created_at: asc}) { id likes } }`

func measureLive(ctx context.Context, cfg liveConfig, mode string, writesPerSecond int, env map[string]string) (*liveResult, error) {
	dbURL, drop, err := createDatabase(ctx, cfg.serverURL, "benchlive_"+mode)
	if err != nil {
		return nil, err
	}
	defer drop()
	serverEnv := map[string]string{
		"DATABASE_URL": dbURL, "SESSION_SECRET": sessionSecret, "HASURA_GRAPHQL_ADMIN_SECRET": adminSecret, "HOST": "127.0.0.1",
		"HASURA_GRAPHQL_METADATA_DIR": filepath.Join(cfg.project, "metadata"), "HASURA_GRAPHQL_MIGRATIONS_DIR": filepath.Join(cfg.project, "migrations"),
	}
	for k, v := range env {
		serverEnv[k] = v
	}
	fg, err := startServer(ctx, cfg.binary, nil, serverEnv)
	if err != nil {
		return nil, fmt.Errorf("freshgraph: %w", err)
	}
	defer fg.stop()
	log.Printf("%s: seeding %d users with %d drafts each …", mode, cfg.groups, livePostsPerUser)
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `INSERT INTO users (id, name, email)
		SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'User ' || i, 'user' || i || '@example.com'
		FROM generate_series(1, $1::int) i`, cfg.groups); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO posts (author_id, title, status, created_at)
		SELECT ('00000000-0000-4000-8000-' || lpad((1 + i % $1::int)::text, 12, '0'))::uuid, 'Post ' || i,
			CASE WHEN i < $1::int * $2::int THEN 'draft' ELSE 'published' END, now() - i * interval '1 second'
		FROM generate_series(0, $1::int * $2::int * 5 - 1) i`, cfg.groups, livePostsPerUser); err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
		return nil, err
	}
	_, _ = conn.Exec(ctx, "CHECKPOINT")
	var drafts [][]string // per user, their drafts' ids
	rows, _ := conn.Query(ctx, `SELECT array_agg(id::text) FROM posts WHERE status = 'draft' GROUP BY author_id ORDER BY author_id`)
	var ids []string
	if _, err := pgx.ForEachRow(rows, []any{&ids}, func() error { drafts = append(drafts, slices.Clone(ids)); return nil }); err != nil {
		return nil, err
	}

	// Idle before any subscription: what the rest of the server asks
	// (the example project's event trigger is looked for each second, as
	// Hasura does), so that the subscriptions' own share shows.
	r := &liveResult{mode: mode, writesPerSecond: writesPerSecond}
	if r.idleWithout, err = idleStatements(ctx, conn); err != nil {
		return nil, err
	}

	// Subscribe: a connection per user, its share of the subscribers on it.
	rssBefore := fg.rss()
	rec := &receipts{}
	perUser := cfg.subscribers / cfg.groups
	var conns []*liveConn
	defer func() {
		for _, c := range conns {
			_ = c.ws.Close()
		}
	}()
	log.Printf("%s: %d subscribers …", mode, cfg.subscribers)
	for u := 1; u <= cfg.groups; u++ {
		c, err := dialLive(fg.url, userID(u), rec)
		if err != nil {
			return nil, err
		}
		conns = append(conns, c)
		for i := range perUser {
			if err := c.subscribe(strconv.Itoa(i)); err != nil {
				return nil, err
			}
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for rec.first.Load() < int64(cfg.subscribers) {
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s: %d of %d subscribers had their first answer: %s", mode, rec.first.Load(), cfg.subscribers, fg.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.bytesPerSubscriber = float64(fg.rss()-rssBefore) / float64(cfg.subscribers)
	// Idle: what the server asks PostgreSQL while nothing changes.
	if r.idleStatements, err = idleStatements(ctx, conn); err != nil {
		return nil, err
	}

	// Writes: a user's draft at a time, its likes counted up; the commit
	// time of each (post, likes) against when each subscriber got it.
	log.Printf("%s: %d writes/s for %v …", mode, writesPerSecond, cfg.duration)
	commits := map[string]time.Time{}
	cpu0, pg0, start := fg.cpu(), postgresCPU(), time.Now()
	// Random gaps (uniform, the rate's mean): writes at a fixed phase
	// would meet a 1 s poll at the same point of its round every time.
	for time.Since(start) < cfg.duration {
		time.Sleep(time.Duration(rand.Float64() * 2 * float64(time.Second) / float64(writesPerSecond)))
		user := drafts[rand.IntN(len(drafts))]
		id := user[rand.IntN(len(user))]
		var likes int
		if err := conn.QueryRow(ctx, `UPDATE posts SET likes = likes + 1 WHERE id = $1 RETURNING likes`, id).Scan(&likes); err != nil {
			return nil, err
		}
		commits[id+"/"+strconv.Itoa(likes)] = time.Now()
		r.writes++
	}
	time.Sleep(2 * time.Second) // the last deliveries
	r.seconds = time.Since(start).Seconds()
	r.serverCPU, r.pgCPU = fg.cpu()-cpu0, postgresCPU()-pg0

	var latencies []time.Duration
	for _, got := range rec.all() {
		if committed, ok := commits[got.key]; ok {
			latencies = append(latencies, max(0, got.at.Sub(committed)))
		}
	}
	slices.Sort(latencies)
	r.samples = len(latencies)
	if len(latencies) > 0 {
		r.p50, r.p99 = latencies[len(latencies)/2], latencies[len(latencies)*99/100]
	}
	return r, nil
}

// idleStatements is the database's transactions a second over 10 s in
// which the benchmark does nothing. The first count's own transaction may
// be among them (statistics are reported late): at most 0.1 too many.
func idleStatements(ctx context.Context, conn *pgx.Conn) (float64, error) {
	// PostgreSQL's backends report their statistics when idle, some up to
	// 10 s late: what came before (seeding, the subscriptions' first
	// statements) must not count as idle.
	time.Sleep(11 * time.Second)
	idle := 10 * time.Second
	before, err := transactions(ctx, conn)
	if err != nil {
		return 0, err
	}
	time.Sleep(idle)
	after, err := transactions(ctx, conn)
	if err != nil {
		return 0, err
	}
	return float64(after-before) / idle.Seconds(), nil
}

// transactions is the database's committed and rolled-back transactions
// so far, as PostgreSQL's statistics have them.
func transactions(ctx context.Context, conn *pgx.Conn) (int64, error) {
	// Statistics are reported when a backend goes idle, at most every
	// second or so, and read from a snapshot taken once per transaction.
	time.Sleep(1100 * time.Millisecond)
	var n int64
	err := conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
	return n, err
}

// receipts are what the subscribers got: per message and row, the row's
// (id, likes) and when it came, once per subscriber and key.
type receipts struct {
	first atomic.Int64 // first answers received
	mu    sync.Mutex
	got   []receipt
}

type receipt struct {
	key string
	at  time.Time
}

func (r *receipts) all() []receipt {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.got
}

// liveConn is a graphql-transport-ws connection of one user.
type liveConn struct {
	ws   *websocket.Conn
	mu   sync.Mutex
	seen map[string]map[string]bool // operation → keys received
}

func dialLive(base, user string, rec *receipts) (*liveConn, error) {
	u := "ws" + strings.TrimPrefix(base, "http") + "/v1/graphql"
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial(u, http.Header{})
	if err != nil {
		return nil, err
	}
	c := &liveConn{ws: ws, seen: map[string]map[string]bool{}}
	init := map[string]any{"type": "connection_init", "payload": map[string]any{"headers": map[string]string{
		"X-Hasura-Admin-Secret": adminSecret, "X-Hasura-Role": "user", "X-Hasura-User-Id": user}}}
	if err := ws.WriteJSON(init); err != nil {
		return nil, err
	}
	var ack struct{ Type string }
	if err := ws.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		return nil, fmt.Errorf("connection_init: %v %v", ack, err)
	}
	go c.read(rec)
	return c, nil
}

func (c *liveConn) subscribe(id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ws.WriteJSON(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": liveSubscription}})
}

func (c *liveConn) read(rec *receipts) {
	for {
		_, raw, err := c.ws.ReadMessage()
		at := time.Now()
		if err != nil {
			return
		}
		var m struct {
			ID      string
			Type    string
			Payload struct {
				Data struct {
					Posts []struct {
						ID    string
						Likes int
					}
				}
			}
		}
		if json.Unmarshal(raw, &m) != nil || m.Type != "next" {
			if m.Type == "ping" {
				c.mu.Lock()
				_ = c.ws.WriteJSON(map[string]string{"type": "pong"})
				c.mu.Unlock()
			}
			continue
		}
		seen := c.seen[m.ID]
		if seen == nil {
			seen = map[string]bool{}
			c.seen[m.ID] = seen
			rec.first.Add(1)
		}
		var fresh []receipt
		for _, p := range m.Payload.Data.Posts {
			key := p.ID + "/" + strconv.Itoa(p.Likes)
			if !seen[key] {
				seen[key] = true
				fresh = append(fresh, receipt{key: key, at: at})
			}
		}
		rec.mu.Lock()
		rec.got = append(rec.got, fresh...)
		rec.mu.Unlock()
	}
}

// captureCost is the throughput of pgbench's writers on posts with no
// change capture, with the triggers and with logical decoding — a
// freshgraph instance following the writes in each, as in production — in
// rounds that alternate, at one and at four clients.
func captureCost(ctx context.Context, cfg liveConfig, round time.Duration, rounds int) error {
	dbURL, drop, err := createDatabase(ctx, cfg.serverURL, "benchlive_capture")
	if err != nil {
		return err
	}
	defer drop()
	env := map[string]string{
		"DATABASE_URL": dbURL, "SESSION_SECRET": sessionSecret, "HASURA_GRAPHQL_ADMIN_SECRET": adminSecret, "HOST": "127.0.0.1",
		"HASURA_GRAPHQL_METADATA_DIR": filepath.Join(cfg.project, "metadata"), "HASURA_GRAPHQL_MIGRATIONS_DIR": filepath.Join(cfg.project, "migrations"),
	}
	fg, err := startServer(ctx, cfg.binary, nil, env)
	if err != nil {
		return err
	}
	fg.stop() // it has migrated the database
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	for _, sql := range []string{
		`INSERT INTO users (id, name, email) VALUES ('00000000-0000-4000-8000-000000000001', 'Writer', 'writer@example.com')`,
		`INSERT INTO posts (author_id, title) SELECT '00000000-0000-4000-8000-000000000001', 'Post ' || i FROM generate_series(1, 10000) i`,
		`CREATE TABLE bench_posts AS SELECT row_number() OVER () AS n, id FROM posts`,
		`CREATE UNIQUE INDEX ON bench_posts (n)`,
		`VACUUM (ANALYZE)`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			return err
		}
	}
	script := filepath.Join(os.TempDir(), "benchlive-pgbench.sql")
	if err := os.WriteFile(script, []byte("\\set n random(1, 10000)\nUPDATE posts SET likes = likes + 1 WHERE id = (SELECT id FROM bench_posts WHERE n = :n);\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(script)
	binDir, err := pglocal.FindBinDir()
	if err != nil {
		return err
	}
	pgcfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	bench := func(clients int) (float64, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pgbench"), "-n", "-f", script, "-c", strconv.Itoa(clients), "-j", strconv.Itoa(clients),
			"-T", strconv.Itoa(int(round.Seconds())), "-h", pgcfg.Host, "-p", strconv.Itoa(int(pgcfg.Port)), "-U", pgcfg.User, pgcfg.Database)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+pgcfg.Password)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("pgbench: %v: %s", err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "tps = "); ok {
				return strconv.ParseFloat(strings.Fields(rest)[0], 64)
			}
		}
		return 0, fmt.Errorf("pgbench said: %s", out)
	}
	// Each round's mode is the database's: a start in decoding mode takes
	// the triggers off and publishes the table, which leaves it so for
	// pg_recvlogical and for the round without capture (a publication
	// without a slot costs nothing); a start in triggers mode puts them
	// back. pg_recvlogical, PostgreSQL's own client of a slot, following
	// the same publication into /dev/null, is the floor: what logical
	// decoding costs the writers whoever reads it.
	modes := []string{"decoding", "pg_recvlogical", "none", "triggers"}
	clientCounts := []int{1, 4}
	type sample struct{ tps, walsender, follower float64 } // CPU in µs per transaction
	samples := map[string]map[int][]sample{}
	for _, mode := range modes {
		samples[mode] = map[int][]sample{}
	}
	for range rounds {
		for _, mode := range modes {
			var follower func() time.Duration
			var stop func()
			switch mode {
			case "decoding", "triggers":
				env["LIVE_QUERIES_CAPTURE"] = mode
				fg, err := startServer(ctx, cfg.binary, nil, env)
				if err != nil {
					return err
				}
				follower, stop = fg.cpu, fg.stop
			case "pg_recvlogical":
				cpu, stopRecv, err := startRecvLogical(ctx, binDir, pgcfg)
				if err != nil {
					return err
				}
				follower, stop = cpu, stopRecv
			}
			for _, clients := range clientCounts {
				var follower0 time.Duration
				if follower != nil {
					follower0 = follower()
				}
				walsender0 := walsenderCPU()
				t, err := bench(clients)
				if err != nil {
					return err
				}
				writes := t * round.Seconds()
				perWrite := func(d time.Duration) float64 { return float64(d.Microseconds()) / writes }
				s := sample{tps: t, walsender: perWrite(walsenderCPU() - walsender0)}
				if follower != nil {
					s.follower = perWrite(follower() - follower0)
				}
				samples[mode][clients] = append(samples[mode][clients], s)
			}
			if stop != nil {
				stop()
			}
		}
	}
	field := func(mode string, clients int, f func(sample) float64) float64 {
		var xs []float64
		for _, s := range samples[mode][clients] {
			xs = append(xs, f(s))
		}
		return median(xs)
	}
	tps := func(s sample) float64 { return s.tps }
	// A cost is the median of the rounds' own (each round's modes ran
	// back to back), so that the machine's drift from round to round —
	// wide on a shared virtual machine — cancels out.
	cost := func(mode string, clients int) float64 {
		var ratios []float64
		for i, s := range samples[mode][clients] {
			ratios = append(ratios, s.tps/samples["none"][clients][i].tps)
		}
		return 100 * (1 - median(ratios))
	}
	fmt.Printf("\nchange capture's cost to writers: pgbench, UPDATE posts SET likes = likes + 1 by key, %v rounds, one follower of the writes;\n", round)
	fmt.Printf("  throughput: the median of %d rounds; cost: the median of the rounds' own\n", rounds)
	fmt.Printf("  %-8s %12s %22s %22s %22s\n", "clients", "no capture", "freshgraph, decoding", "pg_recvlogical", "freshgraph, triggers")
	for _, clients := range clientCounts {
		fmt.Printf("  %-8d %10.0f/s", clients, field("none", clients, tps))
		for _, mode := range []string{"decoding", "pg_recvlogical", "triggers"} {
			fmt.Printf(" %10.0f/s %7.1f%% ", field(mode, clients, tps), cost(mode, clients))
		}
		fmt.Println()
	}
	fmt.Printf("  CPU per write, median: the walsender's (PostgreSQL decoding the write) and the follower's (reading it)\n")
	for _, clients := range clientCounts {
		fmt.Printf("  %-8d %12s", clients, "")
		for _, mode := range []string{"decoding", "pg_recvlogical"} {
			fmt.Printf(" %8.0f µs + %5.0f µs", field(mode, clients, func(s sample) float64 { return s.walsender }), field(mode, clients, func(s sample) float64 { return s.follower }))
		}
		fmt.Println()
	}
	return nil
}

// startRecvLogical starts pg_recvlogical following the publication into
// /dev/null from a slot of its own, and returns its CPU time so far and a
// function that stops it and drops the slot.
func startRecvLogical(ctx context.Context, binDir string, pgcfg *pgx.ConnConfig) (func() time.Duration, func(), error) {
	const slot = "benchlive_recvlogical"
	args := func(more ...string) []string {
		return append([]string{"-h", pgcfg.Host, "-p", strconv.Itoa(int(pgcfg.Port)), "-U", pgcfg.User, "-d", pgcfg.Database, "--slot", slot, "-P", "pgoutput"}, more...)
	}
	env := append(os.Environ(), "PGPASSWORD="+pgcfg.Password)
	create := exec.CommandContext(ctx, filepath.Join(binDir, "pg_recvlogical"), args("--create-slot", "--if-not-exists")...)
	create.Env = env
	if out, err := create.CombinedOutput(); err != nil {
		return nil, nil, fmt.Errorf("pg_recvlogical --create-slot: %v: %s", err, out)
	}
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "pg_recvlogical"), args("--start", "-o", "proto_version=1", "-o", "publication_names="+livequery.Publication, "-F", "0", "-f", os.DevNull)...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	time.Sleep(time.Second) // streaming
	cpu := func() time.Duration { d, _ := processCPU(cmd.Process.Pid); return d }
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		drop := exec.CommandContext(ctx, filepath.Join(binDir, "pg_recvlogical"), args("--drop-slot")...)
		drop.Env = env
		if out, err := drop.CombinedOutput(); err != nil {
			log.Printf("pg_recvlogical --drop-slot: %v: %s", err, out)
		}
	}
	return cpu, stop, nil
}

// walsenderCPU is the CPU time so far of every walsender on the machine.
func walsenderCPU() time.Duration {
	return processesCPU(func(pid int, name string) bool {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		return name == "postgres" && bytes.HasPrefix(cmdline, []byte("postgres: walsender"))
	})
}
