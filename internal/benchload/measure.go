package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/freshgraph/freshgraph/internal/benchload/statements"
	"github.com/freshgraph/freshgraph/internal/session"
)

// The secrets of the benchmark's throwaway servers.
const (
	sessionSecret = "benchload-session-secret-0123456789abcdef"
	adminSecret   = "benchload-admin-secret"
)

// sizeResult is one table size's run.
type sizeResult struct {
	users     int
	scenarios []*scenarioResult
}

type scenarioResult struct {
	name             string
	freshgraph, bare side
}

// side is what one server did in a scenario: its median round, and its
// peak RSS over the scenario's rounds.
type side struct {
	rounds  []round
	peakRSS int64 // bytes
}

func (s side) median() round {
	r := slices.Clone(s.rounds)
	slices.SortFunc(r, func(a, b round) int { return int(a.Count) - int(b.Count) })
	return r[len(r)/2]
}

func (s side) rps() float64 { return s.median().rps() }

// ratios are freshgraph's throughput over the bare handler's in each round:
// the two legs of a round run back to back, so the machine's drift over
// the scenario's rounds falls on both.
func (r *scenarioResult) ratios() []float64 {
	var out []float64
	for i := range min(len(r.freshgraph.rounds), len(r.bare.rounds)) {
		out = append(out, r.freshgraph.rounds[i].rps()/r.bare.rounds[i].rps())
	}
	return out
}

// median is the middle of xs, or the mean of its two middle values.
func median(xs []float64) float64 {
	x := slices.Sorted(slices.Values(xs))
	if len(x) == 0 {
		return 0
	}
	if n := len(x); n%2 == 0 {
		return (x[n/2-1] + x[n/2]) / 2
	}
	return x[len(x)/2]
}

// round is one load generator run against one server.
type round struct {
	loadResult
	cpu time.Duration // the server's CPU time during the round
	// pgCPU is PostgreSQL's (every postgres process on the machine), which
	// shares the machine's cores: a heavier statement costs throughput there.
	pgCPU time.Duration
}

func (r round) rps() float64 { return float64(r.Count) / r.Seconds }

func (r round) cpuPerRequest() time.Duration { return r.perRequest(r.cpu) }

func (r round) pgCPUPerRequest() time.Duration { return r.perRequest(r.pgCPU) }

func (r round) perRequest(d time.Duration) time.Duration {
	if r.Count == 0 {
		return 0
	}
	return d / time.Duration(r.Count)
}

// measureSize runs every scenario on a database of cfg.users users.
func measureSize(ctx context.Context, cfg config) (*sizeResult, error) {
	dbName := fmt.Sprintf("benchload_%d", cfg.users)
	dbURL, drop, err := createDatabase(ctx, cfg.serverURL, dbName)
	if err != nil {
		return nil, err
	}
	defer drop()

	fg, err := startServer(ctx, cfg.binary, nil, map[string]string{
		"DATABASE_URL": dbURL, "SESSION_SECRET": sessionSecret, "HASURA_GRAPHQL_ADMIN_SECRET": adminSecret,
		"HOST": "127.0.0.1", "FRESHGRAPH_CPUPROFILE": cfg.profile,
	})
	if err != nil {
		return nil, fmt.Errorf("freshgraph: %w", err)
	}
	defer fg.stop()
	log.Printf("seeding %d users, %d of them signed in …", cfg.users, cfg.sessions)
	if err := seed(ctx, dbURL, cfg.users, cfg.sessions); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	var bare *server
	if cfg.against != "" {
		// Another instance on the same database: the same rows, the same
		// requests.
		bare, err = startServer(ctx, cfg.against, nil, map[string]string{
			"DATABASE_URL": dbURL, "SESSION_SECRET": sessionSecret, "HASURA_GRAPHQL_ADMIN_SECRET": adminSecret, "HOST": "127.0.0.1"})
	} else {
		bare, err = startServer(ctx, self, []string{"bare"}, map[string]string{"DATABASE_URL": dbURL, "SESSION_SECRET": sessionSecret, "ADMIN_SECRET": adminSecret,
			"BARE_CPUPROFILE": cfg.bareProfile})
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.otherName(), err)
	}
	defer bare.stop()

	cookies, err := session.NewCookies(session.Config{Secrets: []string{sessionSecret}, MaxAge: 30 * 24 * time.Hour, UpdateAge: 24 * time.Hour, Secure: true})
	if err != nil {
		return nil, err
	}
	var cookieValues, ids []string
	for i := 1; i <= cfg.sessions; i++ {
		c, err := cookies.EncodeCookie("tok-" + strconv.Itoa(i))
		if err != nil {
			return nil, err
		}
		cookieValues = append(cookieValues, session.CookieName+"="+c)
		ids = append(ids, userID(i))
	}
	sessionQuery, _ := json.Marshal(map[string]any{"query": statements.Session.GraphQL})
	var byPK []string
	for _, id := range ids {
		b, _ := json.Marshal(map[string]any{
			"query":     statements.UsersByPK.GraphQL,
			"variables": map[string]any{"userId": id}})
		byPK = append(byPK, string(b))
	}
	// The Auth.js adapter's getUserByEmail and getSessionAndUser, as it
	// sends them.
	var byEmail, sessionAndUser []string
	for i := 1; i <= cfg.sessions; i++ {
		b, _ := json.Marshal(map[string]any{
			"query":     statements.UsersByEmail.GraphQL,
			"variables": map[string]any{"where": map[string]any{"email": map[string]any{"_eq": "user" + strconv.Itoa(i) + "@example.com"}}}})
		byEmail = append(byEmail, string(b))
		b, _ = json.Marshal(map[string]any{
			"query":     statements.SessionsWithUser.GraphQL,
			"variables": map[string]any{"sessionToken": "tok-" + strconv.Itoa(i)}})
		sessionAndUser = append(sessionAndUser, string(b))
	}
	// The bare handler gets the very same requests: bodies, headers, cookies.
	jsonHeaders := map[string]string{"Content-Type": "application/json"}
	adminHeaders := map[string]string{"Content-Type": "application/json", "X-Hasura-Admin-Secret": adminSecret}
	graphQL := []string{fg.url + "/v1/graphql"}
	scenarios := []struct {
		name       string
		freshgraph loadSpec
		barePath   string
	}{
		{"session (cookie)", loadSpec{URLs: graphQL, Bodies: []string{string(sessionQuery)}, Cookies: cookieValues, Headers: jsonHeaders, Expect: `"User `}, "/session"},
		{"users_by_pk (admin)", loadSpec{URLs: graphQL, Bodies: byPK, Headers: adminHeaders, Expect: `"User `}, "/users_by_pk"},
		{"users(where: email) (admin)", loadSpec{URLs: graphQL, Bodies: byEmail, Headers: adminHeaders, Expect: `"User `}, "/users_where"},
		{"sessions(where: token) { user } (admin)", loadSpec{URLs: graphQL, Bodies: sessionAndUser, Headers: adminHeaders, Expect: `"User `}, "/sessions_with_user"},
	}
	result := &sizeResult{users: cfg.users}
	for _, sc := range scenarios {
		r := &scenarioResult{name: sc.name}
		bareSpec := sc.freshgraph
		bareSpec.URLs = []string{bare.url + sc.barePath}
		if cfg.against != "" {
			bareSpec.URLs = []string{bare.url + "/v1/graphql"}
		}
		for _, spec := range []*loadSpec{&sc.freshgraph, &bareSpec} {
			spec.Conns = cfg.conns
			spec.Duration = 2 * time.Second // warm-up: connections, caches, prepared statements
			if _, err := runLoad(ctx, self, *spec); err != nil {
				return nil, fmt.Errorf("%s warm-up: %w", sc.name, err)
			}
			spec.Duration = cfg.duration
		}
		for _, s := range []*server{fg, bare} {
			s.resetPeakRSS()
		}
		for range cfg.rounds {
			for _, leg := range []struct {
				s    *server
				spec loadSpec
				into *side
			}{{bare, bareSpec, &r.bare}, {fg, sc.freshgraph, &r.freshgraph}} {
				before, pgBefore := leg.s.cpu(), postgresCPU()
				res, err := runLoad(ctx, self, leg.spec)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", sc.name, err)
				}
				leg.into.rounds = append(leg.into.rounds, round{loadResult: res, cpu: leg.s.cpu() - before, pgCPU: postgresCPU() - pgBefore})
			}
		}
		r.freshgraph.peakRSS, r.bare.peakRSS = fg.peakRSS(), bare.peakRSS()
		printScenario(cfg, r)
		result.scenarios = append(result.scenarios, r)
	}
	return result, nil
}

// otherName and otherShort name the side freshgraph is compared with.
func (c config) otherName() string {
	if c.against != "" {
		return "freshgraph at " + c.againstRev
	}
	return "bare net/http + pgx"
}

func (c config) otherShort() string {
	if c.against != "" {
		return c.againstRev
	}
	return "bare"
}

func printScenario(cfg config, r *scenarioResult) {
	f, b := r.freshgraph.median(), r.bare.median()
	fmt.Printf("\n%s, %d users (%d connections, %d rounds of %s, alternating; median rounds)\n", r.name, cfg.users, cfg.conns, cfg.rounds, cfg.duration)
	fmt.Printf("  %-22s %9s %9s %9s %12s %10s %14s\n", "", "req/s", "p50", "p99", "CPU/request", "peak RSS", "PG CPU/request")
	for _, row := range []struct {
		name string
		r    round
		rss  int64
	}{{"freshgraph", f, r.freshgraph.peakRSS}, {cfg.otherName(), b, r.bare.peakRSS}} {
		fmt.Printf("  %-22s %9.0f %9s %9s %12s %7.1f MiB %14s\n", row.name, row.r.rps(),
			(time.Duration(row.r.P50us) * time.Microsecond).String(), (time.Duration(row.r.P99us) * time.Microsecond).String(),
			row.r.cpuPerRequest().Round(100*time.Nanosecond).String(), float64(row.rss)/(1<<20),
			row.r.pgCPUPerRequest().Round(100*time.Nanosecond).String())
	}
	ratios := r.ratios()
	fmt.Printf("  %-22s %8.2fx %8.2fx %8.2fx %11.2fx %9.2fx %13.2fx\n", "freshgraph / "+cfg.otherShort(), median(ratios),
		float64(f.P50us)/float64(b.P50us), float64(f.P99us)/float64(b.P99us),
		float64(f.cpuPerRequest())/float64(b.cpuPerRequest()), float64(r.freshgraph.peakRSS)/float64(r.bare.peakRSS),
		float64(f.pgCPUPerRequest())/float64(b.pgCPUPerRequest()))
	fmt.Printf("  %-22s", "req/s ratio by round")
	for _, x := range ratios {
		fmt.Printf(" %.2f", x)
	}
	fmt.Printf(" (the ratio above is their median)\n")
}

// createDatabase makes a fresh database on the server at serverURL and
// returns its URL and how to drop it.
func createDatabase(ctx context.Context, serverURL, name string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, serverURL)
	if err != nil {
		return "", nil, err
	}
	ident := pgx.Identifier{name}.Sanitize()
	drop := func() {
		_, _ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)")
		_ = conn.Close(context.Background())
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)"); err != nil {
		drop()
		return "", nil, err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+ident); err != nil {
		drop()
		return "", nil, err
	}
	cfg, err := pgx.ParseConfig(serverURL)
	if err != nil {
		drop()
		return "", nil, err
	}
	u := &url.URL{Scheme: "postgres", User: url.User(cfg.User), Path: "/" + name}
	if strings.HasPrefix(cfg.Host, "/") {
		u.RawQuery = url.Values{"host": {cfg.Host}, "port": {strconv.Itoa(int(cfg.Port))}}.Encode()
	} else {
		u.Host = net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
		if cfg.Password != "" {
			u.User = url.UserPassword(cfg.User, cfg.Password)
		}
	}
	return u.String(), drop, nil
}

// userID is the id of the i-th seeded user.
func userID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// seed writes n users, the first signedIn of them with a session "tok-<i>".
func seed(ctx context.Context, dbURL string, n, signedIn int) error {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `INSERT INTO users (id, name, email)
		SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'User ' || i, 'user' || i || '@example.com'
		FROM generate_series(1, $1::int) i`, n); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, `INSERT INTO sessions ("sessionToken", "userId", expires)
		SELECT 'tok-' || i, ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, now() + interval '7 days'
		FROM generate_series(1, $1::int) i`, signedIn); err != nil {
		return err
	}
	// Vacuumed and checkpointed now, so that neither autovacuum (due after
	// so many inserts) nor the checkpoint of the seed's writes lands in a
	// round. CHECKPOINT needs a superuser or pg_checkpoint: without, the
	// rounds take their chance.
	if _, err := conn.Exec(ctx, "VACUUM (ANALYZE)"); err != nil {
		return err
	}
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		log.Printf("no CHECKPOINT after seeding (%v): one may land in a round", err)
	}
	return nil
}

// server is a server process under measurement.
type server struct {
	cmd  *exec.Cmd
	url  string
	logs *os.File
}

// logTail is the end of what the server logged.
func (s *server) logTail() string {
	b, _ := os.ReadFile(s.logs.Name())
	return string(b[max(0, len(b)-4096):])
}

// startServer starts binary (with args) listening on a free port and
// waits until /healthz answers.
func startServer(ctx context.Context, binary string, args []string, env map[string]string) (*server, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// The server's log goes to a file, as a deployment's would: kept in this
	// process, it would cost CPU beside the servers (a line per request).
	logs, err := os.CreateTemp("", "benchload-server-*.log")
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		_ = logs.Close()
		return nil, err
	}
	s := &server{cmd: cmd, url: "http://127.0.0.1:" + strconv.Itoa(port), logs: logs}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(s.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.stop()
			return nil, fmt.Errorf("did not answer /healthz within a minute: %s", s.logTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = s.logs.Close()
	if os.Getenv("BENCHLOAD_KEEP_LOGS") == "" {
		_ = os.Remove(s.logs.Name())
	}
}

// cpu is the process's CPU time so far.
func (s *server) cpu() time.Duration {
	d, _ := processCPU(s.cmd.Process.Pid)
	return d
}

// processCPU is a process's CPU time so far, user and system
// (/proc/<pid>/stat, in clock ticks of 1/100 s, as Linux reports them to
// user space), and its command name.
func processCPU(pid int) (time.Duration, string) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, ""
	}
	open, end := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
	if open < 0 || end < open {
		return 0, ""
	}
	// The command name may hold spaces: fields count from after its ")".
	fields := strings.Fields(string(raw[end+1:]))
	if len(fields) < 13 {
		return 0, ""
	}
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, string(raw[open+1 : end])
}

// postgresCPU is the CPU time so far of every postgres process on the
// machine (a backend that exited in between is not counted; the servers'
// pools keep theirs).
func postgresCPU() time.Duration {
	return processesCPU(func(_ int, name string) bool { return name == "postgres" })
}

// processesCPU is the CPU time so far of every process on the machine
// that match picks (by its pid and command name).
func processesCPU(match func(pid int, name string) bool) time.Duration {
	entries, _ := os.ReadDir("/proc")
	var total time.Duration
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if d, name := processCPU(pid); match(pid, name) {
			total += d
		}
	}
	return total
}

// resetPeakRSS starts the process's peak RSS over from now (Linux's
// clear_refs 5), so that a scenario's peak is its own.
func (s *server) resetPeakRSS() {
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
}

// peakRSS is the process's peak resident set since the last reset.
func (s *server) peakRSS() int64 { return s.status("VmHWM") }

// rss is the process's resident memory now.
func (s *server) rss() int64 { return s.status("VmRSS") }

// status is a size in /proc/<pid>/status, in bytes.
func (s *server) status(field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// run runs a command, its output on the driver's.
func run(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}
