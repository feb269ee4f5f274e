package livequery

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Publication lists the tables whose writes the hub reads by logical
// decoding (Capture puts them in it).
const Publication = "freshgraph_changes"

// statusInterval is how often the decoder confirms what it has read, so
// that PostgreSQL may recycle the WAL behind it (and knows it is alive:
// wal_sender_timeout is 60 s by default).
const statusInterval = 10 * time.Second

// readGap is the least time between two reads that wait for the server.
// Reading each commit as it comes costs a wake-up (and a walsender's
// flush) per commit: at a single writer's few thousand commits a second
// that was ~90 µs of the hub's CPU per commit, taken from the writers on a
// small machine. Bounding the waiting reads to 200 a second costs a commit
// at most readGap of latency — a trickle is still read at once, since its
// last read is long past — and lets a storm's messages gather in the
// socket, to be taken by one read.
const readGap = 5 * time.Millisecond

// replicationConfig is the pool's connection made a logical replication
// connection: no statement timeout (the stream is one long command), no
// bound on a message's size (a table with REPLICA IDENTITY FULL sends whole
// rows), and a context's end only interrupts the read — a cancel request,
// the pool's way, would end the stream each time a read waits its turn to
// confirm what it has read. The socket is read outside Go's poller
// (unpolled), so that what the walsender sends during a readGap wakes
// nobody.
func replicationConfig(pool *pgxpool.Pool) *pgconn.Config {
	cfg := pool.Config().ConnConfig.Config.Copy()
	cfg.RuntimeParams["replication"] = "database"
	delete(cfg.RuntimeParams, "statement_timeout")
	cfg.BuildFrontend = pgproto3.NewFrontend
	dial := cfg.DialFunc
	cfg.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return unpolled(c)
	}
	cfg.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: c.Conn()}
	}
	return cfg
}

// decode follows the decoded tables' writes until ctx ends. While the
// stream is down (before it first starts, or after it is lost) the groups
// reading those tables are polled; once it is (back) up every such group
// runs again, since writes may have been missed.
func (h *Hub) decode(ctx context.Context) {
	failures := 0
	for {
		up := false
		err := h.stream(ctx, func() {
			up = true
			failures = 0
			h.setDecoding(true)
		})
		h.setDecoding(false)
		if ctx.Err() != nil {
			return
		}
		if !up {
			failures++
		}
		delay := min(100*time.Millisecond<<min(failures, 7), 10*time.Second)
		h.cfg.Logger.Warn("live queries: logical decoding stopped; its tables are polled until it is back", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// setDecoding records whether the stream is up; coming up, it runs every
// group that reads a decoded table.
func (h *Hub) setDecoding(up bool) {
	h.mu.Lock()
	h.decoding = up
	if up && h.decodingUp != nil {
		close(h.decodingUp)
		h.decodingUp = nil
	}
	var groups []*group
	if up {
		for _, g := range h.groups {
			if h.readsDecoded(g) {
				groups = append(groups, g)
			}
		}
	}
	h.mu.Unlock()
	h.changed(groups)
}

// readsDecoded reports whether g reads a table whose writes come by
// logical decoding.
func (h *Hub) readsDecoded(g *group) bool {
	return slices.ContainsFunc(g.reads, func(t *tables.Table) bool { return h.cfg.Captured.decoded(t.SQL) })
}

// readsNotified reports whether g reads a table whose writes are
// announced by its triggers.
func (h *Hub) readsNotified(g *group) bool {
	return slices.ContainsFunc(g.reads, func(t *tables.Table) bool { return h.cfg.Captured.Notified[t.SQL] })
}

// WaitCapture waits until the writes of every captured table reach the
// hub, or ctx ends; it reports which.
func (h *Hub) WaitCapture(ctx context.Context) bool {
	h.mu.Lock()
	up := h.decodingUp
	h.mu.Unlock()
	if up == nil {
		return true
	}
	select {
	case <-up:
		return true
	case <-ctx.Done():
		return false
	}
}

// stream creates a temporary slot (it goes when the connection does, so an
// instance that dies holds back no WAL) and reads the publication's
// changes from it, calling started once they flow.
func (h *Hub) stream(ctx context.Context, started func()) error {
	// A large read buffer: after a pause (readGap) one read takes all the
	// messages that have gathered, not 8 KiB of them.
	cfg := replicationConfig(h.cfg.Pool)
	var input *bufio.Reader
	cfg.BuildFrontend = func(r io.Reader, w io.Writer) *pgproto3.Frontend {
		input = bufio.NewReaderSize(r, 1<<20)
		return pgproto3.NewFrontend(input, w)
	}
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	slot := fmt.Sprintf("freshgraph_%016x", rand.Uint64())
	created, err := pglogrepl.CreateReplicationSlot(ctx, conn, slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Temporary: true, SnapshotAction: "NOEXPORT_SNAPSHOT", Mode: pglogrepl.LogicalReplication})
	if err != nil {
		return fmt.Errorf("creating the replication slot: %w", err)
	}
	confirmed, err := pglogrepl.ParseLSN(created.ConsistentPoint)
	if err != nil {
		return err
	}
	err = pglogrepl.StartReplication(ctx, conn, slot, confirmed, pglogrepl.StartReplicationOptions{
		Mode:       pglogrepl.LogicalReplication,
		PluginArgs: []string{"proto_version '1'", "publication_names '" + Publication + "'"},
	})
	if err != nil {
		return fmt.Errorf("starting replication: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// A read without a deadline (of a message begun) ends with ctx too.
	defer context.AfterFunc(ctx, func() { _ = conn.Conn().Close() })()
	v := newVisibility(h)
	go v.run(ctx)
	h.mu.Lock()
	h.visibility = v
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		h.visibility = nil
		h.mu.Unlock()
	}()
	started()

	d := decoder{h: h, relations: map[uint32]*relation{}, counts: map[catalog.Name]int{}}
	nextStatus := time.Now().Add(statusInterval)
	var lastWait time.Time // when the last read that waited began
	gap := time.NewTimer(0)
	defer gap.Stop()
	var committed []transaction
	for {
		if !time.Now().Before(nextStatus) {
			if err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: confirmed}); err != nil {
				return err
			}
			nextStatus = time.Now().Add(statusInterval)
		}
		var msg pgproto3.BackendMessage
		var err error
		if conn.Frontend().ReadBufferLen() > 0 || input.Buffered() > 0 {
			// Read ahead already: no wait, so no deadline to watch.
			msg, err = conn.ReceiveMessage(context.Background())
		} else {
			// What was read goes to the hub before the read waits.
			v.add(committed...)
			committed = committed[:0]
			// The read waits for the server, at most once per readGap.
			if wait := readGap - time.Since(lastWait); wait > 0 {
				gap.Reset(wait)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-gap.C:
				}
			}
			lastWait = time.Now()
			receiveCtx, cancelReceive := context.WithDeadline(ctx, nextStatus)
			msg, err = conn.ReceiveMessage(receiveCtx)
			cancelReceive()
		}
		if err != nil {
			if pgconn.Timeout(err) && ctx.Err() == nil {
				continue
			}
			return err
		}
		switch msg := msg.(type) {
		case *pgproto3.ErrorResponse:
			return pgconn.ErrorResponseToPgError(msg)
		case *pgproto3.CopyData:
			if len(msg.Data) == 0 {
				continue
			}
			switch msg.Data[0] {
			case pglogrepl.PrimaryKeepaliveMessageByteID:
				keepalive, err := pglogrepl.ParsePrimaryKeepaliveMessage(msg.Data[1:])
				if err != nil {
					return err
				}
				if keepalive.ReplyRequested {
					nextStatus = time.Time{}
				}
			case pglogrepl.XLogDataByteID:
				data, err := pglogrepl.ParseXLogData(msg.Data[1:])
				if err != nil {
					return err
				}
				t, err := d.message(data.WALData)
				if err != nil {
					return err
				}
				if t != nil {
					if len(t.changes) > 0 {
						committed = append(committed, *t)
					}
					confirmed = max(confirmed, t.end)
				}
			}
		}
	}
}

// relation is a table as the stream describes it.
type relation struct {
	name catalog.Name
	// key are the positions of the primary key's columns in the stream's
	// tuples; nil if one is missing (the table is then named alone).
	key []int
}

// change is a written row of a table (key "" for the whole table), in
// the hub's form: the key's columns as text, joined by NUL.
type change struct {
	table catalog.Name
	key   string
}

// transaction is what one committed transaction wrote.
type transaction struct {
	xid     uint32
	end     pglogrepl.LSN
	changes []change
}

// decoder turns pgoutput's messages into transactions.
type decoder struct {
	h         *Hub
	relations map[uint32]*relation
	current   transaction
	counts    map[catalog.Name]int // rows of the current transaction, per table
}

// message reads one pgoutput message, and returns the transaction it ends.
func (d *decoder) message(data []byte) (*transaction, error) {
	if len(data) > 0 && (data[0] == 'I' || data[0] == 'U' || data[0] == 'D') {
		if err := d.rowMessage(data); err != nil {
			return nil, fmt.Errorf("reading the replication stream: %w", err)
		}
		return nil, nil
	}
	msg, err := pglogrepl.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("reading the replication stream: %w", err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		r := &relation{name: catalog.Name{Schema: m.Namespace, Table: m.RelationName}}
		for _, column := range d.h.cfg.Captured.Decoded[r.name] {
			i := slices.IndexFunc(m.Columns, func(c *pglogrepl.RelationMessageColumn) bool { return c.Name == column })
			if i < 0 {
				r.key = nil
				break
			}
			r.key = append(r.key, i)
		}
		d.relations[m.RelationID] = r
	case *pglogrepl.BeginMessage:
		d.current = transaction{xid: m.Xid}
		clear(d.counts)
	case *pglogrepl.TruncateMessage:
		for _, id := range m.RelationIDs {
			if r := d.relations[id]; r != nil {
				d.current.changes = append(d.current.changes, change{table: r.name})
			}
		}
	case *pglogrepl.CommitMessage:
		t := d.current
		t.end = m.TransactionEndLSN
		d.current = transaction{}
		return &t, nil
	}
	return nil, nil
}

// rowMessage reads an insert, update or delete ('I', 'U', 'D': the
// relation's id, then each tuple it carries after a byte saying which)
// for the keys of its tuples, without turning each column into a value:
// a write storm's thousands of messages a second cost the hub little.
func (d *decoder) rowMessage(data []byte) error {
	if len(data) < 5 {
		return errShortMessage
	}
	r := d.relations[binary.BigEndian.Uint32(data[1:5])]
	rest := data[5:]
	for len(rest) > 0 {
		// rest[0] is 'N' (new), 'K' (old key) or 'O' (old row).
		key, known, after, err := tupleKey(rest[1:], r)
		if err != nil {
			return err
		}
		if r != nil {
			d.row(r, key, known)
		}
		rest = after
	}
	return nil
}

var errShortMessage = errors.New("a message ends early")

// tupleKey reads one TupleData (a column count, then per column a kind —
// 'n' null, 'u' unchanged TOASTed value, 't' text and 'b' binary with a
// length and the bytes) and returns r's key's columns, as text joined by
// NUL (known false if one is null, unchanged or not text), and what follows.
func tupleKey(data []byte, r *relation) (key string, known bool, rest []byte, err error) {
	if len(data) < 2 {
		return "", false, nil, errShortMessage
	}
	columns := int(binary.BigEndian.Uint16(data))
	data = data[2:]
	var values [][]byte
	if r != nil && len(r.key) > 0 {
		values = make([][]byte, len(r.key))
		known = true
	}
	for i := range columns {
		if len(data) < 1 {
			return "", false, nil, errShortMessage
		}
		kind := data[0]
		data = data[1:]
		var value []byte
		if kind == 't' || kind == 'b' {
			if len(data) < 4 {
				return "", false, nil, errShortMessage
			}
			n := int(binary.BigEndian.Uint32(data))
			if len(data) < 4+n {
				return "", false, nil, errShortMessage
			}
			value, data = data[4:4+n], data[4+n:]
		}
		if values == nil {
			continue
		}
		for k, position := range r.key {
			if position == i {
				if kind != 't' {
					known = false
				}
				values[k] = value
			}
		}
	}
	if !known {
		return "", false, data, nil
	}
	size := len(values) - 1
	for _, v := range values {
		size += len(v)
	}
	b := make([]byte, 0, size)
	for k, v := range values {
		if k > 0 {
			b = append(b, 0)
		}
		b = append(b, v...)
	}
	return string(b), true, data, nil
}

// row records a written row by its key (the table alone if the key is not
// known); past keyedRows rows of a table in one transaction, the table
// alone (once), as the triggers do.
func (d *decoder) row(r *relation, key string, known bool) {
	d.counts[r.name]++
	switch n := d.counts[r.name]; {
	case n == keyedRows+1:
		d.current.changes = append(d.current.changes, change{table: r.name})
		return
	case n > keyedRows+1:
		return
	}
	if !known {
		key = ""
	}
	if n := len(d.current.changes); n > 0 && d.current.changes[n-1] == (change{r.name, key}) {
		return // an update that kept its key
	}
	d.current.changes = append(d.current.changes, change{table: r.name, key: key})
}

// visibility hands the hub a decoded transaction's changes once its
// writes are visible. The stream carries a transaction once its commit
// record is flushed, which is before the writer's transaction leaves the
// set a new snapshot sees as running — a moment for a local commit, a
// round trip when a synchronous standby must confirm it — so a group run
// at once could read the rows as they were. The changes wait until a
// snapshot taken after them sees the transaction as ended (one statement
// for all that wait).
//
// Checks are bounded, so that a write storm costs a bounded number of
// them: at most one every minCheckGap while changes to tables subscribers
// read wait, and one every unreadCheckGap while only others do (kept, not
// dropped, in case a subscription to their table starts before they are
// visible).
type visibility struct {
	h       *Hub
	mu      sync.Mutex
	pending []transaction
	rescan  bool // a subscription started: which tables are read changed
	wake    chan struct{}
}

const (
	minCheckGap    = 5 * time.Millisecond
	unreadCheckGap = 100 * time.Millisecond
	// A commit waiting for a synchronous standby may take a while: the
	// checks of one wait back off up to maxCheckGap.
	maxCheckGap = 50 * time.Millisecond
)

func newVisibility(h *Hub) *visibility {
	return &visibility{h: h, wake: make(chan struct{}, 1)}
}

func (v *visibility) add(ts ...transaction) {
	if len(ts) == 0 {
		return
	}
	v.mu.Lock()
	v.pending = append(v.pending, ts...)
	v.mu.Unlock()
	v.signal()
}

// kick has the waiting changes looked at again (a subscription started).
func (v *visibility) kick() {
	v.mu.Lock()
	v.rescan = true
	v.mu.Unlock()
	v.signal()
}

func (v *visibility) signal() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// run applies pending transactions as they become visible.
func (v *visibility) run(ctx context.Context) {
	var waiting []transaction
	read := false // a waiting transaction wrote a table a group reads
	var lastCheck time.Time
	backoff := time.Millisecond
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-v.wake:
		case <-timer:
			timer = nil
		}
		v.mu.Lock()
		fresh, rescan := v.pending, v.rescan
		v.pending, v.rescan = nil, false
		v.mu.Unlock()
		waiting = append(waiting, fresh...)
		if rescan {
			// Which tables are read changed: every waiting one again.
			read = slices.ContainsFunc(waiting, v.read)
		} else {
			read = read || slices.ContainsFunc(fresh, v.read)
		}
		if len(waiting) == 0 {
			backoff = time.Millisecond
			continue
		}
		gap := unreadCheckGap
		if read {
			gap = max(minCheckGap, backoff)
		}
		if wait := gap - time.Since(lastCheck); wait > 0 {
			timer = time.After(wait)
			continue
		}
		lastCheck = time.Now()
		running, err := v.running(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Better late than never: the statement failing (the
			// connection lost, say) must not hold the changes back.
			v.h.cfg.Logger.Warn("live queries: checking that decoded writes are visible", "err", err)
			running = func(uint32) bool { return false }
		}
		kept := waiting[:0]
		for _, t := range waiting {
			if running(t.xid) {
				kept = append(kept, t)
				continue
			}
			for _, c := range t.changes {
				v.h.written(c.table, c.key)
			}
		}
		clear(waiting[len(kept):])
		waiting = kept
		read = slices.ContainsFunc(waiting, v.read)
		if len(waiting) > 0 {
			backoff = min(2*backoff, maxCheckGap)
			timer = time.After(max(minCheckGap, backoff))
		} else {
			backoff = time.Millisecond
		}
	}
}

// read reports whether a group reads a table t wrote.
func (v *visibility) read(t transaction) bool {
	return slices.ContainsFunc(t.changes, func(c change) bool { return v.h.isRead(c.table) })
}

// VisibilityCheck is the statement that tells when decoded writes are
// visible (visibility.running).
const VisibilityCheck = `SELECT pg_current_snapshot()::text`

// running reports, of a transaction id, whether a snapshot taken now
// sees it as running: not before the snapshot's xmax, or in its list of
// running ids. Ids are compared by their low 32 bits, as the stream gives
// them: ids in use are within 2³¹ of each other.
func (v *visibility) running(ctx context.Context) (func(uint32) bool, error) {
	var snapshot string
	if err := v.h.cfg.Pool.QueryRow(ctx, VisibilityCheck).Scan(&snapshot); err != nil {
		return nil, err
	}
	xmax, xip, err := parseSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	return func(xid uint32) bool { return int32(xid-xmax) >= 0 || xip[xid] }, nil
}

// parseSnapshot reads pg_snapshot's text, xmin:xmax:xip,…, keeping xmax and
// the running ids' low 32 bits.
func parseSnapshot(s string) (xmax uint32, xip map[uint32]bool, err error) {
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, nil, fmt.Errorf("live queries: unexpected snapshot %q", s)
	}
	max64, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("live queries: unexpected snapshot %q", s)
	}
	xip = map[uint32]bool{}
	if parts[2] != "" {
		for _, id := range strings.Split(parts[2], ",") {
			x, err := strconv.ParseUint(id, 10, 64)
			if err != nil {
				return 0, nil, fmt.Errorf("live queries: unexpected snapshot %q", s)
			}
			xip[uint32(x)] = true
		}
	}
	return uint32(max64), xip, nil
}
