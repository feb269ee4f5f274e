package database

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// AppMigrations is a Hasura project's migrations directory, in the layout of
// Hasura's CLI (config v3): <source>/<version>_<name>/up.sql, the version a
// number (the CLI writes a millisecond timestamp). They run after
// freshgraph's own, in version order, each once: the versions applied are
// kept in freshgraph_app_migrations, whatever else changed the tables.
type AppMigrations struct {
	FS fs.FS
	// Dir names FS in messages.
	Dir string
	// Source is the database's name in the project (Hasura's "default").
	Source string
}

type appMigration struct {
	version int64
	name    string
	file    string
}

var migrationDir = regexp.MustCompile(`^([0-9]+)_(.+)$`)

// list reads the source's migrations, in version order.
func (a *AppMigrations) list() ([]appMigration, error) {
	entries, err := fs.ReadDir(a.FS, a.Source)
	if err != nil {
		return nil, fmt.Errorf("%s: the migrations of database %q are not there: %w", a.Dir, a.Source, err)
	}
	var list []appMigration
	for _, e := range entries {
		m := migrationDir.FindStringSubmatch(e.Name())
		if !e.IsDir() || m == nil {
			continue
		}
		version, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: the version is not a number", a.Dir, path.Join(a.Source, e.Name()))
		}
		file := path.Join(a.Source, e.Name(), "up.sql")
		if _, err := fs.Stat(a.FS, file); err != nil {
			if _, yaml := fs.Stat(a.FS, path.Join(a.Source, e.Name(), "up.yaml")); yaml == nil {
				return nil, fmt.Errorf("%s: %s: up.yaml migrations (Hasura config v1) are not supported; write the SQL in up.sql", a.Dir, path.Join(a.Source, e.Name()))
			}
			return nil, fmt.Errorf("%s: %s has no up.sql", a.Dir, path.Join(a.Source, e.Name()))
		}
		list = append(list, appMigration{version: version, name: m[2], file: file})
	}
	slices.SortStableFunc(list, func(a, b appMigration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(list); i++ {
		if list[i].version == list[i-1].version {
			return nil, fmt.Errorf("%s: %s and %s have the same version", a.Dir, list[i-1].file, list[i].file)
		}
	}
	return list, nil
}

// apply runs the migrations that have not run, on conn, which holds the
// migration lock. Each runs in a transaction with its record, so a failing
// one leaves the database as it was before it, and the start stops there.
func (a *AppMigrations) apply(ctx context.Context, conn *sql.Conn, logger *slog.Logger) error {
	list, err := a.list()
	if err != nil {
		return err
	}
	rows, err := conn.QueryContext(ctx, `SELECT version FROM freshgraph_app_migrations`)
	if err != nil {
		return err
	}
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return err
		}
		applied[v] = true
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return err
	}
	for _, m := range list {
		if applied[m.version] {
			continue
		}
		up, err := fs.ReadFile(a.FS, m.file)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := a.run(ctx, conn, m, string(up)); err != nil {
			return fmt.Errorf("apply %s: %w", path.Join(a.Dir, m.file), err)
		}
		logger.Info("applied app migration", "version", m.version, "name", m.name, "took", time.Since(start))
	}
	return nil
}

func (a *AppMigrations) run(ctx context.Context, conn *sql.Conn, m appMigration, up string) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	// With no arguments the statement goes by the simple protocol, which
	// takes a file of several statements.
	if _, err := tx.ExecContext(ctx, up); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO freshgraph_app_migrations (version, name) VALUES ($1, $2)`, m.version, m.name); err != nil {
		return err
	}
	return tx.Commit()
}
