// Package tables is the catalogue of the tables freshgraph serves with
// Hasura's generated API: the Auth.js tables as @auth/hasura-adapter creates
// them. Everything per table — the GraphQL schema (see SDL) and the SQL the
// engine writes — is derived from this one description, so the five tables
// cannot drift apart.
package tables

import "slices"

// Type is a column's type, as GraphQL and PostgreSQL name it.
type Type struct {
	GraphQL    string // scalar or enum name
	SQL        string // PostgreSQL type, for casts
	Comparison string // the <type>_comparison_exp input
	// Text types take the pattern operators (_like, _regex, …).
	Text bool
	// Ordered types have min/max aggregates.
	Ordered bool
	// Numeric types can be incremented (_inc).
	Numeric bool
}

// The column types of the Auth.js tables.
var (
	UUID        = Type{GraphQL: "uuid", SQL: "uuid", Comparison: "uuid_comparison_exp", Ordered: true}
	Text        = Type{GraphQL: "String", SQL: "text", Comparison: "String_comparison_exp", Text: true, Ordered: true}
	Int         = Type{GraphQL: "Int", SQL: "integer", Comparison: "Int_comparison_exp", Ordered: true, Numeric: true}
	Timestamptz = Type{GraphQL: "timestamptz", SQL: "timestamptz", Comparison: "timestamptz_comparison_exp", Ordered: true}
	// ProviderType is the enum that the provider_type table (is_enum) defines.
	ProviderType = Type{GraphQL: "provider_type_enum", SQL: "text", Comparison: "provider_type_enum_comparison_exp"}
)

// ProviderTypes are the rows of the provider_type enum table (migration 00001).
var ProviderTypes = []string{"credentials", "email", "oauth", "oidc"}

// Column is a table column; its name is the same in GraphQL and SQL.
type Column struct {
	Name     string
	Type     Type
	Nullable bool
}

// Relationship is Hasura's relationship from one table to another: an object
// relationship (one row, e.g. sessions.user) or an array relationship (rows,
// e.g. users.sessions), joined on From = To.
type Relationship struct {
	Name   string
	Array  bool
	Target string // table name
	From   string // column of this table
	To     string // column of the target table
}

// Constraint is a unique or primary key constraint, usable in on_conflict.
type Constraint struct {
	Name    string
	Columns []string
}

// Table is one tracked table.
type Table struct {
	Name          string
	Columns       []Column
	PrimaryKey    []string
	Constraints   []Constraint
	Relationships []Relationship
}

// Column returns the column named name.
func (t *Table) Column(name string) (Column, bool) {
	for _, c := range t.Columns {
		if c.Name == name {
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

var userIDRelationship = Relationship{Name: "user", Target: "users", From: "userId", To: "id"}

// All is the catalogue, in the order the schema lists the tables.
var All = []*Table{
	{
		Name: "accounts",
		Columns: []Column{
			{Name: "id", Type: UUID},
			{Name: "type", Type: ProviderType},
			{Name: "provider", Type: Text},
			{Name: "providerAccountId", Type: Text},
			{Name: "refresh_token", Type: Text, Nullable: true},
			{Name: "access_token", Type: Text, Nullable: true},
			{Name: "expires_at", Type: Int, Nullable: true},
			{Name: "token_type", Type: Text, Nullable: true},
			{Name: "scope", Type: Text, Nullable: true},
			{Name: "id_token", Type: Text, Nullable: true},
			{Name: "session_state", Type: Text, Nullable: true},
			{Name: "userId", Type: UUID},
		},
		PrimaryKey:    []string{"id"},
		Constraints:   []Constraint{{Name: "accounts_pkey", Columns: []string{"id"}}},
		Relationships: []Relationship{userIDRelationship},
	},
	{
		Name:        "provider_type",
		Columns:     []Column{{Name: "value", Type: Text}},
		PrimaryKey:  []string{"value"},
		Constraints: []Constraint{{Name: "provider_type_pkey", Columns: []string{"value"}}},
	},
	{
		Name: "sessions",
		Columns: []Column{
			{Name: "id", Type: UUID},
			{Name: "sessionToken", Type: Text},
			{Name: "userId", Type: UUID},
			{Name: "expires", Type: Timestamptz},
		},
		PrimaryKey:    []string{"sessionToken"},
		Constraints:   []Constraint{{Name: "sessions_pkey", Columns: []string{"sessionToken"}}},
		Relationships: []Relationship{userIDRelationship},
	},
	{
		Name: "users",
		Columns: []Column{
			{Name: "id", Type: UUID},
			{Name: "name", Type: Text, Nullable: true},
			{Name: "email", Type: Text},
			{Name: "emailVerified", Type: Timestamptz, Nullable: true},
			{Name: "image", Type: Text, Nullable: true},
		},
		PrimaryKey: []string{"id"},
		Constraints: []Constraint{
			{Name: "users_email_key", Columns: []string{"email"}},
			{Name: "users_pkey", Columns: []string{"id"}},
		},
		Relationships: []Relationship{
			{Name: "accounts", Array: true, Target: "accounts", From: "id", To: "userId"},
			{Name: "sessions", Array: true, Target: "sessions", From: "id", To: "userId"},
		},
	},
	{
		Name: "verification_tokens",
		Columns: []Column{
			{Name: "token", Type: Text},
			{Name: "identifier", Type: Text},
			{Name: "expires", Type: Timestamptz},
		},
		PrimaryKey:  []string{"token"},
		Constraints: []Constraint{{Name: "verification_tokens_pkey", Columns: []string{"token"}}},
	},
}

// ByName finds a table of the catalogue.
func ByName(name string) (*Table, bool) {
	for _, t := range All {
		if t.Name == name {
			return t, true
		}
	}
	return nil, false
}

// IsArrayTarget reports whether some array relationship leads to t (so t has
// the <t>_aggregate_bool_exp, <t>_aggregate_order_by and
// <t>_arr_rel_insert_input inputs).
func IsArrayTarget(t *Table) bool { return isTarget(t, true) }

// IsObjectTarget reports whether some object relationship leads to t (so t
// has the <t>_obj_rel_insert_input input).
func IsObjectTarget(t *Table) bool { return isTarget(t, false) }

func isTarget(t *Table, array bool) bool {
	for _, other := range All {
		for _, r := range other.Relationships {
			if r.Array == array && r.Target == t.Name {
				return true
			}
		}
	}
	return false
}

// NumericColumns are the columns _inc applies to.
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

// AggregateType is the GraphQL type of fn over the numeric column c: sum
// keeps the column's type, the statistics are Float, as in Hasura.
func AggregateType(fn string, c Column) string {
	if fn == "sum" {
		return c.Type.GraphQL
	}
	return "Float"
}
