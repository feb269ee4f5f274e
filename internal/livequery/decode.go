package livequery

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Publication lists the tables whose writes the hub reads by logical
// decoding (Capture puts them in it, with their key columns only).
const Publication = "freshgraph_changes"

// statusInterval is how often the decoder confirms what it has read, so
// that PostgreSQL may recycle the WAL behind it (and knows it is alive:
// wal_sender_timeout is 60 s by default).
const statusInterval = 10 * time.Second

// replicationConfig is the pool's connection made a logical replication
// connection: no statement timeout (the stream is one long command) and no
// bound on a message's size (a table with REPLICA IDENTITY FULL sends whole
// rows).
func replicationConfig(pool *pgxpool.Pool) *pgconn.Config {
	cfg := pool.Config().ConnConfig.Config.Copy()
	cfg.RuntimeParams["replication"] = "database"
	delete(cfg.RuntimeParams, "statement_timeout")
	cfg.BuildFrontend = pgproto3.NewFrontend
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
	conn, err := pgconn.ConnectConfig(ctx, replicationConfig(h.cfg.Pool))
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
	v := newVisibility(h)
	go v.run(ctx)
	started()

	d := decoder{h: h, relations: map[uint32]*relation{}, counts: map[catalog.Name]int{}}
	nextStatus := time.Now().Add(statusInterval)
	for {
		if !time.Now().Before(nextStatus) {
			if err := pglogrepl.SendStandbyStatusUpdate(ctx, conn, pglogrepl.StandbyStatusUpdate{WALWritePosition: confirmed}); err != nil {
				return err
			}
			nextStatus = time.Now().Add(statusInterval)
		}
		receiveCtx, cancelReceive := context.WithDeadline(ctx, nextStatus)
		msg, err := conn.ReceiveMessage(receiveCtx)
		cancelReceive()
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
				committed, err := d.message(data.WALData)
				if err != nil {
					return err
				}
				if committed != nil {
					v.add(*committed)
					confirmed = max(confirmed, committed.end)
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
	case *pglogrepl.InsertMessage:
		d.row(m.RelationID, m.Tuple)
	case *pglogrepl.UpdateMessage:
		if m.OldTuple != nil {
			d.row(m.RelationID, m.OldTuple)
		}
		d.row(m.RelationID, m.NewTuple)
	case *pglogrepl.DeleteMessage:
		d.row(m.RelationID, m.OldTuple)
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

// row records a written row by its key; past keyedRows rows of a table in
// one transaction, the table alone (once), as the triggers do.
func (d *decoder) row(relationID uint32, tuple *pglogrepl.TupleData) {
	r := d.relations[relationID]
	if r == nil || tuple == nil {
		return
	}
	d.counts[r.name]++
	switch n := d.counts[r.name]; {
	case n == keyedRows+1:
		d.current.changes = append(d.current.changes, change{table: r.name})
		return
	case n > keyedRows+1:
		return
	}
	parts := make([]string, 0, len(r.key))
	for _, i := range r.key {
		if i >= len(tuple.Columns) || tuple.Columns[i].DataType != pglogrepl.TupleDataTypeText {
			parts = nil // null or an unchanged TOASTed value: the key is unknown
			break
		}
		parts = append(parts, string(tuple.Columns[i].Data))
	}
	key := strings.Join(parts, "\x00")
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
// at once could read the rows as they were. A transaction holds the lock
// on its own id until it has left that set: the changes wait until pg_locks
// no longer shows it.
type visibility struct {
	h       *Hub
	mu      sync.Mutex
	pending []transaction
	wake    chan struct{}
}

func newVisibility(h *Hub) *visibility {
	return &visibility{h: h, wake: make(chan struct{}, 1)}
}

func (v *visibility) add(t transaction) {
	if len(t.changes) == 0 {
		return
	}
	v.mu.Lock()
	v.pending = append(v.pending, t)
	v.mu.Unlock()
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// run applies pending transactions as they become visible, checking
// everything pending in one statement.
func (v *visibility) run(ctx context.Context) {
	var waiting []transaction
	// A commit waiting for a synchronous standby may take a while: the
	// checks of one wait back off, from a millisecond to retryMax.
	const retryMax = 50 * time.Millisecond
	retry := time.Millisecond
	for {
		var again <-chan time.Time
		if len(waiting) > 0 {
			again = time.After(retry)
			retry = min(2*retry, retryMax)
		} else {
			retry = time.Millisecond
		}
		select {
		case <-ctx.Done():
			return
		case <-v.wake:
		case <-again:
		}
		v.mu.Lock()
		waiting = append(waiting, v.pending...)
		v.pending = v.pending[:0]
		v.mu.Unlock()
		if len(waiting) == 0 {
			continue
		}
		running, err := v.running(ctx, waiting)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Better late than never: the statement failing (the
			// connection lost, say) must not hold the changes back.
			v.h.cfg.Logger.Warn("live queries: checking that decoded writes are visible", "err", err)
			time.Sleep(10 * time.Millisecond)
			running = nil
		}
		kept := waiting[:0]
		for _, t := range waiting {
			if running[t.xid] {
				kept = append(kept, t)
				continue
			}
			for _, c := range t.changes {
				v.h.written(c.table, c.key)
			}
		}
		waiting = kept
	}
}

// running returns which of ts's transactions still hold their id's lock.
func (v *visibility) running(ctx context.Context, ts []transaction) (map[uint32]bool, error) {
	xids := make([]int64, 0, len(ts))
	for _, t := range ts {
		xids = append(xids, int64(t.xid))
	}
	rows, err := v.h.cfg.Pool.Query(ctx, `SELECT transactionid::text::bigint FROM pg_locks
		WHERE locktype = 'transactionid' AND mode = 'ExclusiveLock' AND granted AND transactionid::text::bigint = ANY($1)`, xids)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	running := map[uint32]bool{}
	for rows.Next() {
		var xid int64
		if err := rows.Scan(&xid); err != nil {
			return nil, err
		}
		running[uint32(xid)] = true
	}
	return running, rows.Err()
}
