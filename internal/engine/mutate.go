package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// Mutations write a data-modifying CTE, "m", whose RETURNING rows the answer
// is built from: {affected_rows, returning} for the plain fields, the one
// row (or null) for *_one and *_by_pk.

// mutationResult writes the SELECT over the CTE m for the field's selection.
// affected, if not -1, is the affected_rows already known (nested inserts,
// which count the related rows too); else it is the rows of m. check, if
// not nil, writes whether every row written passes the role's check: false
// if one does not.
func (c *compiler) mutationResult(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, single bool, path string, affected int64, check func(*sqlbuild.Builder) error) error {
	alias := c.alias()
	// Capped inside the statement: an answer over the response size limit
	// fails it, so nothing it wrote stays. So does a row that fails the
	// role's check: the CASE asks first.
	b.S("SELECT freshgraph_response_capped(")
	if check != nil {
		b.S("CASE WHEN freshgraph_permission_checked(")
		if err := check(b); err != nil {
			return err
		}
		b.S(") THEN ")
	}
	defer func() {
		if check != nil {
			b.S(" END")
		}
		b.S(", ").TypedArg(c.maxBytes, "bigint").S(")")
	}()
	if single {
		b.S("(SELECT ")
		if err := c.row(b, t, alias, f.SelectionSet, path); err != nil {
			return err
		}
		b.S(" FROM m " + alias + " LIMIT 1)")
		return nil
	}
	return c.object(b, f.SelectionSet, t.Name+"_mutation_response", path, func(b *sqlbuild.Builder, name string, rf *ast.Field, p string) error {
		switch name {
		case "affected_rows":
			if affected >= 0 {
				b.TypedArg(affected, "integer")
			} else {
				b.S("(SELECT count(*) FROM m)")
			}
			return nil
		case "returning":
			b.S("(SELECT coalesce(json_agg(")
			if err := c.row(b, t, alias, rf.SelectionSet, p); err != nil {
				return err
			}
			b.S("), '[]'::json) FROM m " + alias + ")")
			return nil
		}
		return notFound(p, name, t.Name+"_mutation_response")
	})
}

// insertArgs reads the objects of insert_<t> or insert_<t>_one, each with
// its path for errors, and whether any carries rows of a related table.
func (c *compiler) insertArgs(t *tables.Table, f *ast.Field, one bool, path string) (objects []map[string]any, paths []string, nested bool, err error) {
	argName := "objects"
	if one {
		argName = "object"
	}
	p := path + ".args." + argName
	for i, o := range list(c.args(f)[argName]) {
		op := p
		if !one {
			op = fmt.Sprintf("%s[%d]", p, i)
		}
		m, err := object(o, op, t.Name+"_insert_input")
		if err != nil {
			return nil, nil, false, err
		}
		m = c.withoutNullRelationships(t, m)
		for k := range m {
			if _, ok := c.insertsThrough(t, k); ok {
				nested = true
			}
		}
		objects, paths = append(objects, m), append(paths, op)
	}
	return objects, paths, nested, nil
}

// withoutNullRelationships is the insert object o of t without the
// relationships it gives null: no related row, as Hasura reads a null
// relationship insert (an optional, nullable field).
func (c *compiler) withoutNullRelationships(t *tables.Table, o map[string]any) map[string]any {
	out := o
	for k, v := range o {
		if _, ok := c.insertsThrough(t, k); ok && v == nil {
			if len(out) == len(o) {
				out = maps.Clone(o) // the request's own is left as it is
			}
			delete(out, k)
		}
	}
	return out
}

// insert answers insert_<t>(objects, on_conflict) and insert_<t>_one(object,
// on_conflict) without nested rows: one INSERT, DEFAULT where an object
// leaves a column out.
func (c *compiler) insert(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, one bool, objects []map[string]any, paths []string, path string) error {
	if len(objects) == 0 {
		// Nothing to insert: Hasura answers with no rows.
		tableName(b.S("WITH m AS (SELECT * FROM "), t).S(" WHERE false) ")
		return c.mutationResult(b, t, f, one, path, -1, nil)
	}
	b.S("WITH m AS (")
	checked, err := c.writeInsert(b, t, objects, paths, nil, c.args(f)["on_conflict"], path+".args.on_conflict", returnCheck)
	if err != nil {
		return err
	}
	b.S(") ")
	return c.mutationResult(b, t, f, one, path, -1, checkedRows(checked))
}

// insertNested answers an insert whose objects carry rows of related tables,
// at any depth, in two statements however many rows: the first writes
// everything — per row a chain of CTEs: the rows of its object
// relationships (their keys fill its foreign keys), the row, the rows of its
// array relationships (its key fills theirs), each of those the same way —
// and returns the new keys; the second reads the answer, so that it sees the
// related rows the first one wrote.
func (c *compiler) insertNested(ctx context.Context, db database.Conn, t *tables.Table, f *ast.Field, one bool,
	objects []map[string]any, paths []string, path string) ([]byte, error) {
	if len(t.PrimaryKey) != 1 {
		return nil, invalid(path, "nested inserts need a single-column primary key")
	}
	pkCol, _ := t.Column(t.PrimaryKey[0])
	pk := pkCol.SQLName
	onConflict := c.args(f)["on_conflict"]
	// Two statements, the write and the read of its answer: one transaction,
	// so that an answer refused (over the response size limit) writes nothing.
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, databaseError(err, "")
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	db = tx
	w := &nestedWrite{c: c}
	w.b.S("WITH ")
	for i, o := range objects {
		if err := w.row(t, o, paths[i], nil, onConflict, path+".args.on_conflict", fmt.Sprintf("p%d", i)); err != nil {
			return nil, err
		}
	}
	b := &w.b
	b.S("m AS (")
	for i := range objects {
		if i > 0 {
			b.S(" UNION ALL ")
		}
		b.S(fmt.Sprintf("SELECT * FROM p%d", i))
	}
	b.S(") SELECT (SELECT count(*) FROM m)")
	for _, n := range w.counted {
		b.S(" + (SELECT count(*) FROM " + n + ")")
	}
	b.S(", coalesce((SELECT array_agg(").Ident(pk).S("::text) FROM m), '{}')")
	w.rowIDs(b)
	var affected int64
	var keys []string
	ids := make([][]string, len(w.checked))
	dest := []any{&affected, &keys}
	for i := range ids {
		dest = append(dest, &ids[i])
	}
	errPath := path + ".args.objects"
	if one {
		errPath = path + ".args.object"
	}
	if err := db.QueryRow(ctx, b.SQL(), b.Args()...).Scan(dest...); err != nil {
		return nil, databaseError(err, w.errorPath(err, errPath))
	}
	read := &sqlbuild.Builder{}
	tableName(read.S("WITH m AS (SELECT t0.* FROM "), t).S(" t0 JOIN unnest(").Arg(keys).S("::text[]) WITH ORDINALITY k(key, n) ON t0.").
		Ident(pk).S("::text = k.key ORDER BY k.n) ")
	if err := c.mutationResult(read, t, f, one, path, affected, w.check(ids)); err != nil {
		return nil, err
	}
	out, err := run(ctx, db, read, errPath)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, databaseError(err, "")
	}
	return out, nil
}

// nestedWrite is the statement of a nested insert being written: its CTEs,
// and those whose rows count in affected_rows besides the top-level ones.
type nestedWrite struct {
	c       *compiler
	b       sqlbuild.Builder
	counted []string
	ctes    int
	// written are the tables each CTE writes and Hasura's path of its
	// rows, for a database error's path.
	written []writtenRows
	// checked are the CTEs, by table, whose rows the role's insert check
	// is asked of once every row is written: a check may read rows of the
	// same insert (a comment's check reading its new post), which the
	// statement writing them cannot see.
	checked []checkedCTEs
}

type writtenRows struct {
	table *tables.Table
	path  string
}

// errorPath is where Hasura points a database error of the write: at the
// rows of the first CTE writing the table the error names (Hasura inserts
// a nested insert's levels one after another, under their paths), else at
// fallback.
func (w *nestedWrite) errorPath(err error, fallback string) string {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	if !ok || pgErr.TableName == "" {
		return fallback
	}
	for _, r := range w.written {
		if r.table.SQL.Table == pgErr.TableName && (pgErr.SchemaName == "" || r.table.SQL.Schema == pgErr.SchemaName) {
			return r.path
		}
	}
	return fallback
}

type checkedCTEs struct {
	table *tables.Table
	names []string
}

// insert writes "name AS (INSERT … RETURNING …), " for rows of t, whose
// path (Hasura's, for errors) is at.
func (w *nestedWrite) insert(name string, t *tables.Table, rows []map[string]any, paths []string, at string,
	fks map[string]func(*sqlbuild.Builder), onConflict any, conflictPath string) error {
	w.written = append(w.written, writtenRows{table: t, path: at})
	w.b.S(name + " AS (")
	checked, err := w.c.writeInsert(&w.b, t, rows, paths, fks, onConflict, conflictPath, returnRowID)
	if err != nil {
		return err
	}
	w.b.S("), ")
	if !checked {
		return nil
	}
	for i := range w.checked {
		if w.checked[i].table == t {
			w.checked[i].names = append(w.checked[i].names, name)
			return nil
		}
	}
	w.checked = append(w.checked, checkedCTEs{table: t, names: []string{name}})
	return nil
}

// rowIDs writes, per checked table, the text[] of its rows' ctids.
func (w *nestedWrite) rowIDs(b *sqlbuild.Builder) {
	for _, ct := range w.checked {
		b.S(", ARRAY(")
		for i, n := range ct.names {
			if i > 0 {
				b.S(" UNION ALL ")
			}
			b.S("SELECT " + rowIDColumn + " FROM " + n)
		}
		b.S(")")
	}
}

// check is mutationResult's check for the rows written, found again by the
// ctids the write returned (ids, per checked table): false if one fails
// its table's insert check.
func (w *nestedWrite) check(ids [][]string) func(*sqlbuild.Builder) error {
	if len(w.checked) == 0 {
		return nil
	}
	c := w.c
	return func(b *sqlbuild.Builder) error {
		b.S("(")
		for i, ct := range w.checked {
			if i > 0 {
				b.S(" AND ")
			}
			alias := c.alias()
			b.S("(SELECT bool_and(coalesce(")
			if err := c.compile(b, c.view.Of(ct.table).Insert.Check, alias, alias); err != nil {
				return err
			}
			tableName(b.S(", false)) FROM "), ct.table).S(" "+alias+" WHERE "+alias+".ctid = ANY(").TypedArg(ids[i], "text[]").S("::tid[]))")
		}
		b.S(")")
		return nil
	}
}

func (w *nestedWrite) name() string {
	w.ctes++
	return fmt.Sprintf("n%d", w.ctes)
}

// row writes "name AS (INSERT … one row of t …), " preceded by the CTEs of
// its object relationships and followed by those of its array ones.
func (w *nestedWrite) row(t *tables.Table, o map[string]any, path string, fks map[string]func(*sqlbuild.Builder),
	onConflict any, conflictPath, name string) error {
	columns := map[string]any{}
	fks = maps.Clone(fks)
	if fks == nil {
		fks = map[string]func(*sqlbuild.Builder){}
	}
	var arrays []string
	for _, k := range sortedKeys(o) {
		rel, ok := w.c.insertsThrough(t, k)
		switch {
		case !ok:
			columns[k] = o[k]
		case rel.Array:
			arrays = append(arrays, k)
		default:
			if err := determinedByChild(t, rel, o, path+"."+k); err != nil {
				return err
			}
			child := w.name()
			if err := w.relationship(rel, o[k], child, nil, path+"."+k); err != nil {
				return err
			}
			for _, m := range rel.Mapping {
				fks[m.From] = func(b *sqlbuild.Builder) { b.S("(SELECT ").Ident(m.To).S(" FROM " + child + ")") }
			}
		}
	}
	if err := w.insert(name, t, []map[string]any{columns}, []string{path}, path, fks, onConflict, conflictPath); err != nil {
		return err
	}
	for _, k := range arrays {
		rel, _ := t.Relationship(k)
		fk := map[string]func(*sqlbuild.Builder){}
		for _, m := range rel.Mapping {
			fk[m.To] = func(b *sqlbuild.Builder) { b.S("(SELECT ").Ident(m.From).S(" FROM " + name + ")") }
		}
		if err := w.relationship(rel, o[k], w.name(), fk, path+"."+k); err != nil {
			return err
		}
	}
	return nil
}

// relationship writes the rows of an object ({data, on_conflict}) or array
// ({data: […], on_conflict}) relationship insert: in one CTE called name
// when none of them carries rows of its own relationships, else a chain per
// row.
func (w *nestedWrite) relationship(rel tables.Relationship, v any, name string,
	fks map[string]func(*sqlbuild.Builder), path string) error {
	target := rel.Target
	kind := "_obj_rel_insert_input"
	if rel.Array {
		kind = "_arr_rel_insert_input"
	}
	m, err := object(v, path, target.Name+kind)
	if err != nil {
		return err
	}
	var rows []map[string]any
	var paths []string
	deeper := false
	for i, d := range list(m["data"]) {
		dp := path + ".data"
		if rel.Array {
			dp = fmt.Sprintf("%s[%d]", dp, i)
		}
		row, err := object(d, dp, target.Name+"_insert_input")
		if err != nil {
			return err
		}
		row = w.c.withoutNullRelationships(target, row)
		for k := range row {
			_, isRel := w.c.insertsThrough(target, k)
			deeper = deeper || isRel
		}
		if err := determinedByParent(target, fks, row, dp); err != nil {
			return err
		}
		rows, paths = append(rows, row), append(paths, dp)
	}
	conflictPath := path + ".on_conflict"
	switch {
	case len(rows) == 0:
		tableName(w.b.S(name+" AS (SELECT * FROM "), target).S(" WHERE false), ")
	case !deeper:
		if err := w.insert(name, target, rows, paths, path+".data", fks, m["on_conflict"], conflictPath); err != nil {
			return err
		}
	default:
		// An object relationship's one row keeps the name its parent reads.
		for i, row := range rows {
			rowName := name
			if rel.Array {
				rowName = w.name()
			}
			if err := w.row(target, row, paths[i], fks, m["on_conflict"], conflictPath, rowName); err != nil {
				return err
			}
			if rel.Array {
				w.counted = append(w.counted, rowName)
			}
		}
		if rel.Array {
			return nil
		}
	}
	w.counted = append(w.counted, name)
	return nil
}

// determinedByChild refuses a row that sets the columns its object
// relationship rel's row determines, as Hasura does
// (Backends/Postgres/Execute/Insert.hs validateInsert): the client's value
// would be replaced.
func determinedByChild(t *tables.Table, rel tables.Relationship, row map[string]any, path string) error {
	var cols []string
	for _, m := range rel.Mapping {
		if col, ok := t.ColumnBySQL(m.From); ok {
			if _, set := row[col.Name]; set {
				cols = append(cols, strconv.Quote(m.From))
			}
		}
	}
	if len(cols) == 0 {
		return nil
	}
	return invalid(path, "cannot insert object relationship %q as %s column values are already determined", rel.Name, strings.Join(cols, ", "))
}

// determinedByParent refuses a row of an array relationship that sets the
// columns its parent row determines (fks, by SQL name), as Hasura does.
func determinedByParent(t *tables.Table, fks map[string]func(*sqlbuild.Builder), row map[string]any, path string) error {
	var cols []string
	for _, c := range t.Columns {
		if _, determined := fks[c.SQLName]; determined {
			if _, set := row[c.Name]; set {
				cols = append(cols, strconv.Quote(c.SQLName))
			}
		}
	}
	if len(cols) == 0 {
		return nil
	}
	return invalid(path, "cannot insert %s columns as their values are already being determined by parent insert", strings.Join(cols, ", "))
}

// checkColumn is the column a mutation's RETURNING adds when the role's
// permission has a check: whether the row passes it.
const checkColumn = "freshgraph_check"

// insertsThrough reports whether k is a relationship of t the role inserts
// related rows through.
func (c *compiler) insertsThrough(t *tables.Table, k string) (tables.Relationship, bool) {
	rel, ok := t.Relationship(k)
	if !ok || c.view.Of(rel.Target).Insert == nil {
		return tables.Relationship{}, false
	}
	return rel, true
}

// writeInsert writes INSERT INTO t AS t0 (…) VALUES (…), … [ON CONFLICT …]
// RETURNING t0.*: the union of the columns the objects name, in catalogue
// order, DEFAULT where an object leaves one out, the role's presets, and
// the foreign keys fks (SQL column names, written by the SQL they give)
// for nested inserts. returning says what the rows return besides
// themselves where the role's insert permission has a check; it reports
// whether there is one.
func (c *compiler) writeInsert(b *sqlbuild.Builder, t *tables.Table, objects []map[string]any, paths []string,
	fks map[string]func(*sqlbuild.Builder), onConflict any, conflictPath string, returning returning) (bool, error) {
	perm := c.view.Of(t).Insert
	if perm == nil {
		return false, invalid(paths[0], "no permission to insert into table '%s'", t.Name)
	}
	for i, o := range objects {
		for k := range o {
			if col, ok := t.Column(k); !ok || !c.view.Of(t).Inserts(k) || col.Generated {
				return false, notFound(paths[i]+"."+k, k, t.Name+"_insert_input")
			}
		}
	}
	var cols []tables.Column
	for _, col := range t.Columns {
		_, isFK := fks[col.SQLName]
		_, preset := perm.Set[col.Name]
		for _, o := range objects {
			if _, ok := o[col.Name]; ok || isFK || preset {
				cols = append(cols, col)
				break
			}
		}
	}
	tableName(b.S("INSERT INTO "), t).S(" AS t0 ")
	if len(cols) == 0 {
		if len(objects) > 1 {
			return false, invalid(paths[0], "rows that name no column can only be inserted one at a time")
		}
		b.S("DEFAULT VALUES")
	} else {
		b.S("(")
		for i, col := range cols {
			if i > 0 {
				b.S(", ")
			}
			b.Ident(col.SQLName)
		}
		b.S(") VALUES ")
		for i, o := range objects {
			if i > 0 {
				b.S(", ")
			}
			b.S("(")
			for j, col := range cols {
				if j > 0 {
					b.S(", ")
				}
				if fk, ok := fks[col.SQLName]; ok {
					fk(b)
					continue
				}
				if preset, ok := perm.Set[col.Name]; ok {
					if err := c.operand(b, col.Type, preset); err != nil {
						return false, err
					}
					continue
				}
				v, ok := o[col.Name]
				switch {
				case !ok:
					b.S("DEFAULT")
				case v == nil:
					b.S("NULL")
				default:
					x, err := read(col.Type, v, paths[i]+"."+col.Name)
					if err != nil {
						return false, err
					}
					bind(b, x, col.Type)
				}
			}
			b.S(")")
		}
	}
	if onConflict != nil {
		if err := c.onConflict(b, t, onConflict, conflictPath); err != nil {
			return false, err
		}
	}
	b.S(" RETURNING t0.*")
	if tables.IsTrue(perm.Check) {
		return false, nil
	}
	switch returning {
	case returnCheck:
		return true, c.checkOf(b, t, "t0", perm.Check)
	case returnRowID:
		b.S(", t0.ctid::text AS " + rowIDColumn)
		return true, nil
	}
	return false, nil
}

// returning is what writeInsert's RETURNING adds to the rows.
type returning int

const (
	returnRows  returning = iota // the rows only
	returnCheck                  // whether each passes the role's check (checkColumn)
	returnRowID                  // the ctid of each, for a check asked later (rowIDColumn)
)

// rowIDColumn is the column of a nested insert's RETURNING that names a
// row written, where the role's insert check is asked once every row of
// the insert is there (checkedLater).
const rowIDColumn = "freshgraph_row"

// checkOf writes ", <the check exp> AS checkColumn" for RETURNING: a check
// that is NULL fails, as Hasura's CASE WHEN <check> THEN … ELSE <violation>
// does.
func (c *compiler) checkOf(b *sqlbuild.Builder, t *tables.Table, alias string, check tables.BoolExp) error {
	b.S(", coalesce(")
	if err := c.compile(b, check, alias, alias); err != nil {
		return err
	}
	b.S(", false) AS " + checkColumn)
	return nil
}

// checkedRows is mutationResult's check over the rows of m when they
// carry checkColumn, else nil.
func checkedRows(checked bool) func(*sqlbuild.Builder) error {
	if !checked {
		return nil
	}
	return func(b *sqlbuild.Builder) error {
		b.S("(SELECT bool_and(m." + checkColumn + ") FROM m)")
		return nil
	}
}

// onConflict writes ON CONFLICT ON CONSTRAINT … DO UPDATE SET … [WHERE …],
// or DO NOTHING when update_columns is empty ("ignore the request"). The
// rows it updates are those the role's update filter allows.
func (c *compiler) onConflict(b *sqlbuild.Builder, t *tables.Table, v any, path string) error {
	m, err := object(v, path, t.Name+"_on_conflict")
	if err != nil {
		return err
	}
	perm := c.view.Of(t).Update
	if perm == nil {
		return notFound(path, "on_conflict", t.Name+"_insert_input")
	}
	name, _ := enumValue(m["constraint"])
	constraint, ok := t.Constraint(name)
	if !ok {
		return invalid(path+".constraint", "unexpected value '%s' for enum: '%s_constraint'", name, t.Name)
	}
	update, err := stringsOf(m["update_columns"], path+".update_columns")
	if err != nil {
		return err
	}
	b.S(" ON CONFLICT ON CONSTRAINT ").Ident(constraint.Name)
	if len(update) == 0 {
		b.S(" DO NOTHING")
		return nil
	}
	b.S(" DO UPDATE SET ")
	for i, name := range update {
		col, ok := t.Column(name)
		if !ok || !c.view.Of(t).Updates(name) {
			return notFound(path+".update_columns", name, t.Name+"_update_column")
		}
		if i > 0 {
			b.S(", ")
		}
		b.Ident(col.SQLName).S(" = EXCLUDED.").Ident(col.SQLName)
	}
	b.S(" WHERE true")
	if err := c.permissionFilter(b, t, perm.Filter, "t0"); err != nil {
		return err
	}
	if w, ok := m["where"]; ok && w != nil {
		where, err := c.where(t, w, path+".where")
		if err != nil {
			return err
		}
		return c.permissionFilter(b, t, where, "t0")
	}
	return nil
}

// updateOperators are Hasura's update operators, in its order
// (Backends/Postgres/Instances/Schema.hs pgkParseUpdateOperators).
var updateOperators = []string{"_set", "_inc", "_prepend", "_append", "_delete_key", "_delete_elem", "_delete_at_path"}

// assignment is one column an update sets, and how.
type assignment struct {
	col   tables.Column
	op    string
	value tables.Value
}

// assignments reads an update's operators, each an object of columns:
// what the role may set with each (tables.UpdateOperatorApplies), every value read
// as the type the operator takes. A column named by two operators is
// Hasura's error; none named at all is an update of nothing.
func (c *compiler) assignments(t *tables.Table, args map[string]any, path string) ([]assignment, error) {
	var out []assignment
	by := map[string][]string{}
	for _, op := range updateOperators {
		v, ok := args[op]
		if !ok || v == nil {
			continue
		}
		typ := t.Name + op + "_input"
		m, err := object(v, path+"."+op, typ)
		if err != nil {
			return nil, err
		}
		for _, k := range sortedKeys(m) {
			p := path + "." + op + "." + k
			col, ok := t.Column(k)
			if !ok || !c.view.Of(t).Updates(k) || col.Generated || !tables.UpdateOperatorApplies(op, col.Type) {
				return nil, notFound(p, k, typ)
			}
			a := assignment{col: col, op: op}
			valueType := tables.UpdateOperandType(op, col.Type)
			switch {
			case m[k] == nil && (op == "_set" || op == "_inc"):
				a.value = tables.Value{Null: true}
			case op == "_delete_at_path":
				if m[k] == nil {
					return nil, invalid(p, "unexpected null value for type '[String!]'")
				}
				a.value.IsItems = true
				for i, key := range list(m[k]) {
					v, err := read(tables.String, key, fmt.Sprintf("%s[%d]", p, i))
					if err != nil {
						return nil, err
					}
					a.value.Items = append(a.value.Items, v.Text)
				}
			default:
				if a.value, err = read(valueType, m[k], p); err != nil {
					return nil, err
				}
			}
			by[col.SQLName] = append(by[col.SQLName], op)
			out = append(out, a)
		}
	}
	var twice []string
	for _, col := range t.Columns { // in the table's order, as Hasura's fixture has them
		if len(by[col.SQLName]) > 1 {
			twice = append(twice, "'"+col.SQLName+"'")
		}
	}
	if len(twice) > 0 {
		return nil, invalid(path, "Column found in multiple operators: [%s].", strings.Join(twice, ", "))
	}
	return out, nil
}

// setClause writes SET col = value, … for the assignments and the role's
// update presets.
func (c *compiler) setClause(b *sqlbuild.Builder, t *tables.Table, assignments []assignment) error {
	perm := c.view.Of(t).Update
	b.S(" SET ")
	for i, a := range assignments {
		if i > 0 {
			b.S(", ")
		}
		b.Ident(a.col.SQLName).S(" = ")
		typ := tables.UpdateOperandType(a.op, a.col.Type)
		switch a.op {
		case "_set":
			bind(b, a.value, typ)
		case "_inc":
			b.Col("t0", a.col.SQLName).S(" + ")
			bind(b, a.value, typ)
		case "_prepend":
			bind(b, a.value, typ)
			b.S(" || ").Col("t0", a.col.SQLName)
		case "_append":
			b.Col("t0", a.col.SQLName).S(" || ")
			bind(b, a.value, typ)
		case "_delete_key", "_delete_elem":
			b.Col("t0", a.col.SQLName).S(" - ")
			bind(b, a.value, typ)
		case "_delete_at_path":
			b.Col("t0", a.col.SQLName).S(" #- ")
			bind(b, a.value, typ)
		}
	}
	for i, k := range sortedKeys(perm.Set) {
		if i > 0 || len(assignments) > 0 {
			b.S(", ")
		}
		col, _ := t.Column(k)
		b.Ident(col.SQLName).S(" = ")
		if err := c.operand(b, col.Type, perm.Set[k]); err != nil {
			return err
		}
	}
	return nil
}

// update answers update_<t>(operators, where) and update_<t>_by_pk(
// operators, pk_columns). The caller's update filter ANDs into the WHERE,
// so rows it may not change are simply not matched.
// path is the field's, argsPath its arguments' (an update_<t>_many's
// update's).
func (c *compiler) update(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, args map[string]any, byPK bool, path, argsPath string) error {
	p := argsPath
	perm := c.view.Of(t).Update
	if perm == nil {
		return invalid(path, "no permission to update table '%s'", t.Name)
	}
	assignments, err := c.assignments(t, args, p)
	if err != nil {
		return err
	}
	if len(assignments) == 0 && len(perm.Set) == 0 {
		// Hasura answers an update that sets nothing without running it
		// (IR.buildEmptyMutResp): no row is read or written, the one row of
		// _by_pk is {}.
		if byPK {
			b.S("SELECT '{}'::json")
			return nil
		}
		tableName(b.S("WITH m AS (SELECT * FROM "), t).S(" WHERE false) ")
		return c.mutationResult(b, t, f, false, path, -1, nil)
	}
	tableName(b.S("WITH m AS (UPDATE "), t).S(" AS t0")
	if err := c.setClause(b, t, assignments); err != nil {
		return err
	}
	b.S(" WHERE ")
	if byPK {
		pk, err := object(args["pk_columns"], p+".pk_columns", t.Name+"_pk_columns_input")
		if err != nil {
			return err
		}
		if err := c.pkFilter(b, t, "t0", pk, p+".pk_columns"); err != nil {
			return err
		}
	} else if err := c.requiredWhere(b, t, args, p); err != nil {
		return err
	}
	if err := c.permissionFilter(b, t, perm.Filter, "t0"); err != nil {
		return err
	}
	b.S(" RETURNING t0.*")
	checked := !tables.IsTrue(perm.Check)
	if checked {
		if err := c.checkOf(b, t, "t0", perm.Check); err != nil {
			return err
		}
	}
	b.S(") ")
	return c.mutationResult(b, t, f, byPK, path, -1, checkedRows(checked))
}

// permissionFilter ANDs a permission's filter on t over the row alias.
func (c *compiler) permissionFilter(b *sqlbuild.Builder, t *tables.Table, filter tables.BoolExp, alias string) error {
	if tables.IsTrue(filter) {
		return nil
	}
	b.S(" AND ")
	return c.compile(b, filter, alias, alias)
}

// updateMany answers update_<t>_many(updates): each update runs in turn, one
// statement each, and the answer is the list of their responses.
func (c *compiler) updateMany(ctx context.Context, db database.Conn, t *tables.Table, f *ast.Field, path string) ([]byte, error) {
	updates := list(c.args(f)["updates"])
	var out bytes.Buffer
	out.WriteByte('[')
	for i, u := range updates {
		p := fmt.Sprintf("%s.args.updates[%d]", path, i)
		m, err := object(u, p, t.Name+"_updates")
		if err != nil {
			return nil, err
		}
		b := &sqlbuild.Builder{}
		if err := c.update(b, t, f, m, false, path, p); err != nil {
			return nil, err
		}
		res, err := run(ctx, db, b, "")
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out.WriteByte(',')
		}
		out.Write(res)
	}
	out.WriteByte(']')
	return out.Bytes(), nil
}

// delete answers delete_<t>(where) and delete_<t>_by_pk(pk…).
func (c *compiler) delete(b *sqlbuild.Builder, t *tables.Table, f *ast.Field, byPK bool, path string) error {
	args := c.args(f)
	p := path + ".args"
	perm := c.view.Of(t).Delete
	if perm == nil {
		return invalid(path, "no permission to delete from table '%s'", t.Name)
	}
	tableName(b.S("WITH m AS (DELETE FROM "), t).S(" AS t0 WHERE ")
	if byPK {
		if err := c.pkFilter(b, t, "t0", args, p); err != nil {
			return err
		}
	} else if err := c.requiredWhere(b, t, args, p); err != nil {
		return err
	}
	if err := c.permissionFilter(b, t, perm.Filter, "t0"); err != nil {
		return err
	}
	b.S(" RETURNING t0.*) ")
	return c.mutationResult(b, t, f, byPK, path, -1, nil)
}

// requiredWhere writes the where argument that update_<t> and delete_<t>
// require (where: <t>_bool_exp!) over the row t0.
func (c *compiler) requiredWhere(b *sqlbuild.Builder, t *tables.Table, args map[string]any, path string) error {
	w, ok := args["where"]
	if !ok || w == nil {
		return invalid(path+".where", "unexpected null value for type '%s_bool_exp'", t.Name)
	}
	where, err := c.where(t, w, path+".where")
	if err != nil {
		return err
	}
	return c.compile(b, where, "t0", "t0")
}
