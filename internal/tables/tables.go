// Package tables is the API's view of the tracked tables: what Hasura's
// generated API is made of, per table and per role. It is built at start
// (Build) from the metadata resolved against the database (internal/project)
// — freshgraph's own Auth.js tables and a project's alike — and nothing of
// it is written in Go. The schema of each role (WriteSDL) and the SQL the
// engine writes both come from it.
package tables

import (
	"slices"

	"github.com/freshgraph/freshgraph/internal/catalog"
)

// Column is a table column.
type Column struct {
	Name     string // in the API
	SQLName  string
	Type     Type
	Nullable bool
	// Generated columns are never written.
	Generated bool
	Comment   string
}

// Relationship is Hasura's relationship from one table to another: an object
// relationship (one row, e.g. sessions.user) or an array relationship (rows,
// e.g. users.sessions), joined on every pair of its Mapping.
type Relationship struct {
	Name    string
	Array   bool
	Target  *Table
	Mapping []ColumnPair // SQL names: From of this table, To of the target
	Comment string
	// followsKey: the relationship follows a foreign key of this table.
	followsKey bool
}

// ColumnPair is one equality of a join, in SQL column names.
type ColumnPair struct{ From, To string }

// Constraint is a unique or primary key constraint, usable in on_conflict.
type Constraint struct {
	Name    string   // SQL name, also the enum value
	Columns []string // SQL names
}

// Table is one tracked table.
type Table struct {
	Name          string // in the API: its types are named after it
	SQL           catalog.Name
	Columns       []Column
	PrimaryKey    []string // API names
	Constraints   []Constraint
	Relationships []Relationship
	// ComputedFields are its computed fields.
	ComputedFields []*ComputedField
	Comment        string
	// Writes is what PostgreSQL lets a statement do to it
	// (catalog.Table.Writes): a view may not be written, or in part.
	Writes int
	// Enum is set for an enum table (is_enum): its rows.
	Enum []catalog.EnumValue
	// roots are its root fields' names and descriptions.
	roots map[Kind]rootName
	// Roles are the permissions each role has; admin's are all, implied.
	Roles map[string]*Permissions
}

type rootName struct{ name, comment string }

// Permissions are what one role may do with one table; a nil part is not
// allowed.
type Permissions struct {
	Select *SelectPermission
	Insert *InsertPermission
	Update *UpdatePermission
	Delete *DeletePermission
}

// Columns is a set of API column names.
type Columns map[string]bool

// SelectPermission is a select permission. Its filter, and the checks
// and filters below, are typed when the metadata loads (ReadPermission).
type SelectPermission struct {
	Columns      Columns
	Filter       BoolExp
	Limit        *int
	Aggregations bool
	// QueryRootFields and SubscriptionRootFields are the root fields the
	// permission gives in each root type; nil gives all of them.
	QueryRootFields, SubscriptionRootFields map[Kind]bool
	// ComputedFields are the scalar computed fields it reads.
	ComputedFields map[string]bool
}

// InsertPermission is an insert permission; Set maps API column names to
// presets (literals or session variables).
type InsertPermission struct {
	Columns Columns
	Check   BoolExp
	Set     map[string]Operand
}

// UpdatePermission is an update permission.
type UpdatePermission struct {
	Columns Columns
	Filter  BoolExp
	Check   BoolExp
	Set     map[string]Operand
}

// DeletePermission is a delete permission.
type DeletePermission struct {
	Filter BoolExp
}

// Column returns the column called name in the API.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
			return c, true
		}
	}
	return Column{}, false
}

// ColumnBySQL returns the column whose SQL name is name.
func (t *Table) ColumnBySQL(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.SQLName == name {
			return c, true
		}
	}
	return Column{}, false
}

// Relationship returns the relationship named name.
func (t *Table) Relationship(name string) (Relationship, bool) {
	for _, r := range t.Relationships {
		if r.Name == name {
			return r, true
		}
	}
	return Relationship{}, false
}

// Constraint returns the constraint named name.
func (t *Table) Constraint(name string) (Constraint, bool) {
	for _, c := range t.Constraints {
		if c.Name == name {
			return c, true
		}
	}
	return Constraint{}, false
}

// SortedColumns returns the columns in GraphQL introspection order (by name).
func (t *Table) SortedColumns() []Column {
	cols := slices.Clone(t.Columns)
	slices.SortFunc(cols, func(a, b Column) int { return compare(a.Name, b.Name) })
	return cols
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// NumericColumns are the columns _inc and the numeric aggregates apply to.
func (t *Table) NumericColumns() []Column {
	var cols []Column
	for _, c := range t.SortedColumns() {
		if c.Type.Numeric {
			cols = append(cols, c)
		}
	}
	return cols
}

// NumericAggregates are Hasura's aggregate functions over numeric columns.
var NumericAggregates = []string{"avg", "stddev", "stddev_pop", "stddev_samp", "sum", "var_pop", "var_samp", "variance"}

// AggregateFunctions are the fields of t's <t>_aggregate_fields (and of its
// <t>_aggregate_order_by), in Hasura's order: by name.
func (t *Table) AggregateFunctions() []string {
	fns := []string{"count", "max", "min"}
	if len(t.NumericColumns()) > 0 {
		fns = append(fns, NumericAggregates...)
	}
	slices.Sort(fns)
	return fns
}

// AggregateApplies reports whether the aggregate fn applies to a column of
// type t: max and min to ordered types, sum to numeric ones, the
// statistics (avg, stddev, …) to numeric ones but money, which PostgreSQL
// has none of.
func AggregateApplies(fn string, t Type) bool {
	switch fn {
	case "max", "min":
		return t.Ordered
	case "sum":
		return t.Numeric
	}
	return t.Numeric && t.Class != ClassMoney
}

// AggregateType is the GraphQL type of fn over the numeric column c: sum
// keeps the column's type, the statistics are Float, as in Hasura.
func AggregateType(fn string, c Column) string {
	if fn == "sum" {
		return c.Type.GraphQL
	}
	return "Float"
}

// TextOperators are the pattern operators of String_comparison_exp.
var TextOperators = []string{"_ilike", "_iregex", "_like", "_nilike", "_niregex", "_nlike", "_nregex", "_nsimilar", "_regex", "_similar"}

// JSONBOperators are jsonb_comparison_exp's operators beyond the common ones,
// with their GraphQL types.
var JSONBOperators = map[string]string{
	"_contained_in": "jsonb", "_contains": "jsonb", "_has_key": "String",
	"_has_keys_all": "[String!]", "_has_keys_any": "[String!]",
}
