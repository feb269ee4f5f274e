package pglocal

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// fastSettings trade durability for speed, as the project's tests do.
var fastSettings = map[string]string{"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}

// requireBinaries skips when PostgreSQL is not installed, except in CI where
// a silent skip would hide a broken setup.
func requireBinaries(t testing.TB) {
	t.Helper()
	if _, err := FindBinDir(); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip(err)
		}
		t.Fatal(err)
	}
}

// newDir returns a fresh directory under os.TempDir(). Not t.TempDir(): its
// 0700 parent would block the postgres user when we run as root.
func newDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "pglocal-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// newParent is newDir made traversable, for use as a parent of Dir.
func newParent(t testing.TB) string {
	t.Helper()
	dir := newDir(t)
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Settings == nil {
		opts.Settings = fastSettings
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Stop() })
	return c
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func TestStartStopRestart(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	ctx := context.Background()
	dir := newDir(t)

	t0 := time.Now()
	c := start(t, Options{Dir: dir})
	t.Logf("cold start: %v", time.Since(t0))

	wantPrefix := "postgres://postgres@/freshgraph?host=" + strings.ReplaceAll(filepath.Join(dir, "run"), "/", "%2F") + "&port=5432"
	if c.URL() != wantPrefix {
		t.Errorf("URL() = %q, want %q", c.URL(), wantPrefix)
	}
	// pgxpool.ParseConfig strips pool_* parameters and defers to this.
	cfg, err := pgx.ParseConfig(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != filepath.Join(dir, "run") || cfg.Port != 5432 || cfg.User != "postgres" || cfg.Database != "freshgraph" {
		t.Errorf("parsed URL: host=%q port=%d user=%q db=%q", cfg.Host, cfg.Port, cfg.User, cfg.Database)
	}

	conn, err := pgx.Connect(ctx, c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)

	if err := c.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := c.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := pgx.Connect(ctx, c.URL()); err == nil {
		t.Fatal("connected after Stop")
	}

	// The socket directory's mode is what protects trust auth: restored.
	runDir := filepath.Join(dir, "run")
	if err := os.Chmod(runDir, 0o755); err != nil {
		t.Fatal(err)
	}

	t0 = time.Now()
	c = start(t, Options{Dir: dir})
	t.Logf("warm start: %v", time.Since(t0))
	if fi, err := os.Stat(runDir); err != nil {
		t.Error(err)
	} else if fi.Mode().Perm() != 0o700 {
		t.Errorf("socket dir mode after restart: %v, want 0700", fi.Mode())
	}
	var v string
	if err := connect(t, c.URL()).QueryRow(ctx, "SELECT v FROM t").Scan(&v); err != nil || v != "kept" {
		t.Fatalf("after restart: v=%q err=%v", v, err)
	}
}

func TestSecondStartFailsOnLock(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := newDir(t)
	c := start(t, Options{Dir: dir, Database: "other db"})

	_, err := Start(context.Background(), Options{Dir: dir, Settings: fastSettings})
	if err == nil || !strings.Contains(err.Error(), "lock file") {
		t.Fatalf("second Start: got %v, want an error about the lock file", err)
	}
	t.Logf("second Start error: %v", err)

	// The failed attempt must leave the running server alone.
	var db string
	if err := connect(t, c.URL()).QueryRow(context.Background(), "SELECT current_database()").Scan(&db); err != nil || db != "other db" {
		t.Fatalf("first server after failed second Start: db=%q err=%v", db, err)
	}
}

func TestNoBinaries(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Options{Dir: newDir(t), BinDir: newDir(t)})
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("got %v, want ErrNoBinaries", err)
	}
	if !strings.Contains(err.Error(), "apt-get install postgresql") || strings.Contains(err.Error(), "\n") {
		t.Errorf("message should be one line naming the package: %q", err)
	}
}

func TestReservedSetting(t *testing.T) {
	t.Parallel()
	_, err := Start(context.Background(), Options{Dir: newDir(t), Settings: map[string]string{"port": "5433"}})
	if err == nil || !strings.Contains(err.Error(), "port") {
		t.Fatalf("got %v, want an error naming the setting", err)
	}
}

func TestLongDirUsesTmpSocket(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := filepath.Join(newParent(t), strings.Repeat("d", 100))
	c := start(t, Options{Dir: dir})

	cfg, err := pgx.ParseConfig(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Host, "/tmp/pg-") {
		t.Fatalf("socket dir %q, want the /tmp fallback", cfg.Host)
	}
	connect(t, c.URL())
	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(cfg.Host); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("fallback socket dir not removed by Stop: %v", err)
	}
}

func TestNonTraversableParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands Dir to another user")
	}
	requireBinaries(t)
	t.Parallel()
	blocked := newDir(t) // MkdirTemp: 0700, owned by root
	_, err := Start(context.Background(), Options{Dir: filepath.Join(blocked, "sub", "pg")})
	if err == nil || !strings.Contains(err.Error(), blocked+" ") {
		t.Fatalf("got %v, want an error naming %s", err, blocked)
	}
	t.Logf("error: %v", err)
}

func TestMajorVersionMismatch(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := newDir(t)
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "PG_VERSION"), []byte("9.6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "created by PostgreSQL 9.6") {
		t.Fatalf("got %v, want a version mismatch error", err)
	}
}

// TestRestartAfterKill kills the process that started the server, as a
// crash or `kill -9` would, and checks the next Start still works: first
// with the parent-death signal shutting postgres down, then with postgres
// killed too, leaving a stale postmaster.pid behind.
func TestRestartAfterKill(t *testing.T) {
	requireBinaries(t)
	t.Parallel()
	dir := newDir(t)
	pidFile := filepath.Join(dir, "data", "postmaster.pid")

	// Parent dies: Pdeathsig makes postgres shut down cleanly, which
	// removes postmaster.pid.
	helper := startHelper(t, dir)
	helper.Process.Kill()
	helper.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for _, err := os.Stat(pidFile); err == nil; _, err = os.Stat(pidFile) {
		if time.Now().After(deadline) {
			t.Fatal("postgres still running 10s after its parent was killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	start(t, Options{Dir: dir}).Stop()

	// Both die at once: postgres must recover from the stale lock file.
	helper = startHelper(t, dir)
	pid := postmasterPID(t, pidFile)
	syscall.Kill(pid, syscall.SIGKILL)
	helper.Process.Kill()
	helper.Wait()
	// Until init reaps the orphaned postmaster, its zombie still counts as
	// a live lock holder; a real restart comes later than this test's.
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("killed postmaster %d still exists", pid)
		}
	}
	c := start(t, Options{Dir: dir})
	connect(t, c.URL())
}

// startHelper runs TestHelperProcess in a child process that starts a
// cluster in dir and then waits to be killed.
func startHelper(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGLOCAL_HELPER_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		t.Fatalf("helper: %q", line)
	}
	return cmd
}

func TestHelperProcess(t *testing.T) {
	dir := os.Getenv("PGLOCAL_HELPER_DIR")
	if dir == "" {
		t.Skip("helper process for TestRestartAfterKill")
	}
	if _, err := Start(context.Background(), Options{Dir: dir, Settings: fastSettings}); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println("ready")
	time.Sleep(time.Hour)
}

func postmasterPID(t *testing.T, pidFile string) int {
	t.Helper()
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(first)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestFindBinDir(t *testing.T) {
	requireBinaries(t)
	dir, err := FindBinDir()
	if err != nil {
		t.Fatal(err)
	}
	major, err := binMajor(dir)
	t.Logf("FindBinDir: %s (PostgreSQL %s, err %v)", dir, major, err)
	if err != nil || major == "" {
		t.Fatal("cannot read the binaries' version")
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{{"9.6", "10", -1}, {"15", "15", 0}, {"16", "9.6", 1}, {"15", "15.1", -1}} {
		if got := compareVersions(tc.a, tc.b); got != tc.want {
			t.Errorf("compareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func BenchmarkWarmStart(b *testing.B) {
	requireBinaries(b)
	dir := newDir(b)
	if err := start(b, Options{Dir: dir}).Stop(); err != nil { // cold start, once
		b.Fatal(err)
	}
	for b.Loop() {
		c, err := Start(context.Background(), Options{Dir: dir, Settings: fastSettings})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := c.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
