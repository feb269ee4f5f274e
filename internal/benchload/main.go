// Command benchload is make bench-load: freshgraph and a bare net/http + pgx
// handler, each in its own process, started side by side on one
// PostgreSQL, driven by a load generator in a third process in alternating
// rounds. For each scenario it prints req/s, p50, p99, server CPU per
// request and peak RSS of both, and their ratios; then the same with a
// thousand times more users, to show the cost stays flat as the tables
// grow. It prints figures and never fails on speed.
//
//	go run ./internal/benchload [-users 10000,1000000] [-duration 5s] [-rounds 6] [-conns 16]
//
// It starts its own PostgreSQL from the installed binaries unless
// DATABASE_URL names a server (a database benchload_<users> is made on it
// and dropped after).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/freshgraph/freshgraph/internal/pglocal"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "bare":
			serveBare()
			return
		case "load":
			generateLoad()
			return
		case "live":
			benchLive()
			return
		}
	}
	users := flag.String("users", "10000,1000000", "comma-separated table sizes, one run each")
	duration := flag.Duration("duration", 5*time.Second, "length of one round")
	rounds := flag.Int("rounds", 6, "rounds per side and scenario, alternating; the median is reported, and the ratio is the median of the rounds' ratios")
	conns := flag.Int("conns", 16, "connections of the load generator")
	sessions := flag.Int("sessions", 1000, "signed-in users whose cookies the load rotates over")
	against := flag.String("against", "", "compare freshgraph with its build at this git revision instead of with the bare handler, on the same requests (e.g. -against 5b28c30: what the changes since cost)")
	profile := flag.String("cpuprofile", "", "write freshgraph's CPU profile of each table size's run to this path, with the size appended (the bare handler's: .bare before the size)")
	flag.Parse()
	log.SetFlags(0)
	ctx := context.Background()

	binary, serverURL, cleanup := setUp(ctx, map[string]string{"max_connections": "200"})
	defer cleanup()
	var againstBinary string
	if *against != "" {
		againstBinary = filepath.Join(filepath.Dir(binary), "freshgraph-against")
		buildAt(ctx, *against, againstBinary)
	}

	var results []*sizeResult
	for _, field := range strings.Split(*users, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < *sessions {
			log.Fatalf("-users: %q is not a count of at least -sessions (%d)", field, *sessions)
		}
		c := config{serverURL: serverURL, binary: binary, users: n, sessions: *sessions, duration: *duration, rounds: *rounds, conns: *conns,
			against: againstBinary, againstRev: *against}
		if *profile != "" {
			c.profile = fmt.Sprintf("%s.%d", *profile, n)
			c.bareProfile = fmt.Sprintf("%s.bare.%d", *profile, n)
		}
		r, err := measureSize(ctx, c)
		if err != nil {
			log.Fatal(err)
		}
		results = append(results, r)
	}
	printFlatness(results)
}

// setUp builds freshgraph (with the benchload tag) and starts a
// PostgreSQL with settings, unless DATABASE_URL names one; cleanup stops
// it and removes what was made.
func setUp(ctx context.Context, settings map[string]string) (binary, serverURL string, cleanup func()) {
	tmp, err := os.MkdirTemp("", "benchload-")
	if err != nil {
		log.Fatal(err)
	}
	// PostgreSQL's own user (when we are root) must reach its directory.
	if err := os.Chmod(tmp, 0o755); err != nil {
		log.Fatal(err)
	}
	binary = filepath.Join(tmp, "freshgraph")
	log.Printf("building freshgraph …")
	// The benchload tag adds only the profile, written when asked.
	if err := run(ctx, "go", "build", "-tags", "benchload", "-o", binary, "."); err != nil {
		log.Fatalf("go build (run from the repository's root): %v", err)
	}
	serverURL = os.Getenv("DATABASE_URL")
	if serverURL != "" {
		return binary, serverURL, func() { _ = os.RemoveAll(tmp) }
	}
	cluster, err := pglocal.Start(ctx, pglocal.Options{Dir: filepath.Join(tmp, "postgres"), Database: "postgres", Settings: settings})
	if err != nil {
		log.Fatal(err)
	}
	return binary, cluster.URL(), func() { _ = cluster.Stop(); _ = os.RemoveAll(tmp) }
}

// buildAt builds freshgraph as it was at the git revision rev into binary,
// from a worktree of its own.
func buildAt(ctx context.Context, rev, binary string) {
	src := binary + "-src"
	log.Printf("building freshgraph at %s …", rev)
	if err := run(ctx, "git", "worktree", "add", "--detach", src, rev); err != nil {
		log.Fatalf("git worktree add %s: %v", rev, err)
	}
	defer func() { _ = run(ctx, "git", "worktree", "remove", "--force", src) }()
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", "benchload", "-o", binary, ".")
	cmd.Dir, cmd.Stdout, cmd.Stderr = src, os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("go build at %s: %v", rev, err)
	}
}

type config struct {
	serverURL, binary string
	// against, if set, is freshgraph built at againstRev: the other side
	// instead of the bare handler.
	against, againstRev string
	users, sessions     int
	duration            time.Duration
	rounds, conns       int
	profile             string // where freshgraph writes its CPU profile, if anywhere
	bareProfile         string // and the bare handler its own
}

// printFlatness compares each scenario's throughput across table sizes:
// freshgraph's own, the bare handler's, and how freshgraph's ratio to the
// bare handler changed, which takes out what the machine's speed did
// between the runs (they are minutes apart) and leaves what the tables'
// size did.
func printFlatness(results []*sizeResult) {
	if len(results) < 2 {
		return
	}
	first := results[0]
	fmt.Printf("\nthroughput as the tables grow (median rounds)\n")
	fmt.Printf("  %-40s %12s %12s %10s %10s %14s\n", "", "freshgraph", "freshgraph", "", "bare", "freshgraph's")
	for _, r := range results[1:] {
		fmt.Printf("  %-40s %12s %12s %10s %10s %14s\n", "", fmt.Sprintf("%d users", first.users), fmt.Sprintf("%d users", r.users), "change", "change", "ratio's change")
		for i, sc := range first.scenarios {
			other := r.scenarios[i]
			fg, bare := other.freshgraph.rps()/sc.freshgraph.rps(), other.bare.rps()/sc.bare.rps()
			fmt.Printf("  %-40s %10.0f/s %10.0f/s %9.2fx %9.2fx %13.2fx\n", sc.name, sc.freshgraph.rps(), other.freshgraph.rps(), fg, bare,
				median(other.ratios())/median(sc.ratios()))
		}
	}
}
