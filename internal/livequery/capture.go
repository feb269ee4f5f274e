package livequery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

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

// Capture puts the change trigger on every tracked table that can have
// one — a table or a partitioned table the server's role may put triggers
// on — and returns those it is on. The others (views, foreign tables,
// tables of another owner) are polled. A table that already has the
// trigger is left alone: CREATE TRIGGER locks the table against writes.
func Capture(ctx context.Context, pool *pgxpool.Pool, cat *tables.Catalogue, logger *slog.Logger) (map[catalog.Name]bool, error) {
	captured := map[catalog.Name]bool{}
	var polled []string
	for _, t := range cat.Tables {
		ok, err := capture(ctx, pool, t.SQL)
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

func capture(ctx context.Context, pool *pgxpool.Pool, name catalog.Name) (bool, error) {
	var kind string
	var has bool
	err := pool.QueryRow(ctx, `SELECT c.relkind::text, EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = c.oid AND g.tgname = $3)
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
		name.Schema, name.Table, triggerName).Scan(&kind, &has)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if kind != "r" && kind != "p" {
		return false, nil
	}
	if has {
		return true, nil
	}
	b := &sqlbuild.Builder{}
	b.S("CREATE OR REPLACE TRIGGER " + triggerName + " AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON ").
		Ident(name.Schema).S(".").Ident(name.Table).S(" FOR EACH STATEMENT EXECUTE FUNCTION freshgraph_notify_change()")
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(captureLock)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, b.SQL())
		return err
	})
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "42501" { // insufficient_privilege
		return false, nil
	}
	return err == nil, err
}
