// Package catalog reads from pg_catalog what the server needs to know of
// the tables it serves: their columns and types, primary keys, unique and
// foreign key constraints, and the rows of enum tables. Nothing of it is
// written by hand: a table made by a migration, by another tool or in psql
// is read the same way.
package catalog

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/freshgraph/freshgraph/internal/database"
)

// Name is a schema-qualified table name.
type Name struct{ Schema, Table string }

func (n Name) String() string { return n.Schema + "." + n.Table }

// Hasura is n as Hasura's messages print it: its name in schema public,
// else schema.name.
func (n Name) Hasura() string {
	if n.Schema == "public" {
		return n.Table
	}
	return n.String()
}

// Column is one column of a table.
type Column struct {
	Name string
	// Type is PostgreSQL's name of its type (pg_type.typname: int4, text,
	// _text for an array of text, or a user-defined type's name).
	Type string
	// Kind is the type's pg_type.typtype: b (base), e (enum), d (domain),
	// c (composite), r (range).
	Kind string
	// Element is the element type of an array column, else "";
	// ElementKind its pg_type.typtype.
	Element     string
	ElementKind string
	// Cast is the type as SQL names it in a cast (format_type: integer,
	// character varying, information_schema.sql_identifier[], "Mood"),
	// qualified where the search path does not find it, without a
	// length or precision, which a cast would apply (bpchar, not
	// character, which is char(1)).
	Cast string
	// Relation is the table whose row type a composite type is (a
	// function's argument's), else zero.
	Relation   Name
	Nullable   bool
	HasDefault bool // a default, an identity or a generated column
	Generated  bool // GENERATED ALWAYS AS (…) STORED: never written
	Comment    string
}

// Scalar is the GraphQL scalar Hasura gives the column's type, or for an
// array column its element's type, which the API lists ([Int!]) as late
// Hasura v2 does (Hasura.Backends.Postgres.SQL.Types: mkScalarTypeName and
// pgScalarTranslations): Int, Float, String and Boolean for the types
// GraphQL has, PostgreSQL's own name for the others.
func (c Column) Scalar() string {
	if c.Element != "" {
		return scalarName(c.Element)
	}
	return scalarName(c.Type)
}

func scalarName(typname string) string {
	switch typname {
	case "int4":
		return "Int"
	case "float4":
		return "Float"
	case "text", "varchar":
		return "String"
	case "bool":
		return "Boolean"
	case "int2":
		return "smallint"
	case "int8":
		return "bigint"
	}
	return typname
}

// Constraint is a primary key, unique or foreign key constraint.
type Constraint struct {
	Name    string
	Columns []string
	// References and ReferencedColumns are set for a foreign key.
	References        Name
	ReferencedColumns []string
}

// Table is one table, view or materialized view.
type Table struct {
	Name Name
	// Kind is pg_class.relkind: r (table), p (partitioned), v (view),
	// m (materialized view), f (foreign table).
	Kind        string
	Columns     []Column
	PrimaryKey  *Constraint
	Uniques     []Constraint // unique constraints, the primary key not among them
	ForeignKeys []Constraint
	Comment     string
	// Writes is what PostgreSQL lets a statement do to it, as
	// pg_relation_is_updatable counts a view's (INSTEAD OF triggers
	// included): a bit mask of 4 (UPDATE), 8 (INSERT) and 16 (DELETE).
	Writes int
}

// The bits of Table.Writes.
const (
	WritesUpdate = 4
	WritesInsert = 8
	WritesDelete = 16
)

// Column finds a column by name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// readByNames runs sql, a query of the catalogue answering one JSON value,
// with names as its two arrays: their schemas ($1) and their names ($2).
func readByNames(ctx context.Context, db database.Conn, sql string, names []Name) ([]byte, error) {
	schemas, objects := make([]string, len(names)), make([]string, len(names))
	for i, n := range names {
		schemas[i], objects[i] = n.Schema, n.Table
	}
	var raw []byte
	err := db.QueryRow(ctx, sql, schemas, objects).Scan(&raw)
	return raw, err
}

// Read reads the tables named; those that do not exist are not in the map.
func Read(ctx context.Context, db database.Conn, names []Name) (map[Name]*Table, error) {
	raw, err := readByNames(ctx, db, readSQL, names)
	if err != nil {
		return nil, fmt.Errorf("read the catalogue: %w", err)
	}
	return decode(raw)
}

// readSQL returns the tables as one JSON value: one round trip however many
// tables there are.
const readSQL = `
WITH wanted AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, obj_description(c.oid, 'pg_class') AS comment
    FROM unnest($1::text[], $2::text[]) AS w(schema_name, table_name)
    JOIN pg_namespace n ON n.nspname = w.schema_name
    JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = w.table_name AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
)
SELECT coalesce(json_agg(json_build_object(
    'schema', w.nspname, 'table', w.relname, 'kind', w.relkind, 'comment', coalesce(w.comment, ''),
    'writes', CASE WHEN w.relkind IN ('r', 'p') THEN 28 ELSE pg_relation_is_updatable(w.oid::regclass, true) END,
    'columns', (
        SELECT coalesce(json_agg(json_build_object(
            'name', a.attname, 'type', t.typname, 'kind', t.typtype,
            'element', coalesce(CASE WHEN t.typcategory = 'A' THEN e.typname END, ''),
            'element_kind', coalesce(CASE WHEN t.typcategory = 'A' THEN e.typtype END, ''),
            -- bpchar's own name: format_type's "character" means char(1) in a cast
            'cast', CASE WHEN t.typname = 'bpchar' THEN 'bpchar' WHEN t.typcategory = 'A' AND e.typname = 'bpchar' THEN 'bpchar[]'
                ELSE format_type(a.atttypid, NULL) END,
            'nullable', NOT a.attnotnull,
            'has_default', a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '',
            'generated', a.attgenerated <> '',
            'comment', coalesce(col_description(w.oid, a.attnum), '')
        ) ORDER BY a.attnum), '[]')
        FROM pg_attribute a
        JOIN pg_type t ON t.oid = a.atttypid
        LEFT JOIN pg_type e ON e.oid = t.typelem
        WHERE a.attrelid = w.oid AND a.attnum > 0 AND NOT a.attisdropped
    ),
    'constraints', (
        SELECT coalesce(json_agg(json_build_object(
            'name', con.conname, 'type', con.contype,
            'columns', (SELECT json_agg(a.attname ORDER BY k.i) FROM unnest(con.conkey) WITH ORDINALITY k(num, i)
                JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num),
            'ref_schema', coalesce(fn.nspname, ''), 'ref_table', coalesce(fc.relname, ''),
            'ref_columns', coalesce((SELECT json_agg(a.attname ORDER BY k.i) FROM unnest(con.confkey) WITH ORDINALITY k(num, i)
                JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num), '[]')
        ) ORDER BY con.conname), '[]')
        FROM pg_constraint con
        LEFT JOIN pg_class fc ON fc.oid = con.confrelid
        LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
        WHERE con.conrelid = w.oid AND con.contype IN ('p', 'u', 'f')
    )
)), '[]')
FROM wanted w`

// EnumValue is one row of an enum table: its value and its description.
type EnumValue struct {
	Value   string
	Comment string
}

// EnumValues reads the rows of the enum table t, whose primary key column
// is the value and whose other column, if any, the description.
func EnumValues(ctx context.Context, db database.Conn, t *Table, value, comment string) ([]EnumValue, error) {
	description := "NULL"
	if comment != "" {
		description = ident(comment)
	}
	rows, err := db.Query(ctx, fmt.Sprintf(`SELECT %s::text, %s::text FROM %s ORDER BY 1`, ident(value), description, qualified(t.Name)))
	if err != nil {
		return nil, fmt.Errorf("read the values of enum table %s: %w", t.Name, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (EnumValue, error) {
		var v EnumValue
		var c *string
		err := r.Scan(&v.Value, &c)
		if c != nil {
			v.Comment = *c
		}
		return v, err
	})
}

func ident(s string) string { return pgx.Identifier{s}.Sanitize() }

func qualified(n Name) string { return pgx.Identifier{n.Schema, n.Table}.Sanitize() }

func decode(raw []byte) (map[Name]*Table, error) {
	var rows []struct {
		Schema, Table, Kind, Comment string
		Writes                       int
		Columns                      []struct {
			Name, Type, Kind, Element, Comment, Cast string
			ElementKind                              string `json:"element_kind"`
			Nullable                                 bool
			HasDefault                               bool `json:"has_default"`
			Generated                                bool
		}
		Constraints []struct {
			Name, Type string
			RefSchema  string `json:"ref_schema"`
			RefTable   string `json:"ref_table"`
			Columns    []string
			RefColumns []string `json:"ref_columns"`
		}
	}
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("read the catalogue: %w", err)
	}
	tables := map[Name]*Table{}
	for _, r := range rows {
		t := &Table{Name: Name{r.Schema, r.Table}, Kind: r.Kind, Comment: r.Comment, Writes: r.Writes}
		for _, c := range r.Columns {
			t.Columns = append(t.Columns, Column{Name: c.Name, Type: c.Type, Kind: c.Kind, Element: c.Element,
				ElementKind: c.ElementKind, Cast: c.Cast, Nullable: c.Nullable, HasDefault: c.HasDefault, Generated: c.Generated, Comment: c.Comment})
		}
		for _, c := range r.Constraints {
			con := Constraint{Name: c.Name, Columns: c.Columns}
			switch c.Type {
			case "p":
				t.PrimaryKey = &con
			case "u":
				t.Uniques = append(t.Uniques, con)
			case "f":
				con.References = Name{c.RefSchema, c.RefTable}
				con.ReferencedColumns = c.RefColumns
				t.ForeignKeys = append(t.ForeignKeys, con)
			}
		}
		tables[t.Name] = t
	}
	return tables, nil
}
