package livequery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Channel is where the tracked tables' triggers announce writes (migration
// 00011): a JSON array of the table's schema and name.
const Channel = "freshgraph_changes"

// triggerName is the trigger Capture puts on each tracked table.
const triggerName = "freshgraph_changes"

// captureLock serialises instances putting triggers on the same tables.
const captureLock = 7_230_411_902

// CaptureMode is how writes are learnt of (LIVE_QUERIES_CAPTURE).
type CaptureMode string

const (
	// CaptureAuto decodes where the database allows it, and puts triggers
	// on the tables elsewhere.
	CaptureAuto CaptureMode = "auto"
	// CaptureDecoding decodes, or refuses to start.
	CaptureDecoding CaptureMode = "decoding"
	// CaptureTriggers puts triggers on the tables.
	CaptureTriggers CaptureMode = "triggers"
)

// ParseCaptureMode reads LIVE_QUERIES_CAPTURE.
func ParseCaptureMode(s string) (CaptureMode, error) {
	switch m := CaptureMode(s); m {
	case CaptureAuto, CaptureDecoding, CaptureTriggers:
		return m, nil
	}
	return "", fmt.Errorf("%q is not auto, decoding or triggers", s)
}

// Captured says how each tracked table's writes reach the hub; a table in
// neither map is polled.
type Captured struct {
	// Decoded tables are in Publication: their writes come by logical
	// decoding, each named by these key columns.
	Decoded map[catalog.Name][]string
	// Notified tables' triggers announce their writes on Channel.
	Notified map[catalog.Name]bool
}

func (c Captured) decoded(name catalog.Name) bool {
	_, ok := c.Decoded[name]
	return ok
}

// Capture makes every tracked table's writes reach the hubs, whoever
// writes, and returns how.
//
// Logical decoding, where the database allows it (wal_level=logical, the
// role may replicate and owns the table): a table with a primary key goes
// in Publication, and each hub reads the writes from a slot of its own,
// which costs the writers nothing at commit. Elsewhere, a
// trigger: a table with a primary key gets a row trigger whose
// notification names the row's key (its function written for the table,
// so that no row is turned into JSON to find it), and a statement trigger
// for TRUNCATE; a table without one a statement trigger whose notification
// names only the table. A transaction that writes more than keyedRows rows
// announces the rest by the table alone: a bulk write costs a bounded
// number of notifications. Tables that can have neither (views, foreign
// tables, tables of another owner) are polled.
func Capture(ctx context.Context, pool *pgxpool.Pool, cat *tables.Catalogue, mode CaptureMode, logger *slog.Logger) (Captured, error) {
	captured := Captured{Decoded: map[catalog.Name][]string{}, Notified: map[catalog.Name]bool{}}
	decode := false
	if mode != CaptureTriggers {
		if reason := decodingUnavailable(ctx, pool); reason != "" {
			if mode == CaptureDecoding {
				return Captured{}, fmt.Errorf("live queries: LIVE_QUERIES_CAPTURE=decoding, but logical decoding is not available: %s", reason)
			}
			logger.Info("live queries: writes are announced by triggers, which cost writers at commit; logical decoding would not: " + reason)
		} else {
			decode = true
			logger.Info("live queries: writes are read by logical decoding", "publication", Publication)
		}
	}
	var polled []string
	for _, t := range cat.Tables {
		if decode {
			ok, err := publish(ctx, pool, t)
			if err != nil {
				return Captured{}, fmt.Errorf("live queries: publishing the changes of %s: %w", t.SQL, err)
			}
			if ok {
				for _, name := range t.PrimaryKey {
					col, _ := t.Column(name)
					captured.Decoded[t.SQL] = append(captured.Decoded[t.SQL], col.SQLName)
				}
				continue
			}
		}
		ok, err := capture(ctx, pool, t)
		if err != nil {
			return Captured{}, fmt.Errorf("live queries: capturing changes of %s: %w", t.SQL, err)
		}
		if ok {
			captured.Notified[t.SQL] = true
		} else {
			polled = append(polled, t.SQL.String())
		}
	}
	if len(polled) > 0 {
		logger.Info("live queries: changes of these tables cannot be captured; their subscriptions are polled", "tables", polled)
	}
	return captured, nil
}

// decodingUnavailable says why this database cannot give its writes by
// logical decoding ("" if it can), and creates Publication if it is not
// there.
func decodingUnavailable(ctx context.Context, pool *pgxpool.Pool) string {
	var walLevel string
	var replicates, canCreate, exists, owns bool
	var freeSlots int
	err := pool.QueryRow(ctx, `SELECT current_setting('wal_level'), r.rolreplication OR r.rolsuper,
			has_database_privilege(current_database(), 'CREATE'),
			p.oid IS NOT NULL, coalesce(pg_has_role(p.pubowner, 'USAGE'), false),
			current_setting('max_replication_slots')::int - (SELECT count(*) FROM pg_replication_slots)
		FROM pg_roles r LEFT JOIN pg_publication p ON p.pubname = $1
		WHERE r.rolname = current_user`, Publication).Scan(&walLevel, &replicates, &canCreate, &exists, &owns, &freeSlots)
	switch {
	case err != nil:
		return err.Error()
	case walLevel != "logical":
		return "wal_level is " + walLevel + ", not logical (a setting of the server, taken at its start)"
	case !replicates:
		return "the role has not the REPLICATION attribute"
	case exists && !owns:
		return "publication " + Publication + " belongs to another role"
	case !exists && !canCreate:
		return "the role may not create a publication in this database"
	case freeSlots <= 0:
		return "every replication slot is taken (max_replication_slots)"
	}
	conn, err := pgconn.ConnectConfig(ctx, replicationConfig(pool))
	if err != nil {
		return "a replication connection is refused: " + err.Error()
	}
	defer conn.Close(context.Background())
	if _, err := pglogrepl.IdentifySystem(ctx, conn); err != nil {
		return "a replication connection is refused: " + err.Error()
	}
	if !exists {
		created, err := alter(ctx, pool, []string{`CREATE PUBLICATION ` + Publication + ` WITH (publish_via_partition_root = true)`})
		if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42710" { // duplicate_object: another instance's
			created, err = true, nil
		}
		if err != nil {
			return "creating publication " + Publication + ": " + err.Error()
		}
		if !created {
			return "the role may not create a publication in this database"
		}
	}
	return ""
}

// publish puts t in Publication and takes its triggers off (its writes
// need no notification now); it reports false for a table that cannot be
// published — a view, a table of another owner, or a table PostgreSQL
// would refuse updates and deletes of once published: without a primary
// key (and so, by default, without a replica identity) or with REPLICA
// IDENTITY NOTHING — and takes such a table out of the publication if an
// earlier start put it there (its key since dropped). The whole row is
// published, not the key's columns only: a column list must cover the
// replica identity, so a later change of the key or of the identity would
// make PostgreSQL refuse the table's updates.
func publish(ctx context.Context, pool *pgxpool.Pool, t *tables.Table) (bool, error) {
	name := t.SQL
	var oid uint32
	var kind, identity string
	var owns bool
	var published *bool // nil: not in the publication; true: with a column list
	var triggers []string
	err := pool.QueryRow(ctx, `SELECT c.oid, c.relkind::text, c.relreplident::text, pg_has_role(c.relowner, 'USAGE'),
			(SELECT r.prattrs IS NOT NULL FROM pg_publication_rel r JOIN pg_publication p ON p.oid = r.prpubid WHERE p.pubname = $3 AND r.prrelid = c.oid),
			ARRAY(SELECT g.tgname::text FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname LIKE $4)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
		name.Schema, name.Table, Publication, triggerName+"%").Scan(&oid, &kind, &identity, &owns, &published, &triggers)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	tableSQL := (&sqlbuild.Builder{}).Ident(name.Schema).S(".").Ident(name.Table).SQL()
	var statements []string
	if published != nil && (*published || len(t.PrimaryKey) == 0 || identity == "n") {
		statements = append(statements, "ALTER PUBLICATION "+Publication+" DROP TABLE "+tableSQL)
		published = nil
	}
	if kind != "r" && kind != "p" || len(t.PrimaryKey) == 0 || identity == "n" || !owns {
		if len(statements) > 0 && owns {
			if _, err := alter(ctx, pool, statements); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	if published == nil {
		statements = append(statements, "ALTER PUBLICATION "+Publication+" ADD TABLE "+tableSQL)
	}
	for _, trigger := range triggers {
		statements = append(statements, "DROP TRIGGER "+ident(trigger)+" ON "+tableSQL)
	}
	if len(triggers) > 0 {
		statements = append(statements, fmt.Sprintf("DROP FUNCTION IF EXISTS freshgraph_changes_%d()", oid))
	}
	if len(statements) == 0 {
		return true, nil
	}
	return alter(ctx, pool, statements)
}

// alter runs statements in one transaction, one instance at a time; it
// reports false if the role may not.
func alter(ctx context.Context, pool *pgxpool.Pool, statements []string) (bool, error) {
	err := withCaptureLock(ctx, pool, func(tx pgx.Tx) error {
		for _, sql := range statements {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		return nil
	})
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42501" { // insufficient_privilege
		return false, nil
	}
	return err == nil, err
}

// withCaptureLock runs f in a transaction holding captureLock.
func withCaptureLock(ctx context.Context, pool *pgxpool.Pool, f func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(captureLock)); err != nil {
			return err
		}
		return f(tx)
	})
}

// keyedRows is how many rows of one transaction are announced by key.
const keyedRows = 100

func capture(ctx context.Context, pool *pgxpool.Pool, t *tables.Table) (bool, error) {
	name := t.SQL
	var oid uint32
	var kind string
	var triggers map[string]string // trigger → its function
	err := pool.QueryRow(ctx, `SELECT c.oid, c.relkind::text,
			coalesce((SELECT jsonb_object_agg(g.tgname, g.tgfoid::regproc::text) FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname LIKE $3), '{}')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
		name.Schema, name.Table, triggerName+"%").Scan(&oid, &kind, &triggers)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if kind != "r" && kind != "p" {
		return false, nil
	}
	table := func(b *sqlbuild.Builder) *sqlbuild.Builder { return b.Ident(name.Schema).S(".").Ident(name.Table) }
	var statements []string
	want := map[string]string{}
	if len(t.PrimaryKey) == 0 {
		b := &sqlbuild.Builder{}
		table(b.S("CREATE OR REPLACE TRIGGER " + triggerName + " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ")).
			S(" FOR EACH STATEMENT EXECUTE FUNCTION freshgraph_notify_change()")
		statements = append(statements, b.SQL())
		want[triggerName] = "freshgraph_notify_change"
	} else {
		function := fmt.Sprintf("freshgraph_changes_%d", oid)
		statements = append(statements, rowFunction(function, t))
		b := &sqlbuild.Builder{}
		table(b.S("CREATE OR REPLACE TRIGGER " + triggerName + " AFTER INSERT OR UPDATE OR DELETE ON ")).
			S(" FOR EACH ROW EXECUTE FUNCTION " + function + "()")
		statements = append(statements, b.SQL())
		b = &sqlbuild.Builder{}
		table(b.S("CREATE OR REPLACE TRIGGER " + triggerName + "_truncate AFTER TRUNCATE ON ")).
			S(" FOR EACH STATEMENT EXECUTE FUNCTION freshgraph_notify_change()")
		statements = append(statements, b.SQL())
		want[triggerName] = function
		want[triggerName+"_truncate"] = "freshgraph_notify_change"
	}
	if maps.Equal(triggers, want) {
		// The triggers are there (CREATE TRIGGER locks the table against
		// writes); the function is written again, which locks nothing.
		if len(t.PrimaryKey) == 0 {
			return true, nil
		}
		statements = statements[:len(statements)-2]
	}
	for trigger := range triggers {
		if _, ok := want[trigger]; !ok { // a row trigger's, the key since dropped
			statements = append(statements, table((&sqlbuild.Builder{}).S("DROP TRIGGER "+ident(trigger)+" ON ")).SQL())
		}
	}
	return alter(ctx, pool, statements)
}

// rowFunction is the trigger function of t, a table with a primary key:
// it announces ["schema", "table", key...] for each row written (the old
// and the new key of an update that changes it), and ["schema", "table"]
// past keyedRows rows of the transaction.
func rowFunction(function string, t *tables.Table) string {
	prefix, _ := json.Marshal([]string{t.SQL.Schema, t.SQL.Table})
	table := quote(string(prefix[:len(prefix)-1])) // ["schema","table"
	key := func(row string) string {
		var parts []string
		for _, name := range t.PrimaryKey {
			col, _ := t.Column(name)
			parts = append(parts, "to_json("+row+"."+ident(col.SQLName)+"::text)::text")
		}
		return table + " || ',' || " + strings.Join(parts, " || ',' || ") + " || ']'"
	}
	var newKey, oldKey []string
	for _, name := range t.PrimaryKey {
		col, _ := t.Column(name)
		newKey = append(newKey, "NEW."+ident(col.SQLName))
		oldKey = append(oldKey, "OLD."+ident(col.SQLName))
	}
	// A key's text must be what freshgraph's sessions read back (the
	// probe) and write (the keys of an answer), not what the writer's
	// session would make of a date, a time, a float: such a key is
	// rendered under the settings of the session that writes the function,
	// freshgraph's own (FROM CURRENT). Other keys skip the settings' cost.
	settings := ""
	for _, name := range t.PrimaryKey {
		if col, _ := t.Column(name); !renderedAlike(col.Type.SQL) {
			settings = ` SET TimeZone FROM CURRENT SET DateStyle FROM CURRENT SET IntervalStyle FROM CURRENT
    SET extra_float_digits FROM CURRENT SET bytea_output FROM CURRENT SET lc_monetary FROM CURRENT`
		}
	}
	// Assignments, not PERFORM: PL/pgSQL evaluates an assignment's
	// expression directly, where PERFORM runs a query (half the trigger's
	// cost per row, measured).
	return `CREATE OR REPLACE FUNCTION ` + function + `() RETURNS trigger LANGUAGE plpgsql` + settings + ` AS $freshgraph$
DECLARE
    n int := coalesce(nullif(current_setting('freshgraph.changed_rows', true), ''), '0')::int + 1;
    done text;
BEGIN
    done := set_config('freshgraph.changed_rows', n::text, true);
    IF n > ` + fmt.Sprint(keyedRows) + ` THEN
        done := pg_notify('` + Channel + `', ` + table + ` || ']')::text;
        RETURN NULL;
    END IF;
    IF TG_OP <> 'INSERT' THEN
        done := pg_notify('` + Channel + `', ` + key("OLD") + `)::text;
    END IF;
    IF TG_OP = 'INSERT' OR TG_OP = 'UPDATE' AND (` + strings.Join(newKey, ", ") + `) IS DISTINCT FROM (` + strings.Join(oldKey, ", ") + `) THEN
        done := pg_notify('` + Channel + `', ` + key("NEW") + `)::text;
    END IF;
    RETURN NULL;
END
$freshgraph$`
}

// renderedAlike reports whether values of the type sql (format_type's
// name) have the same text in every session: not a date or time, an
// interval, a float, money or bytea, whose text follows the session's
// settings.
func renderedAlike(sql string) bool {
	base, _, _ := strings.Cut(sql, "(")
	switch strings.TrimPrefix(strings.TrimSpace(base), "public.") {
	case "text", "character varying", "character", "citext", "uuid", "smallint", "integer", "bigint", "numeric", "boolean", "name", "oid":
		return true
	}
	return false
}

// quote is s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident is s as a quoted SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
