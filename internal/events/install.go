package events

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// installLock serialises instances putting event triggers on tables.
const installLock = 7_230_411_903

// triggerPrefix starts the name of every PostgreSQL trigger Install puts
// on a table; with Hasura's 42 characters of a name and the operation it
// stays within PostgreSQL's 63.
const triggerPrefix = "freshgraph_et_"

// Install puts each event trigger on its table, one PostgreSQL trigger per
// operation, and takes off those of triggers the metadata no longer has.
// The columns the metadata names are checked against the catalogue.
func Install(ctx context.Context, pool *pgxpool.Pool, s *Service, catalogue *tables.Catalogue) error {
	var statements []string
	wanted := map[string]bool{}
	if s != nil {
		for _, key := range slices.Sorted(maps.Keys(s.targets)) {
			t := s.targets[key]
			if t.kind != kindEvent {
				continue
			}
			table, ok := catalogue.BySQL(catalog.Name{Schema: t.table.Schema, Table: t.table.Name})
			if !ok {
				return fmt.Errorf("event trigger %s: table %s is not tracked", t.name, t.table)
			}
			for _, op := range []struct {
				name string
				spec *metadata.OperationSpec
			}{{"INSERT", t.definition.Insert}, {"UPDATE", t.definition.Update}, {"DELETE", t.definition.Delete}} {
				if op.spec == nil {
					continue
				}
				sql, err := createTrigger(table, t.name, op.name, op.spec)
				if err != nil {
					return fmt.Errorf("event trigger %s: %w", t.name, err)
				}
				wanted[triggerPrefix+t.name+"_"+op.name] = true
				statements = append(statements, sql)
			}
		}
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", int64(installLock)); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT g.tgname::text, format('%I.%I', n.nspname, c.relname)
			FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE g.tgfoid = 'freshgraph_record_event'::regproc`)
		if err != nil {
			return err
		}
		stale, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (string, error) {
			var name, table string
			err := r.Scan(&name, &table)
			if wanted[name] {
				return "", err
			}
			return "DROP TRIGGER " + (&sqlbuild.Builder{}).Ident(name).SQL() + " ON " + table, err
		})
		if err != nil {
			return err
		}
		for _, sql := range slices.Concat(stale, statements) {
			if sql == "" {
				continue
			}
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("%s: %w", sql, err)
			}
		}
		return nil
	})
}

// createTrigger is the statement that puts trigger's operation op on
// table: the columns the event carries go as the function's argument, and
// an update fires only when one of the columns it listens to changed
// (compared as text, which every type has, or, for all columns, by the
// rows' bytes).
func createTrigger(table *tables.Table, trigger, op string, spec *metadata.OperationSpec) (string, error) {
	b := &sqlbuild.Builder{}
	b.S("CREATE OR REPLACE TRIGGER ").Ident(triggerPrefix + trigger + "_" + op).S(" AFTER " + op + " ON ").
		Ident(table.SQL.Schema).S(".").Ident(table.SQL.Table).S(" FOR EACH ROW ")
	if op == "UPDATE" {
		if spec.Columns.All {
			b.S("WHEN (OLD *<> NEW) ")
		} else {
			cols, err := sqlColumns(table, spec.Columns.Names)
			if err != nil {
				return "", fmt.Errorf("update columns: %w", err)
			}
			b.S("WHEN (")
			for i, c := range cols {
				if i > 0 {
					b.S(" OR ")
				}
				b.S("OLD.").Ident(c).S("::text IS DISTINCT FROM NEW.").Ident(c).S("::text")
			}
			b.S(") ")
		}
	}
	carried := "*"
	if spec.Payload != nil && !spec.Payload.All {
		cols, err := sqlColumns(table, spec.Payload.Names)
		if err != nil {
			return "", fmt.Errorf("payload columns: %w", err)
		}
		carried = sqlbuild.ArrayLiteral(cols)
	}
	b.S("EXECUTE FUNCTION freshgraph_record_event(").Literal(trigger).S(", ").Literal(carried).S(")")
	return b.SQL(), nil
}

// sqlColumns checks that names are columns of table.
func sqlColumns(table *tables.Table, names []string) ([]string, error) {
	for _, n := range names {
		if _, ok := table.ColumnBySQL(n); !ok {
			return nil, fmt.Errorf("%s has no column %q", table.SQL, n)
		}
	}
	return names, nil
}
