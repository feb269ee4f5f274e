package metadata

import (
	"fmt"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
)

// The types below mirror Hasura's metadata (version 3) as `hasura metadata
// export` writes it; field names are Hasura's keys. Decoding is strict: a
// key freshgraph does not know is an error, never silently dropped, since
// it may be part of who may see what.

// QualifiedTable names a table: a bare name (schema public) or
// {schema, name}.
type QualifiedTable struct {
	Schema string `yaml:"schema"`
	Name   string `yaml:"name"`
}

func (q QualifiedTable) String() string { return q.Schema + "." + q.Name }

// UnmarshalYAML reads either form.
func (q *QualifiedTable) UnmarshalYAML(n ast.Node) error {
	if s, ok := n.(*ast.StringNode); ok {
		*q = QualifiedTable{Schema: "public", Name: s.Value}
		return nil
	}
	type plain QualifiedTable
	var p plain
	if err := strict(n, &p); err != nil {
		return err
	}
	if p.Name == "" {
		return &nodeError{n, "a table needs a name"}
	}
	if p.Schema == "" {
		p.Schema = "public"
	}
	*q = QualifiedTable(p)
	return nil
}

// Table is one tracked table or view, from its own file.
type Table struct {
	Table               QualifiedTable     `yaml:"table"`
	Configuration       TableConfiguration `yaml:"configuration"`
	IsEnum              bool               `yaml:"is_enum"`
	ObjectRelationships []Relationship     `yaml:"object_relationships"`
	ArrayRelationships  []Relationship     `yaml:"array_relationships"`
	SelectPermissions   []SelectPermission `yaml:"select_permissions"`
	InsertPermissions   []InsertPermission `yaml:"insert_permissions"`
	UpdatePermissions   []UpdatePermission `yaml:"update_permissions"`
	DeletePermissions   []DeletePermission `yaml:"delete_permissions"`
	EventTriggers       []EventTrigger     `yaml:"event_triggers"`
	ComputedFields      []ComputedField    `yaml:"computed_fields"`
	RemoteRelationships []map[string]any   `yaml:"remote_relationships"`
	ApolloFederation    map[string]any     `yaml:"apollo_federation_config"`
	LogicalModel        string             `yaml:"logical_model"`
	File                string             `yaml:"-"` // the file it was read from, for messages
}

// TableConfiguration is the table's GraphQL naming.
type TableConfiguration struct {
	CustomName        string                  `yaml:"custom_name"`
	CustomRootFields  map[string]RootField    `yaml:"custom_root_fields"`
	ColumnConfig      map[string]ColumnConfig `yaml:"column_config"`
	CustomColumnNames map[string]string       `yaml:"custom_column_names"`
	Comment           string                  `yaml:"comment"`
}

// RootField is a custom root field name: a string or {name, comment}.
type RootField struct {
	Name    string `yaml:"name"`
	Comment string `yaml:"comment"`
}

// UnmarshalYAML reads either form.
func (r *RootField) UnmarshalYAML(n ast.Node) error {
	if s, ok := n.(*ast.StringNode); ok {
		*r = RootField{Name: s.Value}
		return nil
	}
	type plain RootField
	return strict(n, (*plain)(r))
}

// ColumnConfig renames a column in the API.
type ColumnConfig struct {
	CustomName string `yaml:"custom_name"`
	Comment    string `yaml:"comment"`
}

// Relationship is an object or array relationship.
type Relationship struct {
	Name    string `yaml:"name"`
	Comment string `yaml:"comment"`
	Using   struct {
		ForeignKeyConstraintOn *ForeignKeyOn       `yaml:"foreign_key_constraint_on"`
		ManualConfiguration    *ManualRelationship `yaml:"manual_configuration"`
	} `yaml:"using"`
}

// ForeignKeyOn names the foreign key a relationship follows: columns of
// this table (an object relationship), or columns of Table that point at
// this one (an array relationship, or an object one from the other side).
type ForeignKeyOn struct {
	Columns []string
	Table   *QualifiedTable
}

// UnmarshalYAML reads "col", ["a", "b"], {column, table} or {columns, table}.
func (f *ForeignKeyOn) UnmarshalYAML(n ast.Node) error {
	switch n := n.(type) {
	case *ast.StringNode:
		*f = ForeignKeyOn{Columns: []string{n.Value}}
		return nil
	case *ast.SequenceNode:
		*f = ForeignKeyOn{}
		return strict(n, &f.Columns)
	}
	var remote struct {
		Column  string         `yaml:"column"`
		Columns []string       `yaml:"columns"`
		Table   QualifiedTable `yaml:"table"`
	}
	if err := strict(n, &remote); err != nil {
		return err
	}
	if (remote.Column == "") == (len(remote.Columns) == 0) {
		return &nodeError{n, "foreign_key_constraint_on needs column or columns"}
	}
	if remote.Column != "" {
		remote.Columns = []string{remote.Column}
	}
	*f = ForeignKeyOn{Columns: remote.Columns, Table: &remote.Table}
	return nil
}

// ManualRelationship joins on a column mapping of the metadata's own.
type ManualRelationship struct {
	RemoteTable    QualifiedTable    `yaml:"remote_table"`
	ColumnMapping  map[string]string `yaml:"column_mapping"`
	InsertionOrder string            `yaml:"insertion_order"`
}

// Columns is a permission's columns: a list, or "*" for all.
type Columns struct {
	All   bool
	Names []string
}

// UnmarshalYAML reads either form.
func (c *Columns) UnmarshalYAML(n ast.Node) error {
	if s, ok := n.(*ast.StringNode); ok {
		if s.Value != "*" {
			return &nodeError{n, fmt.Sprintf(`columns must be a list or "*", got %q`, s.Value)}
		}
		*c = Columns{All: true}
		return nil
	}
	*c = Columns{}
	return strict(n, &c.Names)
}

// strict decodes n into v, refusing keys v has no field for.
func strict(n ast.Node, v any) error { return yaml.NodeToValue(n, v, yaml.Strict()) }

// nodeError is a problem with the part n of a file, reported at its line.
type nodeError struct {
	node ast.Node
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

// SelectPermission is a role's select permission.
type SelectPermission struct {
	Role       string `yaml:"role"`
	Comment    string `yaml:"comment"`
	Permission struct {
		Columns                Columns    `yaml:"columns"`
		Filter                 Expression `yaml:"filter"`
		Limit                  *int       `yaml:"limit"`
		AllowAggregations      bool       `yaml:"allow_aggregations"`
		ComputedFields         []string   `yaml:"computed_fields"`
		QueryRootFields        []string   `yaml:"query_root_fields"`
		SubscriptionRootFields []string   `yaml:"subscription_root_fields"`
	} `yaml:"permission"`
}

// InsertPermission is a role's insert permission.
type InsertPermission struct {
	Role       string `yaml:"role"`
	Comment    string `yaml:"comment"`
	Permission struct {
		Check       Expression `yaml:"check"`
		Set         Expression `yaml:"set"`
		Columns     Columns    `yaml:"columns"`
		BackendOnly bool       `yaml:"backend_only"`
	} `yaml:"permission"`
}

// UpdatePermission is a role's update permission.
type UpdatePermission struct {
	Role       string `yaml:"role"`
	Comment    string `yaml:"comment"`
	Permission struct {
		Columns     Columns    `yaml:"columns"`
		Filter      Expression `yaml:"filter"`
		Check       Expression `yaml:"check"`
		Set         Expression `yaml:"set"`
		BackendOnly bool       `yaml:"backend_only"`
	} `yaml:"permission"`
}

// DeletePermission is a role's delete permission.
type DeletePermission struct {
	Role       string `yaml:"role"`
	Comment    string `yaml:"comment"`
	Permission struct {
		Filter      Expression `yaml:"filter"`
		BackendOnly bool       `yaml:"backend_only"`
	} `yaml:"permission"`
}

// Limit is one api_limits entry.
type Limit struct {
	Global  *int           `yaml:"global"`
	PerRole map[string]int `yaml:"per_role"`
}

// APILimits is api_limits.yaml. Rate limits are read so that they can be
// named as not served.
type APILimits struct {
	Disabled   bool           `yaml:"disabled"`
	DepthLimit *Limit         `yaml:"depth_limit"`
	NodeLimit  *Limit         `yaml:"node_limit"`
	TimeLimit  *Limit         `yaml:"time_limit"`
	BatchLimit *Limit         `yaml:"batch_limit"`
	RateLimit  map[string]any `yaml:"rate_limit"`
}

// ComputedField is a field of a table's rows answered by a SQL function of
// the row: a scalar (the function returns a base type) or rows of a
// tracked table (it returns SETOF one).
type ComputedField struct {
	Name       string `yaml:"name"`
	Definition struct {
		Function QualifiedTable `yaml:"function"`
		// TableArgument names the argument that takes the row; by default
		// the first.
		TableArgument string `yaml:"table_argument"`
		// SessionArgument names the json argument that receives the
		// caller's session variables.
		SessionArgument string `yaml:"session_argument"`
	} `yaml:"definition"`
	Comment *string `yaml:"comment"`
}
