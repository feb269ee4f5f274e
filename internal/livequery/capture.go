package livequery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"

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

// Capture puts the change triggers on every tracked table that can have
// them — a table or a partitioned table the server's role may put triggers
// on — and returns those they are on. The others (views, foreign tables,
// tables of another owner) are polled.
//
// A table with a primary key gets a row trigger whose notification names
// the row's key (its function written for the table, so that no row is
// turned into JSON to find it), and a statement trigger for TRUNCATE; a
// table without one a statement trigger whose notification names only the
// table. A transaction that writes more than keyedRows rows announces the
// rest by the table alone: a bulk write costs a bounded number of
// notifications.
func Capture(ctx context.Context, pool *pgxpool.Pool, cat *tables.Catalogue, logger *slog.Logger) (map[catalog.Name]bool, error) {
	captured := map[catalog.Name]bool{}
	var polled []string
	for _, t := range cat.Tables {
		ok, err := capture(ctx, pool, t)
		if err != nil {
			return nil, fmt.Errorf("live queries: capturing changes of %s: %w", t.SQL, err)
		}
		if ok {
			captured[t.SQL] = true
		} else {
			polled = append(polled, t.SQL.String())
		}
	}
	if len(polled) > 0 {
		logger.Info("live queries: changes of these tables cannot be captured; their subscriptions are polled", "tables", polled)
	}
	return captured, nil
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
		statements = statements[:len(statements)-2]
		if len(t.PrimaryKey) == 0 {
			return true, nil
		}
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(captureLock)); err != nil {
			return err
		}
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
	// Assignments, not PERFORM: PL/pgSQL evaluates an assignment's
	// expression directly, where PERFORM runs a query (half the trigger's
	// cost per row, measured).
	return `CREATE OR REPLACE FUNCTION ` + function + `() RETURNS trigger LANGUAGE plpgsql AS $freshgraph$
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

// quote is s as an SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident is s as a quoted SQL identifier.
func ident(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
