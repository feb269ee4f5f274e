// Package project resolves a Hasura project's metadata against the database
// it describes: every tracked table must exist, every column a permission,
// a preset or a name names must be one of its columns, every relationship
// must follow a foreign key or name columns on both sides, and an enum
// table must have the shape Hasura asks of one. The result, a Project, says
// for each table what the API is made of; metadata that does not fit the
// database stops the start, naming its file, rather than being served in
// part.
package project

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/metadata"
)

// Project is the metadata's tables, resolved.
type Project struct {
	Tables    []*Table
	Functions []*Function
}

// Table is one tracked table as the API serves it.
type Table struct {
	*catalog.Table
	Metadata *metadata.Table
	// GraphQLName is the name its types and root fields are made from:
	// custom_name, else the table's name, prefixed with its schema outside
	// public (Hasura's rule).
	GraphQLName string
	// ColumnNames maps a column to its name in the API.
	ColumnNames   map[string]string
	Relationships []Relationship
	// EnumValues are an enum table's rows.
	EnumValues []catalog.EnumValue
	// ComputedFields are its computed fields.
	ComputedFields []ComputedField
}

// Relationship is an object or array relationship, as the columns it joins.
type Relationship struct {
	Name   string
	Array  bool
	Target catalog.Name
	// ForeignKey is set when the relationship follows a foreign key of
	// this table (an object relationship that always finds its row when
	// the key's columns are not null).
	ForeignKey bool
	// Mapping pairs each column of this table with the target's column it
	// equals.
	Mapping []ColumnPair
}

// ColumnPair is one equality of a join.
type ColumnPair struct{ From, To string }

// Resolve reads the catalogue of md's tables from db and resolves md.
func Resolve(ctx context.Context, db database.Conn, md *metadata.Metadata) (*Project, error) {
	names := make([]catalog.Name, len(md.Tables))
	for i, t := range md.Tables {
		names[i] = catalog.Name{Schema: t.Table.Schema, Table: t.Table.Name}
	}
	tables, err := catalog.Read(ctx, db, names)
	if err != nil {
		return nil, err
	}
	p := &Project{}
	tracked := map[catalog.Name]*Table{}
	for i := range md.Tables {
		mt := &md.Tables[i]
		ct, ok := tables[names[i]]
		if !ok {
			return nil, fail(mt, "no such table/view exists in source: %q", names[i].String())
		}
		t := &Table{Table: ct, Metadata: mt, GraphQLName: graphQLName(names[i], mt.Configuration.CustomName)}
		tracked[names[i]] = t
		p.Tables = append(p.Tables, t)
	}
	for _, t := range p.Tables {
		if err := t.resolveColumns(); err != nil {
			return nil, err
		}
		if err := t.resolveRelationships(tracked); err != nil {
			return nil, err
		}
		if err := t.checkPermissions(); err != nil {
			return nil, err
		}
		if t.Metadata.IsEnum {
			if err := t.readEnum(ctx, db); err != nil {
				return nil, err
			}
		}
	}
	if err := p.resolveFunctions(ctx, db, md, tracked); err != nil {
		return nil, err
	}
	if err := p.resolveComputedFields(ctx, db, tracked); err != nil {
		return nil, err
	}
	return p, nil
}

func fail(t *metadata.Table, format string, args ...any) error {
	return &metadata.Error{File: t.File, Message: fmt.Sprintf(format, args...)}
}

func graphQLName(n catalog.Name, custom string) string {
	switch {
	case custom != "":
		return custom
	case n.Schema == "public":
		return n.Table
	}
	return n.Schema + "_" + n.Table
}

var graphQLNamePattern = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

func (t *Table) resolveColumns() error {
	if !graphQLNamePattern.MatchString(t.GraphQLName) {
		return fail(t.Metadata, "%q is not a valid GraphQL name: set configuration.custom_name", t.GraphQLName)
	}
	t.ColumnNames = map[string]string{}
	for _, c := range t.Columns {
		t.ColumnNames[c.Name] = c.Name
	}
	cfg := t.Metadata.Configuration
	renames := maps.Clone(cfg.CustomColumnNames)
	if renames == nil {
		renames = map[string]string{}
	}
	for column, cc := range cfg.ColumnConfig {
		if cc.CustomName != "" {
			renames[column] = cc.CustomName
		}
	}
	for _, column := range slices.Sorted(maps.Keys(renames)) {
		if err := t.hasColumn(column, "configuration"); err != nil {
			return err
		}
		t.ColumnNames[column] = renames[column]
	}
	seen := map[string]string{}
	for _, c := range t.Columns {
		name := t.ColumnNames[c.Name]
		if !graphQLNamePattern.MatchString(name) {
			return fail(t.Metadata, "column %q: %q is not a valid GraphQL name: give it a custom_name in configuration.column_config", c.Name, name)
		}
		if other, dup := seen[name]; dup {
			return fail(t.Metadata, "columns %q and %q are both called %q in the API", other, c.Name, name)
		}
		seen[name] = c.Name
	}
	for kind := range cfg.CustomRootFields {
		if !slices.Contains(rootFieldKinds, kind) {
			return fail(t.Metadata, "configuration.custom_root_fields: %q is not one of %v", kind, rootFieldKinds)
		}
	}
	return nil
}

// rootFieldKinds are the keys of custom_root_fields.
var rootFieldKinds = []string{"select", "select_by_pk", "select_aggregate", "select_stream", "insert", "insert_one",
	"update", "update_by_pk", "update_many", "delete", "delete_by_pk"}

func (t *Table) hasColumn(column, where string) error {
	if _, ok := t.Column(column); !ok {
		return fail(t.Metadata, "%s: column %q does not exist in table %s", where, column, t.Name)
	}
	return nil
}

func (t *Table) resolveRelationships(tracked map[catalog.Name]*Table) error {
	md := t.Metadata
	for i, r := range slices.Concat(md.ObjectRelationships, md.ArrayRelationships) {
		rel := Relationship{Name: r.Name, Array: i >= len(md.ObjectRelationships)}
		where := fmt.Sprintf("relationship %q", r.Name)
		if _, clash := t.Column(r.Name); clash {
			return fail(md, "%s: table %s has a column of that name", where, t.Name)
		}
		switch fk := r.Using.ForeignKeyConstraintOn; {
		case r.Using.ManualConfiguration != nil:
			m := r.Using.ManualConfiguration
			rel.Target = catalog.Name{Schema: m.RemoteTable.Schema, Table: m.RemoteTable.Name}
			target, ok := tracked[rel.Target]
			if !ok {
				return fail(md, "%s: table %s is not tracked", where, rel.Target)
			}
			for _, from := range slices.Sorted(maps.Keys(m.ColumnMapping)) {
				to := m.ColumnMapping[from]
				if err := t.hasColumn(from, where); err != nil {
					return err
				}
				if _, ok := target.Column(to); !ok {
					return fail(md, "%s: column %q does not exist in table %s", where, to, target.Name)
				}
				rel.Mapping = append(rel.Mapping, ColumnPair{From: from, To: to})
			}
			if len(rel.Mapping) == 0 {
				return fail(md, "%s: column_mapping is empty", where)
			}
		case fk.Table == nil: // the foreign key is this table's
			c, ok := findForeignKey(t.ForeignKeys, fk.Columns, nil)
			if !ok {
				return fail(md, "%s: no foreign key constraint exists on the column(s) %v of table %s", where, fk.Columns, t.Name)
			}
			rel.Target = c.References
			rel.ForeignKey = true
			for i, col := range c.Columns {
				rel.Mapping = append(rel.Mapping, ColumnPair{From: col, To: c.ReferencedColumns[i]})
			}
		default: // the foreign key is the other table's, pointing here
			rel.Target = catalog.Name{Schema: fk.Table.Schema, Table: fk.Table.Name}
			target, ok := tracked[rel.Target]
			if !ok {
				return fail(md, "%s: table %s is not tracked", where, rel.Target)
			}
			c, ok := findForeignKey(target.ForeignKeys, fk.Columns, &t.Name)
			if !ok {
				return fail(md, "%s: no foreign key constraint exists on the column(s) %v of table %s that references %s", where, fk.Columns, target.Name, t.Name)
			}
			for i, col := range c.Columns {
				rel.Mapping = append(rel.Mapping, ColumnPair{From: c.ReferencedColumns[i], To: col})
			}
		}
		if _, ok := tracked[rel.Target]; !ok {
			return fail(md, "%s: table %s is not tracked", where, rel.Target)
		}
		t.Relationships = append(t.Relationships, rel)
	}
	return nil
}

// findForeignKey finds the foreign key on exactly columns (in any order),
// referencing to if to is not nil.
func findForeignKey(fks []catalog.Constraint, columns []string, to *catalog.Name) (catalog.Constraint, bool) {
	want := slices.Sorted(slices.Values(columns))
	for _, c := range fks {
		if slices.Equal(slices.Sorted(slices.Values(c.Columns)), want) && (to == nil || c.References == *to) {
			return c, true
		}
	}
	return catalog.Constraint{}, false
}

func (t *Table) checkPermissions() error {
	md := t.Metadata
	columns := func(where string, c metadata.Columns) error {
		for _, name := range c.Names {
			if err := t.hasColumn(name, where); err != nil {
				return err
			}
		}
		return nil
	}
	presets := func(where string, set metadata.Expression) error {
		m, ok := set.Object()
		if !ok {
			return fail(md, "%s.set: column presets must be an object of columns and values", where)
		}
		for _, name := range slices.Sorted(maps.Keys(m)) {
			if err := t.hasColumn(name, where+".set"); err != nil {
				return err
			}
		}
		return nil
	}
	role := func(kind, role string) error {
		if role == "admin" {
			return fail(md, "%s: role admin has every permission already; none can be given to it", kind)
		}
		return nil
	}
	for _, p := range md.SelectPermissions {
		where := "select_permissions of role " + p.Role
		if err := role("select_permissions", p.Role); err != nil {
			return err
		}
		if err := columns(where, p.Permission.Columns); err != nil {
			return err
		}
		if l := p.Permission.Limit; l != nil && *l < 0 {
			return fail(md, "%s: limit must not be negative", where)
		}
	}
	// Inserts and updates name the columns they write and the presets they set.
	writes := func(kind, r string, c metadata.Columns, set metadata.Expression) error {
		where := kind + " of role " + r
		if err := role(kind, r); err != nil {
			return err
		}
		if err := columns(where, c); err != nil {
			return err
		}
		return presets(where, set)
	}
	for _, p := range md.InsertPermissions {
		if err := writes("insert_permissions", p.Role, p.Permission.Columns, p.Permission.Set); err != nil {
			return err
		}
	}
	for _, p := range md.UpdatePermissions {
		if err := writes("update_permissions", p.Role, p.Permission.Columns, p.Permission.Set); err != nil {
			return err
		}
	}
	for _, p := range md.DeletePermissions {
		if err := role("delete_permissions", p.Role); err != nil {
			return err
		}
	}
	return nil
}

// readEnum checks the shape Hasura asks of an enum table (a primary key of
// one text column, at most one other column, of text, for descriptions) and
// reads its rows, each of which must be a GraphQL enum value.
func (t *Table) readEnum(ctx context.Context, db database.Conn) error {
	md := t.Metadata
	bad := func(why string) error {
		return fail(md, "the table %s cannot be used as an enum table: %s", t.Name, why)
	}
	if t.PrimaryKey == nil || len(t.PrimaryKey.Columns) != 1 {
		return bad("its primary key must be a single column")
	}
	value, _ := t.Column(t.PrimaryKey.Columns[0])
	if value.Type != "text" {
		return bad(fmt.Sprintf("its primary key column %q must be of type text, not %s", value.Name, value.Type))
	}
	comment := ""
	for _, c := range t.Columns {
		if c.Name == value.Name {
			continue
		}
		if comment != "" || c.Type != "text" {
			return bad("besides its primary key it may have only one column, of type text, for descriptions")
		}
		comment = c.Name
	}
	values, err := catalog.EnumValues(ctx, db, t.Table, value.Name, comment)
	if err != nil {
		return err
	}
	if len(values) == 0 {
		return bad("it has no rows")
	}
	for _, v := range values {
		if !graphQLNamePattern.MatchString(v.Value) || v.Value == "true" || v.Value == "false" || v.Value == "null" {
			return bad(fmt.Sprintf("%q is not a valid GraphQL enum value", v.Value))
		}
	}
	t.EnumValues = values
	return nil
}
