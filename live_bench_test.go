package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/freshgraph/freshgraph/internal/session"
)

// wsClientEnv names the spec file that turns this test binary into the load
// client of BenchmarkLiveSessions (TestWSClientProcess): the clients live in
// another process, so the server's memory is measured alone and neither
// process needs more than 10,000 sockets.
const wsClientEnv = "FRESHGRAPH_WS_CLIENT"

type wsClientSpec struct {
	URL     string   `json:"url"`
	Query   string   `json:"query"`
	Cookies []string `json:"cookies"`
}

// TestWSClientProcess opens one WebSocket per cookie, subscribes, prints
// "ready" once every first message has come, then "recv <i> <unix ns>" for
// every later message, until its standard input closes.
func TestWSClientProcess(t *testing.T) {
	path := os.Getenv(wsClientEnv)
	if path == "" {
		t.Skip("the load client of BenchmarkLiveSessions")
	}
	raiseFileLimit()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec wsClientSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex
	emit := func(line string) {
		outMu.Lock()
		defer outMu.Unlock()
		out.WriteString(line + "\n")
		out.Flush()
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	conns := make([]*websocket.Conn, len(spec.Cookies))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	var failed error
	var failMu sync.Mutex
	for i, cookie := range spec.Cookies {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			conn, err := subscribeOnce(ctx, spec, cookie)
			if err != nil {
				failMu.Lock()
				failed = fmt.Errorf("subscription %d: %w", i, err)
				failMu.Unlock()
				return
			}
			conns[i] = conn
		}()
	}
	wg.Wait()
	if failed != nil {
		t.Fatal(failed)
	}
	for i, conn := range conns {
		go func() {
			for {
				var msg map[string]any
				if err := wsjson.Read(ctx, conn, &msg); err != nil {
					return
				}
				if msg["type"] == "next" {
					emit(fmt.Sprintf("recv %d %d", i, time.Now().UnixNano()))
				}
			}
		}()
	}
	emit("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func subscribeOnce(ctx context.Context, spec wsClientSpec, cookie string) (*websocket.Conn, error) {
	dialCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(dialCtx, spec.URL, &websocket.DialOptions{
		Subprotocols: []string{"graphql-transport-ws"},
		HTTPHeader:   http.Header{"Cookie": {session.CookieName + "=" + cookie}},
	})
	if err != nil {
		return nil, err
	}
	for _, msg := range []map[string]any{
		{"type": "connection_init"},
		{"id": "1", "type": "subscribe", "payload": map[string]any{"query": spec.Query}},
	} {
		if err := wsjson.Write(dialCtx, conn, msg); err != nil {
			return nil, err
		}
	}
	for got := 0; got < 2; {
		var msg map[string]any
		if err := wsjson.Read(dialCtx, conn, &msg); err != nil {
			return nil, err
		}
		switch msg["type"] {
		case "connection_ack":
			got++
		case "next":
			got++
		case "error":
			return nil, fmt.Errorf("%v", msg)
		}
	}
	return conn, nil
}

// raiseFileLimit lifts the soft limit on open files to the hard limit.
func raiseFileLimit() {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
}

// liveMemory is the heap and stack memory in use, after collecting garbage.
func liveMemory() (heap, stack uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.StackInuse
}

func quantiles(d []time.Duration) (p50, p99, max time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100], d[len(d)-1]
}

// BenchmarkLiveSessions holds 10,000 session subscriptions on one instance
// (the clients in another process) and reports the server's memory per idle
// subscription; then the time from the commit of an update to its delivery,
// over 200 updates of single-subscriber users; then one update fanned out to
// the 1,000 subscribers of one user.
func BenchmarkLiveSessions(b *testing.B) {
	const (
		subscriptions = 10000
		fanout        = 1000
		updates       = 200
	)
	raiseFileLimit()
	s := newTestServer(b)
	// Users 1..9000 have one session each; user 0 has the last 1,000.
	s.exec(b, `INSERT INTO users (id, email, name)
		SELECT ('00000000-0000-4000-8000-' || lpad(i::text, 12, '0'))::uuid, 'u' || i || '@example.com', 'User ' || i
		FROM generate_series(0, $1) i`, subscriptions-fanout)
	s.exec(b, `INSERT INTO sessions ("sessionToken", "userId", expires)
		SELECT 'tok-' || i, ('00000000-0000-4000-8000-' || lpad((CASE WHEN i > $1 THEN 0 ELSE i END)::text, 12, '0'))::uuid, now() + interval '1 day'
		FROM generate_series(1, $2) i`, subscriptions-fanout, subscriptions)
	cookies, err := session.NewCookies(testConfig(b).Session)
	if err != nil {
		b.Fatal(err)
	}
	spec := wsClientSpec{URL: "ws" + strings.TrimPrefix(s.URL, "http") + "/v1/graphql",
		Query: `subscription { session { user { id name image } expires } }`}
	for i := 1; i <= subscriptions; i++ {
		c, err := cookies.EncodeCookie("tok-" + strconv.Itoa(i))
		if err != nil {
			b.Fatal(err)
		}
		spec.Cookies = append(spec.Cookies, c)
	}
	specPath := filepath.Join(b.TempDir(), "spec.json")
	raw, _ := json.Marshal(spec)
	if err := os.WriteFile(specPath, raw, 0o600); err != nil {
		b.Fatal(err)
	}

	heapBefore, stackBefore := liveMemory()
	goroutinesBefore := runtime.NumGoroutine()
	client := exec.Command(os.Args[0], "-test.run=^TestWSClientProcess$", "-test.count=1")
	client.Env = append(os.Environ(), wsClientEnv+"="+specPath)
	client.Stderr = os.Stderr
	stdin, _ := client.StdinPipe()
	stdout, _ := client.StdoutPipe()
	if err := client.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = client.Wait() }()
	recv := make(chan [2]int64, subscriptions)
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "ready":
				close(ready)
			case len(f) == 3 && f[0] == "recv":
				i, _ := strconv.ParseInt(f[1], 10, 64)
				ts, _ := strconv.ParseInt(f[2], 10, 64)
				recv <- [2]int64{i, ts}
			}
		}
	}()
	start := time.Now()
	select {
	case <-ready:
	case <-time.After(4 * time.Minute):
		b.Fatal("the clients did not all subscribe in time")
	}
	setup := time.Since(start)
	heapAfter, stackAfter := liveMemory()
	heapPer := float64(heapAfter-heapBefore) / subscriptions
	stackPer := float64(stackAfter-stackBefore) / subscriptions
	perSubscription := heapPer + stackPer
	if path := os.Getenv("FRESHGRAPH_LIVE_HEAPPROFILE"); path != "" {
		f, _ := os.Create(path)
		_ = pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
		g, _ := os.Create(path + ".goroutines")
		_ = pprof.Lookup("goroutine").WriteTo(g, 1)
		g.Close()
		b.Logf("goroutines: %d", runtime.NumGoroutine())
	}

	// One update at a time to a one-subscriber user: commit → delivery.
	var push []time.Duration
	for k := 1; k <= updates; k++ {
		user := k * 37 % (subscriptions - fanout)
		t0 := time.Now()
		s.exec(b, `UPDATE users SET name = $1 WHERE id = ('00000000-0000-4000-8000-' || lpad($2::text, 12, '0'))::uuid`,
			fmt.Sprintf("Renamed %d", k), strconv.Itoa(user))
		select {
		case r := <-recv:
			if int(r[0]) != user-1 {
				b.Fatalf("update of user %d reached subscription %d", user, r[0])
			}
			push = append(push, time.Duration(r[1]-t0.UnixNano()))
		case <-time.After(10 * time.Second):
			b.Fatalf("update %d was not delivered", k)
		}
	}
	// One update of the user with 1,000 subscribers.
	var fan []time.Duration
	t0 := time.Now()
	s.exec(b, `UPDATE users SET name = 'Fan-out' WHERE id = '00000000-0000-4000-8000-000000000000'`)
	for range fanout {
		select {
		case r := <-recv:
			fan = append(fan, time.Duration(r[1]-t0.UnixNano()))
		case <-time.After(30 * time.Second):
			b.Fatalf("fan-out: %d of %d delivered", len(fan), fanout)
		}
	}
	p50, p99, _ := quantiles(push)
	f50, f99, fmax := quantiles(fan)
	b.ReportMetric(perSubscription, "B/subscription")
	b.ReportMetric(float64(p50.Microseconds())/1000, "push-p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "push-p99-ms")
	b.ReportMetric(float64(f99.Microseconds())/1000, "fanout-p99-ms")
	b.Logf("\n%d session subscriptions on one instance (clients in another process), set up in %v\n"+
		"  server memory per idle subscription: %.1f KiB (heap %.1f KiB + goroutine stacks %.1f KiB, after GC; %.1f goroutines each)\n"+
		"  commit → delivery, %d single-subscriber updates: p50 %v, p99 %v\n"+
		"  one update fanned out to %d subscribers: p50 %v, p99 %v, last %v",
		subscriptions, setup.Round(time.Millisecond), perSubscription/1024, heapPer/1024, stackPer/1024,
		float64(runtime.NumGoroutine()-goroutinesBefore)/subscriptions,
		updates, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond),
		fanout, f50.Round(10*time.Microsecond), f99.Round(10*time.Microsecond), fmax.Round(10*time.Microsecond))
}
