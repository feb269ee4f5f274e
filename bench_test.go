package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/benchload/statements"
	"github.com/freshgraph/freshgraph/internal/database"
)

// Load benchmarks: freshgraph's full HTTP stack (routing, cookie decryption,
// GraphQL parsing and validation, resolvers, Hasura-shaped JSON) against a
// bare net/http + pgx handler that runs the very same SQL and writes the same
// JSON, in the same run, on the same database. Rounds alternate between the
// two so that drift (other load, caches) hits both; each prints req/s, p50,
// p99 and the ratio of throughputs. Run with: make bench.

const (
	loadConcurrency = 8
	loadRequests    = 4000 // per round
	loadRounds      = 3    // per side, alternating; the median round is reported
)

type loadResult struct {
	elapsed   time.Duration
	latencies []time.Duration
}

func (r loadResult) rps() float64 { return float64(len(r.latencies)) / r.elapsed.Seconds() }

func (r loadResult) quantile(q float64) time.Duration {
	return r.latencies[int(q*float64(len(r.latencies)-1))]
}

// runLoad sends n requests from conc workers and checks every answer.
func runLoad(b *testing.B, client *http.Client, newRequest func() *http.Request, check func([]byte) bool, n, conc int) loadResult {
	b.Helper()
	latencies := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := client.Do(newRequest())
				if err != nil {
					failed.Store(err.Error())
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(t0)
				if !check(body) {
					failed.Store(string(body))
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if f := failed.Load(); f != nil {
		b.Fatalf("bad answer under load: %v", f)
	}
	slices.Sort(latencies)
	return loadResult{elapsed: elapsed, latencies: latencies}
}

func median(rs []loadResult) loadResult {
	slices.SortFunc(rs, func(a, b loadResult) int { return int(a.elapsed - b.elapsed) })
	return rs[len(rs)/2]
}

// compareLoad runs alternating rounds against freshgraph and the bare
// handler, reports metrics and prints a table.
func compareLoad(b *testing.B, name string, fg, bare func() *http.Request, check func([]byte) bool) {
	b.Helper()
	// The collector's target the server runs with (main sets it).
	defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: loadConcurrency}}
	// Warm up both: connections, prepared statements, parsed-query cache.
	runLoad(b, client, fg, check, 200, loadConcurrency)
	runLoad(b, client, bare, check, 200, loadConcurrency)
	var fgRounds, bareRounds []loadResult
	for range loadRounds {
		bareRounds = append(bareRounds, runLoad(b, client, bare, check, loadRequests, loadConcurrency))
		fgRounds = append(fgRounds, runLoad(b, client, fg, check, loadRequests, loadConcurrency))
	}
	f, r := median(fgRounds), median(bareRounds)
	ratio := f.rps() / r.rps()
	b.ReportMetric(f.rps(), "req/s")
	b.ReportMetric(float64(f.quantile(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(f.quantile(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(r.rps(), "bare-req/s")
	b.ReportMetric(ratio, "ratio")
	b.Logf("\n%-28s %10s %9s %9s\n%-28s %10.0f %9v %9v\n%-28s %10.0f %9v %9v\n%-28s %9.2fx (%d workers, median of %d rounds of %d requests)",
		name, "req/s", "p50", "p99",
		"  freshgraph", f.rps(), f.quantile(0.5).Round(time.Microsecond), f.quantile(0.99).Round(time.Microsecond),
		"  bare net/http + pgx", r.rps(), r.quantile(0.5).Round(time.Microsecond), r.quantile(0.99).Round(time.Microsecond),
		"  ratio freshgraph/bare", ratio, loadConcurrency, loadRounds, loadRequests)
}

// benchSetup starts freshgraph on a fresh database with one signed-up user,
// and a bare handler on the same database. It returns the server, the session
// cookie, the user's id and session token, and the bare server's URL and pool.
func benchSetup(b *testing.B) (s *testServer, cookie *http.Cookie, userID, token string, bare *pgxpool.Pool) {
	b.Helper()
	s = newTestServer(b)
	tab := newBrowser(b)
	userID = signUpAs(b, tab, s, "bench@example.com", "Bench User")
	cookie = tab.cookie(s)
	if err := s.pool.QueryRow(context.Background(), `SELECT "sessionToken" FROM sessions`).Scan(&token); err != nil {
		b.Fatal(err)
	}
	bare, err := database.Open(context.Background(), s.dbURL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(bare.Close)
	// Only the SQL the server sends is of interest from here on.
	s.sql.take()
	return s, cookie, userID, token, bare
}

func graphqlRequest(url, query string, vars map[string]any, cookie *http.Cookie) func() *http.Request {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.AddCookie(cookie)
		return req
	}
}

// BenchmarkSessionLoad: session with the cookie, next to the same statement
// through bare pgx (token from a query parameter: no cookie cryptography).
func BenchmarkSessionLoad(b *testing.B) {
	s, cookie, _, token, pool := benchSetup(b)
	fg := graphqlRequest(s.URL, statements.Session.GraphQL, nil, cookie)
	sql, args, at := capturedStatement(b, s, fg, token)
	// The statement returns the user's id, JSON and the expiry; the bare
	// handler writes the session object around them, as the server does.
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := slices.Clone(args)
		a[at] = r.URL.Query().Get("arg")
		var id string
		var user []byte
		var expires time.Time
		if err := pool.QueryRow(r.Context(), sql, a...).Scan(&id, &user, &expires); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"session": map[string]any{
			"user": json.RawMessage(user), "expires": expires}}})
	}))
	defer bare.Close()
	bareReq := func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, bare.URL+"?arg="+token, nil)
		return req
	}
	compareLoad(b, "session (cookie)", fg, bareReq, benchUserSeen)
}

// BenchmarkUsersByPkLoad: the seed's GetUser as the signed-in user (role
// user: the row filter is part of the statement).
func BenchmarkUsersByPkLoad(b *testing.B) {
	s, cookie, userID, token, pool := benchSetup(b)
	fg := graphqlRequest(s.URL, statements.UsersByPK.GraphQL, map[string]any{"userId": userID}, cookie)
	sql, args, at := capturedStatement(b, s, fg, token)
	compareLoad(b, "users_by_pk (cookie, role user)", fg, bareRequest(b, pool, sql, args, at, token), benchUserSeen)
}

func benchUserSeen(body []byte) bool { return strings.Contains(string(body), `"Bench User"`) }

// bareRequest serves bareJSONHandler for the benchmark and returns its request.
func bareRequest(b *testing.B, pool *pgxpool.Pool, sql string, args []any, at int, value string) func() *http.Request {
	bare := httptest.NewServer(bareJSONHandler(pool, sql, args, at))
	b.Cleanup(bare.Close)
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodGet, bare.URL+"?arg="+value, nil)
		return req
	}
}

// bareJSONHandler runs the engine's own statement, with its own arguments but
// the compared value taken from the "arg" query parameter, and writes the
// JSON: what a hand-written endpoint for the same query would at least do.
func bareJSONHandler(pool *pgxpool.Pool, sql string, args []any, valueAt int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := slices.Clone(args)
		a[valueAt] = r.URL.Query().Get("arg")
		var out []byte
		if err := pool.QueryRow(r.Context(), sql, a...).Scan(&out); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
}

// capturedStatement runs one request and returns its one statement, its
// arguments, and the position of value among them.
func capturedStatement(b *testing.B, s *testServer, req func() *http.Request, value string) (string, []any, int) {
	b.Helper()
	sql, args := statementOf(b, s, req)
	s.sql.stop()
	for i, a := range args {
		if a == value {
			return sql, args, i
		}
	}
	b.Fatalf("%q is not an argument of %s", value, sql)
	return "", nil, 0
}

// statementOf returns the one statement that answers req, and its
// arguments: the second request's, since the first of a session also
// records its use (and the first of a query makes its plan).
func statementOf(t testing.TB, s *testServer, req func() *http.Request) (string, []any) {
	t.Helper()
	doWith(t, s.Client(), req())
	s.sql.take()
	doWith(t, s.Client(), req())
	sqls, args := s.sql.take(), s.sql.lastArgs()
	if len(sqls) != 1 {
		t.Fatalf("%d statements, want 1: %q", len(sqls), sqls)
	}
	return sqls[0], args
}

// BenchmarkHasuraUsersWhereLoad: users(where: {email: {_eq: …}}) as admin,
// the adapter's getUserByEmail, next to its SQL through bare pgx.
func BenchmarkHasuraUsersWhereLoad(b *testing.B) {
	s, _, _, _, pool := benchSetup(b)
	const email = "bench@example.com"
	fg := adminRequest(s.URL, statements.UsersByEmail.GraphQL, map[string]any{"where": map[string]any{"email": map[string]any{"_eq": email}}})
	sql, args, at := capturedStatement(b, s, fg, email)
	compareLoad(b, "users(where: email) (admin)", fg, bareRequest(b, pool, sql, args, at, email), benchUserSeen)
}

// BenchmarkHasuraSessionsWithUserLoad: the adapter's getSessionAndUser,
// sessions(where: {sessionToken: {_eq: …}}) { … user { … } }.
func BenchmarkHasuraSessionsWithUserLoad(b *testing.B) {
	s, _, _, token, pool := benchSetup(b)
	fg := adminRequest(s.URL, statements.SessionsWithUser.GraphQL, map[string]any{"sessionToken": token})
	sql, args, at := capturedStatement(b, s, fg, token)
	compareLoad(b, "sessions(where: token) { user } (admin)", fg, bareRequest(b, pool, sql, args, at, token), benchUserSeen)
}

func adminRequest(url, query string, vars map[string]any) func() *http.Request {
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	return func() *http.Request {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/graphql", strings.NewReader(string(body)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Hasura-Admin-Secret", testAdminSecret)
		return req
	}
}

// BenchmarkHandler runs planned requests through the server's handler in
// process, without the network: the server's own CPU and allocations per
// request, which the load benchmarks show only among the kernel's and the
// client's.
func BenchmarkHandler(b *testing.B) {
	s, cookie, userID, _, _ := benchSetup(b)
	// The requests of the load benchmarks, sent to the handler itself.
	for _, bench := range []struct {
		name       string
		newRequest func() *http.Request
	}{
		{"session", graphqlRequest("", statements.Session.GraphQL, nil, cookie)},
		{"users_by_pk", adminRequest("", statements.UsersByPK.GraphQL, map[string]any{"userId": userID})},
	} {
		serve := func() {
			w := httptest.NewRecorder()
			s.Config.Handler.ServeHTTP(w, bench.newRequest())
			if !benchUserSeen(w.Body.Bytes()) {
				b.Fatalf("%s: %s", bench.name, w.Body)
			}
		}
		serve() // the plan is made
		b.Run(bench.name, func(b *testing.B) {
			defer debug.SetGCPercent(debug.SetGCPercent(gcPercent))
			b.ReportAllocs()
			b.SetParallelism(8) // the server busy, as under load
			cpu := processCPU()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					serve()
				}
			})
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the CPU time this process has used: PostgreSQL's is not in it.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
