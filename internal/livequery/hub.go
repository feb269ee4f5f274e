// Package livequery keeps subscription_root's table fields live: it
// pushes a subscriber the answer of its query whenever a committed write
// may have changed it, and only then — never on a timer while nothing
// changes.
//
// A trigger on each tracked table (Capture) announces every write on one
// channel, whoever wrote it; each instance holds one LISTEN connection.
// Subscribers whose queries compile to the same statement for the same
// role form a group; those of a group with equal arguments (variables and
// session variables, bound as the statement's parameters) form a cohort.
// A write to a table re-runs the groups that read it — the root table, a
// relationship's, a permission's — each in one statement for all its
// cohorts, their arguments bound together (Hasura's multiplexing: a JSON
// array of the cohorts' arguments, one LATERAL subquery per cohort), and a
// cohort's subscribers get the answer only if it differs from the last one
// sent. Under a stream of writes a group runs at most once per Interval,
// so PostgreSQL's work follows the number of groups, not of writes or
// subscribers.
package livequery

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Config is how a Hub runs.
type Config struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Interval is the least time between two runs of one group while
	// writes keep coming (HASURA_GRAPHQL_LIVE_QUERIES_MULTIPLEXED_REFETCH_INTERVAL).
	Interval time.Duration
	// PollInterval is how often a group that reads a table whose changes
	// are not captured is run.
	PollInterval time.Duration
	// Limits bound each run as a request of the group's role.
	Limits limits.Config
	// Captured are the tables whose writes reach the hub, and how (Capture).
	Captured Captured
	// PollAll, if set, runs every group this often and ignores writes, as
	// Hasura does (every second): for comparison (make bench-live).
	PollAll time.Duration
	// Metrics are told how long after a write its answers were pushed.
	Metrics *metrics.Metrics
}

// Result is what a subscriber is sent: the field's JSON, or an error.
type Result struct {
	Data []byte
	Err  error
}

// Hub holds the live queries of one instance.
type Hub struct {
	cfg Config
	ctx context.Context

	mu      sync.Mutex
	groups  map[string]*group
	byTable map[catalog.Name]map[*group]struct{}
	polled  map[*group]struct{}
	// decoding: the logical decoding stream is up; decodingUp is closed
	// when it first is.
	decoding   bool
	decodingUp chan struct{}
	// visibility holds the stream's decoded writes until they are
	// visible; a new group has it look at them again.
	visibility *visibility
}

// New returns a Hub; Run starts it.
func New(cfg Config) *Hub {
	h := &Hub{cfg: cfg, ctx: context.Background(), groups: map[string]*group{},
		byTable: map[catalog.Name]map[*group]struct{}{}, polled: map[*group]struct{}{}}
	if len(cfg.Captured.Decoded) > 0 && cfg.PollAll == 0 {
		h.decodingUp = make(chan struct{})
	}
	return h
}

// Run follows writes until ctx ends: it reads the decoded tables' from a
// logical replication stream and listens for the others' notifications. A
// lost connection is re-made with growing delays; after each reconnection
// every group it serves runs again, since writes meanwhile were missed.
func (h *Hub) Run(ctx context.Context) {
	h.mu.Lock()
	h.ctx = ctx
	h.mu.Unlock()
	if h.cfg.PollAll > 0 {
		h.poll(ctx, h.cfg.PollAll, true)
		return
	}
	go h.poll(ctx, h.cfg.PollInterval, false)
	if len(h.cfg.Captured.Decoded) > 0 {
		go h.decode(ctx)
	}
	l := database.Listener(h.cfg.Pool, h.cfg.Logger, "live queries")
	l.Handle(Channel, listener{h})
	_ = l.Listen(ctx)
}

type listener struct{ h *Hub }

// HandleNotification re-runs the groups that read the written table: a
// notification names the table, and the written row's key if it has one.
func (l listener) HandleNotification(_ context.Context, n *pgconn.Notification, _ *pgx.Conn) error {
	var parts []string
	if err := json.Unmarshal([]byte(n.Payload), &parts); err != nil || len(parts) < 2 {
		return fmt.Errorf("live queries: unexpected notification %q", n.Payload)
	}
	l.h.written(catalog.Name{Schema: parts[0], Table: parts[1]}, strings.Join(parts[2:], "\x00"))
	return nil
}

// written re-runs the groups that read table, or (keyed groups rooted at
// it) their cohorts the row whose key's columns, as text joined by NUL,
// are key can concern; key "" is the whole table.
func (h *Hub) written(table catalog.Name, key string) {
	now := time.Now()
	for _, g := range h.groupsReading(table) {
		g.mu.Lock()
		if g.learnt.IsZero() {
			g.learnt = now
		}
		if g.keyed && g.root == table && key != "" && len(g.keys) < maxKeys {
			g.keys[key] = struct{}{}
		} else {
			g.dirty = true
		}
		g.kick()
		g.mu.Unlock()
	}
}

// maxKeys bounds the written keys a keyed group collects between runs;
// past it, every cohort runs.
const maxKeys = 1000

// HandleBacklog runs after every (re)connection: every group that reads a
// notified table runs again.
func (l listener) HandleBacklog(context.Context, string, *pgx.Conn) error {
	l.h.mu.Lock()
	all := make([]*group, 0, len(l.h.groups))
	for _, g := range l.h.groups {
		if l.h.readsNotified(g) {
			all = append(all, g)
		}
	}
	l.h.mu.Unlock()
	l.h.changed(all)
	return nil
}

// isRead reports whether a group reads table.
func (h *Hub) isRead(table catalog.Name) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byTable[table]) > 0
}

func (h *Hub) groupsReading(name catalog.Name) []*group {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*group, 0, len(h.byTable[name]))
	for g := range h.byTable[name] {
		out = append(out, g)
	}
	return out
}

func (h *Hub) changed(groups []*group) {
	for _, g := range groups {
		g.mu.Lock()
		g.dirty = true
		g.kick()
		g.mu.Unlock()
	}
}

// poll runs the groups that read a table whose writes are not announced
// (every group, if all is set) each interval.
func (h *Hub) poll(ctx context.Context, interval time.Duration, all bool) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		h.mu.Lock()
		polled := make([]*group, 0, len(h.polled))
		for g := range h.polled {
			polled = append(polled, g)
		}
		if len(h.cfg.Captured.Decoded) > 0 && !h.decoding {
			// The stream is not up: its tables are polled meanwhile.
			for _, g := range h.groups {
				if _, ok := h.polled[g]; !ok && h.readsDecoded(g) {
					polled = append(polled, g)
				}
			}
		}
		if all {
			polled = polled[:0]
			for _, g := range h.groups {
				polled = append(polled, g)
			}
		}
		h.mu.Unlock()
		h.changed(polled)
	}
}

// Subscription is one subscriber.
type Subscription struct {
	g          *group
	c          *cohort
	deliver    func(Result)
	backlogged func() bool
}

// Subscribe pushes deliver the answer of q for role at once (a stream's:
// its first batch, if any) and again whenever it changes, for as long as
// ctx lives. deliver must not block. A stream's next batch waits while
// backlogged (if not nil) reports that the subscriber has not yet taken
// its last one, until the subscriber says it has (Taken): a stream
// catching up runs at its client's pace.
func (h *Hub) Subscribe(ctx context.Context, role auth.Role, q engine.Live, deliver func(Result), backlogged func() bool) *Subscription {
	sql, ok := multiplexed(q.Query, q.Keyed)
	key := string(role) + "\x00" + sql
	if !ok {
		// Parameters this hub cannot bind together: a group of its own.
		key = fmt.Sprintf("%s\x00%p", key, &q)
	}
	args, err := json.Marshal(q.Query.Args())
	if err != nil {
		deliver(Result{Err: err})
		return nil
	}
	var probeSQL string
	var probeArgs []byte
	if q.Keyed && ok {
		probeSQL, q.Keyed = multiplexedProbe(q.Probe)
		if probeArgs, err = json.Marshal(q.Probe.Args()); err != nil {
			q.Keyed = false
		}
	}
	h.mu.Lock()
	g := h.groups[key]
	if g == nil {
		g = &group{hub: h, key: key, sql: sql, role: role, position: q.Position, solo: !ok, single: q.Query,
			keyed: q.Keyed, root: q.Root.SQL, probeSQL: probeSQL, keys: map[string]struct{}{}, byKey: map[string]map[*cohort]struct{}{},
			cohorts: map[string]*cohort{}, all: map[*cohort]struct{}{}, fresh: map[*cohort]struct{}{}, waiting: map[*cohort]struct{}{}, held: map[*cohort]struct{}{}}
		h.groups[key] = g
		if h.visibility != nil {
			h.visibility.kick()
		}
		if q.Polled {
			h.polled[g] = struct{}{}
		}
		for _, t := range q.Reads {
			if h.byTable[t.SQL] == nil {
				h.byTable[t.SQL] = map[*group]struct{}{}
			}
			h.byTable[t.SQL][g] = struct{}{}
			g.reads = append(g.reads, t)
			if !h.cfg.Captured.Notified[t.SQL] && !h.cfg.Captured.decoded(t.SQL) {
				h.polled[g] = struct{}{}
			}
		}
	}
	g.mu.Lock()
	h.mu.Unlock()
	s := &Subscription{g: g, deliver: deliver, backlogged: backlogged}
	// A stream's subscriber has its own position; a live query's shares
	// the answer of everyone asking the same.
	c := g.cohorts[string(args)]
	if c == nil || q.Position != nil {
		c = &cohort{args: q.Query.Args(), argsJSON: args, probeArgs: probeArgs, subs: map[*Subscription]struct{}{}}
		if q.Position == nil {
			c.key = string(args)
			g.cohorts[c.key] = c
		}
		g.all[c] = struct{}{}
		g.fresh[c] = struct{}{}
		g.kick()
	} else if c.sent {
		deliver(c.last)
	}
	s.c = c
	c.subs[s] = struct{}{}
	g.mu.Unlock()
	context.AfterFunc(ctx, s.end)
	return s
}

// Taken tells that the subscriber has taken what it was given: a stream
// held back for it (withoutBacklogged) runs on.
func (s *Subscription) Taken() {
	g := s.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.held[s.c]; ok && !s.c.backlogged() {
		delete(g.held, s.c)
		g.fresh[s.c] = struct{}{}
		g.kick()
	}
}

// end forgets the subscriber, and its cohort and group once empty.
func (s *Subscription) end() {
	g := s.g
	h := g.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(s.c.subs, s)
	if len(s.c.subs) > 0 {
		return
	}
	delete(g.all, s.c)
	delete(g.fresh, s.c)
	delete(g.waiting, s.c)
	delete(g.held, s.c)
	g.index(s.c, nil)
	if s.c.key != "" && g.cohorts[s.c.key] == s.c {
		delete(g.cohorts, s.c.key)
	}
	if len(g.all) > 0 {
		return
	}
	g.ended = true
	if g.timer != nil {
		g.timer.Stop()
	}
	delete(h.groups, g.key)
	delete(h.polled, g)
	for _, t := range g.reads {
		delete(h.byTable[t.SQL], g)
		if len(h.byTable[t.SQL]) == 0 {
			delete(h.byTable, t.SQL)
		}
	}
}

// group is the subscribers of one statement and role.
type group struct {
	hub      *Hub
	key, sql string
	role     auth.Role
	reads    []*tables.Table
	position []int // a stream's (engine.Live.Position)
	// solo groups run their one cohort's statement as it is.
	solo   bool
	single sqlbuild.Fragment
	// keyed groups (engine.Live.Keyed) run, for writes to their root
	// table's rows, only the cohorts whose answer showed one of the rows
	// (byKey) or whose probe finds one now.
	keyed    bool
	root     catalog.Name
	probeSQL string

	mu      sync.Mutex
	cohorts map[string]*cohort // live queries' cohorts, by arguments
	all     map[*cohort]struct{}
	// fresh cohorts run at once; dirty runs every cohort, once Interval
	// has passed since the last such run.
	fresh map[*cohort]struct{}
	// waiting are streams' cohorts waiting for their barrier, looked at
	// again when the timer fires; held, those waiting for their client to
	// take their last batch (withoutBacklogged, Taken).
	waiting map[*cohort]struct{}
	held    map[*cohort]struct{}
	dirty   bool
	// learnt is when the oldest write not yet answered by a run was
	// learnt (zero: none), for the push latency.
	learnt  time.Time
	keys    map[string]struct{} // written keys of root rows since the last run
	byKey   map[string]map[*cohort]struct{}
	running bool
	ended   bool
	lastRun time.Time
	timer   *time.Timer
}

// cohort is the subscribers of a group with equal arguments.
type cohort struct {
	args     []any
	argsJSON []byte
	key      string
	subs     map[*Subscription]struct{}
	sent     bool
	last     Result
	lastKey  []byte // what last was, to compare the next answer with
	// probeArgs are the arguments of the group's probe; rowKeys the keys
	// of the root rows its last answer showed (keyed groups).
	probeArgs []byte
	rowKeys   []string
	// A stream's cohort may send up to until once every transaction of
	// barrier has ended; observing: it has a new until, not its barrier.
	until     []string
	barrier   map[string]bool
	observing bool
}

// kick starts the group's runner unless it runs; g.mu is held.
func (g *group) kick() {
	if g.running || g.ended {
		return
	}
	g.running = true
	go g.run()
}

// run runs the group until nothing is due.
func (g *group) run() {
	for {
		g.mu.Lock()
		batch, whole, keys := g.due()
		if batch == nil && keys == nil {
			g.running = false
			g.mu.Unlock()
			return
		}
		// The run answers every write learnt so far: the oldest one's
		// time is the latency of what it pushes.
		var learnt time.Time
		if whole || keys != nil {
			learnt, g.learnt = g.learnt, time.Time{}
		}
		g.mu.Unlock()
		var results []answer
		var err error
		if keys != nil {
			if batch, err = g.affected(batch, keys); err == nil && len(batch) == 0 {
				continue
			}
		}
		if err == nil && g.position != nil {
			if batch, err = g.settled(batch); err == nil && len(batch) == 0 {
				continue
			}
		}
		if err == nil {
			results, err = g.query(batch, whole)
		}
		g.mu.Lock()
		if err != nil {
			// PostgreSQL unreachable: try again; nothing is sent.
			for _, c := range batch {
				if _, ok := g.all[c]; ok {
					g.fresh[c] = struct{}{}
				}
			}
			g.dirty = g.dirty || whole
			g.later(500 * time.Millisecond)
			g.running = false
			g.mu.Unlock()
			if g.hub.ctx.Err() == nil {
				g.hub.cfg.Logger.Warn("live queries: run failed; retrying", "err", err)
			}
			return
		}
		pushed := false
		for i, c := range batch {
			if _, ok := g.all[c]; ok {
				pushed = g.push(c, results[i]) || pushed
			}
		}
		g.mu.Unlock()
		if pushed && !learnt.IsZero() {
			g.hub.cfg.Metrics.LivePushed(time.Since(learnt))
		}
		if g.position != nil {
			if err := g.observe(); err != nil {
				g.mu.Lock()
				g.dirty = true
				g.later(500 * time.Millisecond)
				g.running = false
				g.mu.Unlock()
				return
			}
		}
	}
}

// due picks the cohorts to run now: all of them if the group is dirty and
// Interval has passed; if only rows of a keyed group's root were written,
// every cohort with the written keys, for affected to narrow; else the
// fresh ones; nothing if none is due (arming a timer for a dirty group).
// g.mu is held.
func (g *group) due() (batch []*cohort, whole bool, keys []string) {
	if g.ended {
		return nil, false, nil
	}
	if g.dirty || len(g.keys) > 0 {
		if wait := g.hub.cfg.Interval - time.Since(g.lastRun); wait > 0 {
			g.later(wait)
		} else {
			g.lastRun = time.Now()
			batch = make([]*cohort, 0, len(g.all))
			for c := range g.all {
				batch = append(batch, c)
			}
			if !g.dirty {
				for k := range g.keys {
					keys = append(keys, k)
				}
				clear(g.keys)
				return batch, true, keys
			}
			g.dirty = false
			clear(g.keys)
			clear(g.fresh)
			if batch = g.withoutBacklogged(batch); len(batch) == 0 {
				return nil, false, nil
			}
			return batch, true, nil
		}
	}
	if len(g.fresh) == 0 {
		return nil, false, nil
	}
	batch = make([]*cohort, 0, len(g.fresh))
	for c := range g.fresh {
		batch = append(batch, c)
	}
	clear(g.fresh)
	if batch = g.withoutBacklogged(batch); len(batch) == 0 {
		return nil, false, nil
	}
	return batch, false, nil
}

// withoutBacklogged holds back the streams' cohorts whose subscriber has
// not yet taken its last batch — its client reads slower than the stream
// could run — until it has (Taken). Nothing is lost: the next run reads
// every row after the cohort's position. g.mu is held.
func (g *group) withoutBacklogged(batch []*cohort) []*cohort {
	if g.position == nil {
		return batch
	}
	kept := batch[:0]
	for _, c := range batch {
		if c.backlogged() {
			g.held[c] = struct{}{}
			continue
		}
		delete(g.held, c)
		kept = append(kept, c)
	}
	return kept
}

// backlogged reports whether one of c's subscribers has a batch it has
// not taken yet.
func (c *cohort) backlogged() bool {
	for s := range c.subs {
		if s.backlogged != nil && s.backlogged() {
			return true
		}
	}
	return false
}

// affected narrows cohorts, after writes to the root rows keys, to those
// whose answer they can change: those whose last answer showed one of the
// rows (or was an error), and those for which the probe finds one now.
func (g *group) affected(cohorts []*cohort, keys []string) ([]*cohort, error) {
	hit := map[*cohort]bool{}
	g.mu.Lock()
	for _, k := range keys {
		for c := range g.byKey[k] {
			hit[c] = true
		}
	}
	for _, c := range cohorts {
		// An error's answer showed no rows to follow: it runs again.
		if c.last.Err != nil {
			hit[c] = true
		}
	}
	g.mu.Unlock()
	var args bytes.Buffer
	args.WriteByte('[')
	var probed []*cohort
	for _, c := range cohorts {
		if hit[c] {
			continue
		}
		if len(probed) > 0 {
			args.WriteByte(',')
		}
		args.Write(c.probeArgs)
		probed = append(probed, c)
	}
	args.WriteByte(']')
	if len(probed) > 0 {
		ctx, cancel := g.hub.cfg.Limits.Start(g.hub.ctx, g.role)
		defer cancel()
		rows, err := g.hub.cfg.Pool.Query(ctx, g.probeSQL, args.String(), keys)
		if err != nil {
			return nil, err
		}
		var n int
		if _, err := pgx.ForEachRow(rows, []any{&n}, func() error {
			if n >= 1 && n <= len(probed) {
				hit[probed[n-1]] = true
			}
			return nil
		}); err != nil {
			if isQueryError(ctx, err) {
				return cohorts, nil // let each cohort's own statement tell
			}
			return nil, err
		}
	}
	out := make([]*cohort, 0, len(hit))
	for _, c := range cohorts {
		if hit[c] {
			out = append(out, c)
		}
	}
	return out, nil
}

// index files c under the keys of the root rows its answer shows. g.mu is
// held.
func (g *group) index(c *cohort, keys []string) {
	if !g.keyed {
		return
	}
	for _, k := range c.rowKeys {
		delete(g.byKey[k], c)
		if len(g.byKey[k]) == 0 {
			delete(g.byKey, k)
		}
	}
	c.rowKeys = keys
	for _, k := range keys {
		if g.byKey[k] == nil {
			g.byKey[k] = map[*cohort]struct{}{}
		}
		g.byKey[k][c] = struct{}{}
	}
}

// later kicks the group after d, unless a kick is already armed. g.mu is held.
func (g *group) later(d time.Duration) {
	if g.timer != nil {
		return
	}
	g.timer = time.AfterFunc(d, func() {
		g.mu.Lock()
		g.timer = nil
		for c := range g.waiting {
			g.fresh[c] = struct{}{}
		}
		clear(g.waiting)
		g.kick()
		g.mu.Unlock()
	})
}

// answer is one cohort's answer to a run.
type answer struct {
	json []byte   // the field's JSON; nil with err
	keys []string // a keyed group's: the root rows' keys
	err  error
}

// query runs batch: a re-run of the whole group in one statement, new
// cohorts each in its own, as the same query would run (so that a value
// PostgreSQL refuses fails it at once, as it fails the query). An error is
// PostgreSQL's that belongs to no cohort (connection lost). A cohort whose
// own arguments make the group's statement fail gets that error as its
// answer, as its own statement would.
func (g *group) query(batch []*cohort, whole bool) ([]answer, error) {
	ctx, cancel := g.hub.cfg.Limits.Start(g.hub.ctx, g.role)
	defer cancel()
	if g.solo || !whole {
		out := make([]answer, len(batch))
		for i, c := range batch {
			out[i] = g.querySolo(ctx, c)
			if out[i].err != nil && !isQueryError(ctx, out[i].err) {
				return nil, out[i].err
			}
		}
		return out, nil
	}
	var args bytes.Buffer
	args.WriteByte('[')
	for i, c := range batch {
		if i > 0 {
			args.WriteByte(',')
		}
		args.Write(c.argsJSON)
	}
	args.WriteByte(']')
	out := make([]answer, len(batch))
	var n int
	var j []byte
	var size, budget int64
	var keys []string
	rows, err := g.hub.cfg.Pool.Query(ctx, g.sql, args.String())
	if err == nil {
		_, err = pgx.ForEachRow(rows, []any{&n, &j, &size, &budget, &keys}, func() error {
			if n < 1 || n > len(out) {
				return fmt.Errorf("live queries: cohort %d of %d", n, len(out))
			}
			a := &out[n-1]
			switch {
			case j == nil:
				a.json = []byte("null")
			case size > budget:
				a.err = limits.ResponseSizeError(budget, size)
			default:
				a.json = append([]byte(nil), j...)
			}
			a.keys = keys
			return nil
		})
	}
	if err == nil {
		return out, nil
	}
	if !isQueryError(ctx, err) {
		return nil, err
	}
	if len(batch) == 1 {
		out[0] = answer{err: queryError(ctx, err)}
		return out, nil
	}
	// One cohort's arguments fail the statement (a cast PostgreSQL
	// refuses): each runs alone, so that the error is only its own.
	for i, c := range batch {
		out[i] = g.querySolo(ctx, c)
		if out[i].err != nil && !isQueryError(ctx, out[i].err) {
			return nil, out[i].err
		}
	}
	return out, nil
}

// querySolo runs one cohort's statement alone.
func (g *group) querySolo(ctx context.Context, c *cohort) answer {
	f := g.single.WithArgs(c.args)
	var j []byte
	var budget int64
	var keys []string
	k := "NULL::text[]"
	if g.keyed {
		k = "q.k"
	}
	err := g.hub.cfg.Pool.QueryRow(ctx, "SELECT q.j::text, q.max, "+k+" FROM ("+f.SQL()+") q", f.Args()...).Scan(&j, &budget, &keys)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return answer{json: []byte("null")}
	case err != nil:
		return answer{err: queryError(ctx, err)}
	case j == nil:
		return answer{json: []byte("null")}
	case int64(len(j)) > budget:
		return answer{err: limits.ResponseSizeError(budget, int64(len(j)))}
	}
	return answer{json: j, keys: keys}
}

// isQueryError tells an error of the statement (PostgreSQL refused it,
// or a limit stopped it) from PostgreSQL being unreachable.
func isQueryError(ctx context.Context, err error) bool {
	if _, ok := errors.AsType[*hasura.Error](err); ok {
		return true
	}
	if _, ok := limits.Explain(ctx, err); ok {
		return true
	}
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	// The connection's end (class 08, or 57's administrator shutdowns, as
	// when PostgreSQL restarts) is no answer to the statement.
	return ok && !strings.HasPrefix(pgErr.Code, "08") && !(strings.HasPrefix(pgErr.Code, "57") && pgErr.Code != "57014") &&
		pgErr.Severity != "FATAL" && pgErr.Severity != "PANIC"
}

// queryError is err as the subscriber is told it: a limit's, or
// PostgreSQL's in Hasura's words.
func queryError(ctx context.Context, err error) error {
	if he, ok := limits.Explain(ctx, err); ok {
		return he
	}
	if he, ok := hasura.FromPostgres(err); ok {
		return he
	}
	return err
}

// push sends c's subscribers a new answer, unless it is the last one
// sent; a stream's batch moves its position on. g.mu is held.
func (g *group) push(c *cohort, a answer) bool {
	if a.err != nil {
		if c.sent && c.last.Err != nil && c.last.Err.Error() == a.err.Error() {
			return false
		}
		c.sent, c.last, c.lastKey = true, Result{Err: a.err}, nil
		for s := range c.subs {
			s.deliver(c.last)
		}
		return true
	}
	if g.position != nil {
		g.pushBatch(c, a.json)
		return false
	}
	g.index(c, a.keys)
	if c.sent && c.last.Err == nil && bytes.Equal(a.json, c.lastKey) {
		return false
	}
	c.sent, c.last, c.lastKey = true, Result{Data: a.json}, a.json
	for s := range c.subs {
		s.deliver(c.last)
	}
	return true
}

// pushBatch sends a stream's batch, if it has rows, and moves the
// cohort's position after it. A full batch is followed by another run; a
// batch that saw rows it could not send yet sets the cohort's "until" to
// the last of them, to send once every transaction open now has ended
// (observe). g.mu is held.
func (g *group) pushBatch(c *cohort, answer []byte) {
	var batch struct {
		Rows json.RawMessage `json:"rows"`
		Next []string        `json:"next"`
		Last []string        `json:"last"`
		Full bool            `json:"full"`
	}
	if err := json.Unmarshal(answer, &batch); err != nil {
		g.hub.cfg.Logger.Error("live queries: unexpected stream answer", "err", err)
		return
	}
	until := c.until
	if !batch.Full {
		until = nil
		if batch.Last != nil && !slices.Equal(batch.Last, batch.Next) {
			until = batch.Last
			c.observing = true
		}
	}
	args, err := engine.StreamPosition(c.args, g.position, batch.Next, until)
	if err != nil {
		g.hub.cfg.Logger.Error("live queries: stream position", "err", err)
		return
	}
	argsJSON, err := json.Marshal(args)
	if err != nil {
		return
	}
	c.args, c.argsJSON, c.until = args, argsJSON, until
	if batch.Next != nil {
		c.sent, c.last = true, Result{Data: batch.Rows}
		for s := range c.subs {
			s.deliver(c.last)
		}
	}
	if batch.Full {
		g.fresh[c] = struct{}{}
		g.kick()
	}
}

// settleWait is how often a stream looks again whether the transactions
// that hold its next rows back have ended.
const settleWait = 20 * time.Millisecond

// openTransactions are the transactions of other clients open now, each
// as its backend's pid and its start.
func (g *group) openTransactions() (map[string]bool, error) {
	ctx, cancel := g.hub.cfg.Limits.Start(g.hub.ctx, g.role)
	defer cancel()
	rows, _ := g.hub.cfg.Pool.Query(ctx, `SELECT pid::text || '/' || xact_start::text FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND xact_start IS NOT NULL AND pid <> pg_backend_pid()`)
	open := map[string]bool{}
	var tx string
	_, err := pgx.ForEachRow(rows, []any{&tx}, func() error { open[tx] = true; return nil })
	return open, err
}

// settled drops from a stream's batch the cohorts whose barrier — the
// transactions open when their "until" was seen — still stands, and runs
// them again soon.
func (g *group) settled(batch []*cohort) ([]*cohort, error) {
	g.mu.Lock()
	waiting := false
	for _, c := range batch {
		waiting = waiting || len(c.barrier) > 0
	}
	g.mu.Unlock()
	if !waiting {
		return batch, nil
	}
	open, err := g.openTransactions()
	if err != nil {
		return nil, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	ready := batch[:0:0]
	for _, c := range batch {
		standing := false
		for tx := range c.barrier {
			standing = standing || open[tx]
		}
		if !standing {
			c.barrier = nil
			ready = append(ready, c)
		} else if _, ok := g.all[c]; ok {
			g.waiting[c] = struct{}{}
			g.later(settleWait)
		}
	}
	return ready, nil
}

// observe gives the stream cohorts that saw rows they may not send yet
// their barrier: the transactions open now, after what they saw. With
// none, they run again at once.
func (g *group) observe() error {
	g.mu.Lock()
	var observing []*cohort
	for c := range g.all {
		if c.observing {
			observing = append(observing, c)
		}
	}
	g.mu.Unlock()
	if len(observing) == 0 {
		return nil
	}
	open, err := g.openTransactions()
	if err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range observing {
		c.observing, c.barrier = false, open
		if _, ok := g.all[c]; !ok {
			continue
		}
		if len(open) == 0 {
			g.fresh[c] = struct{}{}
			g.kick()
		} else {
			g.waiting[c] = struct{}{}
			g.later(settleWait)
		}
	}
	return nil
}

// multiplexed is the statement that runs q for many cohorts at once: $1
// is a JSON array of their arguments, and each row is a cohort's number
// (from 1), its answer's text, that text's size and its byte budget. ok
// is false if an argument's kind cannot be read back from JSON exactly.
func multiplexed(q sqlbuild.Fragment, keyed bool) (string, bool) {
	inner, ok := rebound(q)
	if !ok {
		return "", false
	}
	k := "NULL::text[]"
	if keyed {
		k = "x.k"
	}
	var sb strings.Builder
	sb.WriteString("SELECT s.n::int, q.t, coalesce(octet_length(q.t), 0)::bigint, coalesce(q.max, 0), q.k FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY s(a, n) " +
		"LEFT JOIN LATERAL (SELECT x.j::text AS t, x.max, " + k + " AS k FROM (")
	sb.WriteString(inner)
	sb.WriteString(") x) q ON true")
	return sb.String(), true
}

// multiplexedProbe is the statement that runs a keyed group's probe for
// many cohorts: $1 their probe arguments, $2 the written keys; each row a
// cohort's number whose probe holds.
func multiplexedProbe(probe sqlbuild.Fragment) (string, bool) {
	inner, ok := rebound(probe)
	if !ok {
		return "", false
	}
	return "SELECT s.n::int FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY s(a, n) WHERE " + inner, true
}

// rebound is q's text with each parameter read from the cohort's JSON
// arguments s.a; false if one's kind cannot be read back exactly.
func rebound(q sqlbuild.Fragment) (string, bool) {
	ok := true
	args := q.Args()
	inner := q.Rebind(func(i int) string {
		switch args[i].(type) {
		case string, nil:
			return fmt.Sprintf("(s.a->>%d)", i)
		case int, int32, int64:
			return fmt.Sprintf("((s.a->>%d)::bigint)", i)
		case bool:
			return fmt.Sprintf("((s.a->>%d)::boolean)", i)
		case []string:
			return fmt.Sprintf("ARRAY(SELECT jsonb_array_elements_text(s.a->%d))", i)
		}
		ok = false
		return ""
	})
	return inner, ok
}
