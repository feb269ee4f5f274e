// Package pglocal starts a private PostgreSQL server from the machine's
// installed binaries, for dev mode and tests.
//
// The server listens only on a Unix socket in a mode-0700 directory, so the
// trust authentication set up by initdb is reachable only by the server's
// own user (and root). Layout under Options.Dir:
//
//	data/         PGDATA, created by initdb on the first start
//	run/          socket directory (if the path is short enough)
//	postgres.log  server output, appended across runs
//
// When run as root (initdb refuses to), the server runs as the "postgres"
// system user and the launcher hands Dir over to that user.
package pglocal

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNoBinaries is returned (wrapped) when initdb and postgres cannot be found.
var ErrNoBinaries = errors.New("PostgreSQL server binaries not found (initdb, postgres): install Debian's postgresql package (apt-get install postgresql), or set DATABASE_URL")

// Options configures Start.
type Options struct {
	Dir      string            // root directory; holds data/ (PGDATA) and postgres.log; created if missing; persistent across runs
	Database string            // database created on first start if missing; default "freshgraph"
	Settings map[string]string // extra server settings passed as -c name=value (e.g. fsync=off for tests)
	BinDir   string            // optional; default found by FindBinDir
	Logger   *slog.Logger      // optional; nil = discard
}

// Cluster is a running server started by Start.
type Cluster struct {
	opts        Options
	sockDir     string
	tempSockDir bool // sockDir is a /tmp fallback that Stop removes
	cmd         *exec.Cmd
	exited      chan struct{} // closed once cmd.Wait returns
	waitErr     error         // cmd.Wait's result, valid after exited is closed

	stopOnce sync.Once
	stopErr  error
}

const (
	// port only names the socket file (.s.PGSQL.5432); nothing listens on TCP.
	port = 5432
	// maxSocketPath is sizeof(sockaddr_un.sun_path) minus the NUL.
	maxSocketPath    = 107
	defaultStartWait = 60 * time.Second
	stopTimeout      = 30 * time.Second
	pollInterval     = 20 * time.Millisecond
	serverUserName   = "postgres"
)

// reservedSettings are controlled by the launcher: changing them would break
// URL() or expose the trust-authenticated server beyond the socket directory.
var reservedSettings = []string{"listen_addresses", "port", "unix_socket_directories", "unix_socket_permissions"}

// defaultSettings apply unless Options.Settings names them: logical
// decoding, which is how freshgraph's live queries learn of writes without
// costing the writers (internal/livequery), with a slot and a sender for
// each of many servers on one cluster (a test run's).
var defaultSettings = map[string]string{"wal_level": "logical", "max_wal_senders": "100", "max_replication_slots": "100"}

// serverUser is the account initdb and postgres run as when we are root.
type serverUser struct {
	name     string
	uid, gid uint32
}

// Start starts (initialising on first use) the cluster in opts.Dir and returns
// once it accepts connections and opts.Database exists. ctx bounds startup
// only (60s if it has no deadline); the server runs until Stop.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	began := time.Now()
	if opts.Dir == "" {
		return nil, errors.New("pglocal: Options.Dir is required")
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	opts.Dir = dir
	if opts.Database == "" {
		opts.Database = "freshgraph"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	for _, name := range reservedSettings {
		if _, ok := opts.Settings[name]; ok {
			return nil, fmt.Errorf("pglocal: setting %s is managed by pglocal and cannot be overridden", name)
		}
	}
	settings := maps.Clone(defaultSettings)
	maps.Copy(settings, opts.Settings)
	opts.Settings = settings
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultStartWait)
		defer cancel()
	}

	su, err := lookupServerUser()
	if err != nil {
		return nil, err
	}
	if err := prepareDir(dir, su); err != nil {
		return nil, err
	}

	dataDir := filepath.Join(dir, "data")
	dataMajor, err := readDataMajor(dataDir)
	if err != nil {
		return nil, err
	}
	binDir, err := chooseBinDir(opts.BinDir, dataMajor, dataDir)
	if err != nil {
		return nil, err
	}

	logPath := filepath.Join(dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}
	// The child gets its own copy of the descriptor, so ours can go now.
	defer logFile.Close()
	if err := chown(logPath, su); err != nil {
		return nil, err
	}
	// Error messages quote only this run's part of the shared log.
	logStart, err := logFile.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("pglocal: %w", err)
	}

	cold := dataMajor == ""
	if cold {
		if err := initdb(ctx, binDir, dir, dataDir, logFile, logStart, su, opts.Settings); err != nil {
			return nil, err
		}
	}

	c := &Cluster{opts: opts, exited: make(chan struct{})}
	c.sockDir = filepath.Join(dir, "run")
	if len(c.sockDir)+len(fmt.Sprintf("/.s.PGSQL.%d", port)) > maxSocketPath {
		// Too long for sun_path: use a short private directory instead.
		if c.sockDir, err = os.MkdirTemp("/tmp", "pg-"); err != nil {
			return nil, fmt.Errorf("pglocal: socket directory: %w", err)
		}
		c.tempSockDir = true
	}
	// The socket directory's 0700 mode is what makes trust auth safe, so
	// enforce it even on a directory left from an earlier run.
	if err = mkdirOwned(c.sockDir, su); err == nil {
		if cerr := os.Chmod(c.sockDir, 0o700); cerr != nil {
			err = fmt.Errorf("pglocal: %w", cerr)
		}
	}
	if err != nil {
		c.removeTempSockDir()
		return nil, err
	}

	waitForStoppingServer(ctx, dataDir)

	args := []string{"-D", dataDir}
	for _, name := range slices.Sorted(maps.Keys(opts.Settings)) {
		args = append(args, "-c", name+"="+opts.Settings[name])
	}
	// Explicit port: postgres would otherwise honour $PGPORT and the socket
	// name would not match URL().
	args = append(args, "-k", c.sockDir, "-c", "listen_addresses=", "-p", strconv.Itoa(port))
	c.cmd = command(filepath.Join(binDir, "postgres"), dir, logFile, su, args...)
	// Own process group: a terminal Ctrl-C must reach only our process, which
	// drains requests and then calls Stop, not postgres directly.
	c.cmd.SysProcAttr.Setpgid = true
	setParentDeathSignal(c.cmd.SysProcAttr)
	if err := c.cmd.Start(); err != nil {
		c.removeTempSockDir()
		return nil, fmt.Errorf("pglocal: starting postgres: %w", err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()

	if err := c.awaitReadyAndCreateDB(ctx, logPath, logStart); err != nil {
		_ = c.Stop()
		return nil, err
	}
	opts.Logger.Info("postgres started",
		"cold", cold, "duration", time.Since(began).Round(time.Millisecond),
		"dir", dir, "bindir", binDir, "database", opts.Database)
	return c, nil
}

// URL returns the connection URL for Options.Database.
func (c *Cluster) URL() string { return c.URLFor(c.opts.Database) }

// URLFor returns the connection URL for database, over the Unix socket.
func (c *Cluster) URLFor(database string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(serverUserName),
		Path:     "/" + database,
		RawQuery: url.Values{"host": {c.sockDir}, "port": {strconv.Itoa(port)}}.Encode(),
	}
	return u.String()
}

// Stop shuts the server down (fast shutdown: active transactions are rolled
// back) and waits for it to exit, killing it after a timeout. It is safe to
// call more than once; later calls return the first call's result.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() {
		defer c.removeTempSockDir()
		select {
		case <-c.exited:
			// Already gone: report why, unless it was a clean exit.
			if c.waitErr != nil {
				c.stopErr = fmt.Errorf("pglocal: postgres had exited: %w", c.waitErr)
			}
			return
		default:
		}
		_ = c.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
			if c.waitErr != nil {
				c.stopErr = fmt.Errorf("pglocal: postgres shutdown: %w", c.waitErr)
			}
		case <-time.After(stopTimeout):
			// Backends notice the postmaster's death and exit by themselves.
			_ = c.cmd.Process.Kill()
			<-c.exited
			c.stopErr = fmt.Errorf("pglocal: postgres did not shut down within %s; killed it", stopTimeout)
		}
	})
	return c.stopErr
}

func (c *Cluster) removeTempSockDir() {
	if c.tempSockDir {
		_ = os.RemoveAll(c.sockDir)
	}
}

// awaitReadyAndCreateDB polls the socket until the server accepts
// connections, then creates the database if it does not exist yet.
func (c *Cluster) awaitReadyAndCreateDB(ctx context.Context, logPath string, logStart int64) error {
	pidFile := filepath.Join(c.opts.Dir, "data", "postmaster.pid")
	var conn *pgx.Conn
	err := errors.New("postmaster.pid not written yet")
	for {
		// Connect only once our postmaster holds the data directory lock:
		// until then the socket may belong to another server on the same
		// Dir, which our child is about to fail against.
		if pid, _ := readPIDFile(pidFile); pid == c.cmd.Process.Pid {
			attemptCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
			conn, err = pgx.Connect(attemptCtx, c.URLFor("postgres"))
			cancel()
			if err == nil {
				break
			}
		}
		select {
		case <-c.exited:
			tail := logTail(logPath, logStart)
			hint := ""
			if strings.Contains(tail, "lock file") {
				hint = " (lock file held: is another server already running on this data directory?)"
			}
			return fmt.Errorf("pglocal: postgres exited during startup: %v%s; %s:\n%s", c.waitErr, hint, logPath, tail)
		case <-ctx.Done():
			return fmt.Errorf("pglocal: postgres not ready: %w (last attempt: %v); %s:\n%s",
				ctx.Err(), err, logPath, logTail(logPath, logStart))
		case <-time.After(pollInterval):
		}
	}
	defer conn.Close(context.Background())

	var exists bool
	err = conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", c.opts.Database).Scan(&exists)
	if err == nil && !exists {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.opts.Database}.Sanitize())
	}
	if err != nil {
		return fmt.Errorf("pglocal: creating database %q: %w", c.opts.Database, err)
	}
	return nil
}

// initdb creates a new cluster. It works in a scratch directory and renames
// it into place only on success, so an interrupted initdb never leaves a
// half-made data directory that would look initialised next time.
func initdb(ctx context.Context, binDir, dir, dataDir string, logFile *os.File, logStart int64, su *serverUser, settings map[string]string) error {
	if err := os.Remove(dataDir); err != nil && !errors.Is(err, os.ErrNotExist) {
		// Anything but an empty directory is not ours to replace.
		return fmt.Errorf("pglocal: %s exists but has no PG_VERSION; not a PostgreSQL data directory (move it away): %w", dataDir, err)
	}
	tmp := dataDir + ".initdb"
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	if err := mkdirOwned(tmp, su); err != nil {
		return err
	}
	// trust is safe because only the socket's owner can reach it (see package doc).
	args := []string{"-D", tmp, "--auth=trust", "--username=" + serverUserName, "--encoding=UTF8", "--locale=C"}
	if settings["fsync"] == "off" {
		// The caller does not want durability (tests); skipping initdb's
		// final sync makes cold starts much faster.
		args = append(args, "--no-sync")
	}
	cmd := command(filepath.Join(binDir, "initdb"), dir, logFile, su, args...)
	if err := runCtx(ctx, cmd); err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("pglocal: initdb: %w; %s:\n%s", err, logFile.Name(), logTail(logFile.Name(), logStart))
	}
	if err := os.Rename(tmp, dataDir); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	return nil
}

// runCtx runs cmd, killing it if ctx ends first.
func runCtx(ctx context.Context, cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
		return ctx.Err()
	}
}

// command builds a server-side command running as su (if non-nil), with its
// output going to log.
func command(path, dir string, log *os.File, su *serverUser, args ...string) *exec.Cmd {
	cmd := exec.Command(path, args...)
	cmd.Dir = dir // the server user may not be able to enter our working directory
	cmd.Stdout = log
	cmd.Stderr = log
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if su != nil {
		// Empty Groups drops root's supplementary groups.
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: su.uid, Gid: su.gid}
	}
	return cmd
}

// waitForStoppingServer waits while a previous postmaster on dataDir is still
// shutting down (e.g. after its parent died and it got the parent-death
// signal), so a quick restart does not fail on its lock file. A server that
// is not stopping is left for postgres itself to report.
func waitForStoppingServer(ctx context.Context, dataDir string) {
	for {
		pid, status := readPIDFile(filepath.Join(dataDir, "postmaster.pid"))
		if status != "stopping" || pid <= 0 || syscall.Kill(pid, 0) == syscall.ESRCH {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(pollInterval):
		}
	}
}

// readPIDFile returns the PID and status ("starting", "ready", "stopping")
// from a postmaster.pid file, or zero values if it cannot be read.
func readPIDFile(path string) (pid int, status string) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, ""
	}
	lines := strings.Split(string(b), "\n")
	pid, _ = strconv.Atoi(strings.TrimSpace(lines[0]))
	if len(lines) >= 8 {
		status = strings.TrimSpace(lines[7])
	}
	return pid, status
}

// lookupServerUser returns nil when we are not root (the server runs as us),
// else the postgres system user.
func lookupServerUser() (*serverUser, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(serverUserName)
	if err != nil {
		return nil, fmt.Errorf("pglocal: running as root, so the server must run as the %q system user, but looking it up failed: %w (install Debian's postgresql package, which creates it, or run as a normal user)", serverUserName, err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("pglocal: user %q: %w", serverUserName, err)
	}
	return &serverUser{name: u.Username, uid: uint32(uid), gid: uint32(gid)}, nil
}

// prepareDir creates dir (private to the server user) and, as root, checks
// the server user can reach it.
func prepareDir(dir string, su *serverUser) error {
	// Parents get 0755 so that, as root, they stay traversable by su.
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	if err := mkdirOwned(dir, su); err != nil {
		return err
	}
	if su == nil {
		return nil
	}
	resolved, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	return checkTraversable(resolved, su)
}

// checkTraversable fails if su lacks search (x) permission on any ancestor
// of dir. It mirrors the kernel's owner/group/other check (ACLs aside); su
// runs with only its primary group, see command.
func checkTraversable(dir string, su *serverUser) error {
	for p := filepath.Dir(dir); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("pglocal: %w", err)
		}
		st, ok := fi.Sys().(*syscall.Stat_t)
		if !ok {
			return nil
		}
		perm := fi.Mode().Perm()
		var can bool
		switch {
		case st.Uid == su.uid:
			can = perm&0o100 != 0
		case st.Gid == su.gid:
			can = perm&0o010 != 0
		default:
			can = perm&0o001 != 0
		}
		if !can {
			return fmt.Errorf("pglocal: the server runs as user %q (we are root), which cannot traverse %s (mode %v): choose a Dir outside it (e.g. under /tmp) or make it traversable (chmod o+x %s)",
				su.name, p, perm, p)
		}
		if p == filepath.Dir(p) {
			return nil
		}
	}
}

// mkdirOwned creates dir with mode 0700 if missing and hands it to su.
func mkdirOwned(dir string, su *serverUser) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("pglocal: %w", err)
	}
	return chown(dir, su)
}

// chown gives path to su; a no-op when we are not root.
func chown(path string, su *serverUser) error {
	if su == nil {
		return nil
	}
	if err := os.Lchown(path, int(su.uid), int(su.gid)); err != nil {
		return fmt.Errorf("pglocal: %w", err)
	}
	return nil
}

// readDataMajor returns the major version recorded in dataDir/PG_VERSION,
// or "" if the cluster has not been initialised.
func readDataMajor(dataDir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pglocal: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// chooseBinDir picks the binaries: explicit, else the newest installed, but
// always of the data directory's major version if it already exists, since
// a different major cannot run it.
func chooseBinDir(explicit, dataMajor, dataDir string) (string, error) {
	var candidates []string
	if explicit != "" {
		if !hasServerBinaries(explicit) {
			return "", fmt.Errorf("pglocal: no initdb and postgres in BinDir %s: %w", explicit, ErrNoBinaries)
		}
		candidates = []string{explicit}
	} else if candidates = binDirCandidates(); len(candidates) == 0 {
		return "", ErrNoBinaries
	}
	if dataMajor == "" {
		return candidates[0], nil
	}
	var found []string
	for _, d := range candidates {
		major, err := binMajor(d)
		if err != nil {
			major = "unknown" // broken install: skip it, but say so
		}
		if major == dataMajor {
			return d, nil
		}
		found = append(found, major+" ("+d+")")
	}
	return "", fmt.Errorf("pglocal: %s was created by PostgreSQL %s, but only PostgreSQL %s is available; install PostgreSQL %s or remove %s to start afresh",
		dataDir, dataMajor, strings.Join(found, ", "), dataMajor, filepath.Dir(dataDir))
}

// FindBinDir returns the directory holding initdb and postgres: pg_config's
// bindir if it has them, else the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	if c := binDirCandidates(); len(c) > 0 {
		return c[0], nil
	}
	return "", ErrNoBinaries
}

// binDirCandidates lists usable binary directories, preferred first.
func binDirCandidates() []string {
	var dirs []string
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		// Debian's pg_config may come from libpq-dev and name a version
		// whose server is not installed, hence the check.
		if d := strings.TrimSpace(string(out)); hasServerBinaries(d) {
			dirs = append(dirs, filepath.Clean(d))
		}
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(debian, func(a, b string) int {
		return -compareVersions(filepath.Base(filepath.Dir(a)), filepath.Base(filepath.Dir(b)))
	})
	for _, d := range debian {
		if hasServerBinaries(d) && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func hasServerBinaries(dir string) bool {
	for _, name := range []string{"initdb", "postgres"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
			return false
		}
	}
	return true
}

// binMajor returns the major version of dir/postgres, in PG_VERSION's format
// ("15", or "9.6" before version 10).
func binMajor(dir string) (string, error) {
	out, err := exec.Command(filepath.Join(dir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("pglocal: %s/postgres --version: %w", dir, err)
	}
	// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"; also "17beta1".
	_, rest, _ := strings.Cut(string(out), ") ")
	end := strings.IndexFunc(rest, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end < 0 {
		end = len(rest)
	}
	parts := strings.Split(rest[:end], ".")
	if parts[0] == "" {
		return "", fmt.Errorf("pglocal: cannot parse %s/postgres --version output %q", dir, out)
	}
	if n, _ := strconv.Atoi(parts[0]); n < 10 && len(parts) > 1 {
		return parts[0] + "." + parts[1], nil
	}
	return parts[0], nil
}

// compareVersions compares dotted numeric versions ("9.6" < "10" < "15").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) && i < len(bs); i++ {
		x, _ := strconv.Atoi(as[i])
		y, _ := strconv.Atoi(bs[i])
		if c := cmp.Compare(x, y); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(as), len(bs))
}

// logTail returns the last lines postgres logged since offset.
func logTail(path string, offset int64) string {
	const maxLines = 20
	f, err := os.Open(path)
	if err != nil {
		return "(cannot read log: " + err.Error() + ")"
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return "(cannot read log: " + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if len(lines) == maxLines {
			lines = lines[1:]
		}
		lines = append(lines, sc.Text())
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
