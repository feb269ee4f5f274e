package tables

import (
	"fmt"
	"maps"
	"regexp"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/project"
)

// Kind is what a generated root field does.
type Kind int

// The root fields Hasura generates per table.
const (
	Select Kind = iota
	SelectByPK
	SelectAggregate
	Insert
	InsertOne
	Update
	UpdateByPK
	UpdateMany
	Delete
	DeleteByPK
)

// kinds are the root field kinds with their custom_root_fields keys and
// default names (%s: the table's name).
var kinds = []struct {
	kind        Kind
	key, format string
}{
	{Select, "select", "%s"},
	{SelectByPK, "select_by_pk", "%s_by_pk"},
	{SelectAggregate, "select_aggregate", "%s_aggregate"},
	{Insert, "insert", "insert_%s"},
	{InsertOne, "insert_one", "insert_%s_one"},
	{Update, "update", "update_%s"},
	{UpdateByPK, "update_by_pk", "update_%s_by_pk"},
	{UpdateMany, "update_many", "update_%s_many"},
	{Delete, "delete", "delete_%s"},
	{DeleteByPK, "delete_by_pk", "delete_%s_by_pk"},
}

// RootField is a generated root field: e.g. users_by_pk is {SelectByPK, users}.
type RootField struct {
	Name  string
	Kind  Kind
	Table *Table
}

// Mutation reports whether the field belongs to mutation_root.
func (f RootField) Mutation() bool { return f.Kind >= Insert }

// RootName is the name of t's root field of kind k.
func (t *Table) RootName(k Kind) string { return t.roots[k].name }

// Catalogue is every served table.
type Catalogue struct {
	Tables []*Table
	// Roles are the roles the metadata names, admin not among them, sorted.
	Roles  []string
	byName map[string]*Table
	bySQL  map[catalog.Name]*Table
	roots  map[string]RootField
	users  *Table
	// StringifyNumbers writes the values of BigNumber columns, and their
	// aggregates, as JSON strings (HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES).
	StringifyNumbers bool
}

// Options are how the API writes what Build serves.
type Options struct {
	StringifyNumbers bool
}

// Users is the table the session API's user is read from: public.users.
func (c *Catalogue) Users() *Table { return c.users }

// BySQL finds a table by its schema-qualified SQL name.
func (c *Catalogue) BySQL(name catalog.Name) (*Table, bool) {
	t, ok := c.bySQL[name]
	return t, ok
}

// ByName finds a table by its API name.
func (c *Catalogue) ByName(name string) (*Table, bool) {
	t, ok := c.byName[name]
	return t, ok
}

// RootField finds the generated root field called name.
func (c *Catalogue) RootField(name string) (RootField, bool) {
	f, ok := c.roots[name]
	return f, ok
}

// Build makes the catalogue of the resolved project p.
func Build(p *project.Project, o Options) (*Catalogue, error) {
	bySQL := map[catalog.Name]*Table{}
	c := &Catalogue{byName: map[string]*Table{}, bySQL: bySQL, roots: map[string]RootField{}, StringifyNumbers: o.StringifyNumbers}
	enums := map[catalog.Name]*project.Table{}
	roles := map[string]bool{}
	for _, pt := range p.Tables {
		t := &Table{Name: pt.GraphQLName, SQL: pt.Name, Comment: firstNonEmpty(pt.Metadata.Configuration.Comment, pt.Table.Comment)}
		if _, dup := c.byName[t.Name]; dup {
			return nil, &metadata.Error{File: pt.Metadata.File, Message: fmt.Sprintf("another tracked table is also called %q in the API: set configuration.custom_name", t.Name)}
		}
		c.byName[t.Name] = t
		bySQL[pt.Name] = t
		c.Tables = append(c.Tables, t)
		if pt.Metadata.IsEnum {
			enums[pt.Name] = pt
			t.Enum = pt.EnumValues
		}
	}
	for i, pt := range p.Tables {
		t := c.Tables[i]
		cfg := pt.Metadata.Configuration
		for _, col := range pt.Columns {
			typ := columnType(col, pt, enums, bySQL)
			comment := col.Comment
			if cc, ok := cfg.ColumnConfig[col.Name]; ok && cc.Comment != "" {
				comment = cc.Comment
			}
			t.Columns = append(t.Columns, Column{Name: pt.ColumnNames[col.Name], SQLName: col.Name, Type: typ,
				Nullable: col.Nullable, Generated: col.Generated, Comment: comment})
		}
		if pk := pt.PrimaryKey; pk != nil {
			for _, name := range pk.Columns {
				t.PrimaryKey = append(t.PrimaryKey, pt.ColumnNames[name])
			}
			t.Constraints = append(t.Constraints, Constraint{Name: pk.Name, Columns: pk.Columns})
		}
		for _, u := range pt.Uniques {
			t.Constraints = append(t.Constraints, Constraint{Name: u.Name, Columns: u.Columns})
		}
		slices.SortFunc(t.Constraints, func(a, b Constraint) int { return compare(a.Name, b.Name) })
		for i, r := range pt.Relationships {
			rel := Relationship{Name: r.Name, Array: r.Array, Target: bySQL[r.Target], followsKey: r.ForeignKey,
				Comment: relationshipComment(pt.Metadata, i)}
			for _, m := range r.Mapping {
				rel.Mapping = append(rel.Mapping, ColumnPair(m))
			}
			t.Relationships = append(t.Relationships, rel)
		}
		t.roots = map[Kind]rootName{}
		for _, k := range kinds {
			n := rootName{name: fmt.Sprintf(k.format, t.Name)}
			if custom, ok := cfg.CustomRootFields[k.key]; ok {
				if custom.Name != "" {
					n.name = custom.Name
				}
				n.comment = custom.Comment
			}
			t.roots[k.kind] = n
			if other, dup := c.roots[n.name]; dup {
				return nil, &metadata.Error{File: pt.Metadata.File, Message: fmt.Sprintf("root field %q is also a root field of table %s", n.name, other.Table.SQL)}
			}
			c.roots[n.name] = RootField{Name: n.name, Kind: k.kind, Table: t}
		}
		t.Roles = permissions(pt, t, roles)
	}
	c.users = bySQL[catalog.Name{Schema: "public", Table: "users"}]
	delete(roles, "admin")
	c.Roles = slices.Sorted(maps.Keys(roles))
	return c, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func relationshipComment(md *metadata.Table, i int) string {
	if i < len(md.ObjectRelationships) {
		return md.ObjectRelationships[i].Comment
	}
	return md.ArrayRelationships[i-len(md.ObjectRelationships)].Comment
}

// permissions reads t's permissions per role, in API column names.
func permissions(pt *project.Table, t *Table, roles map[string]bool) map[string]*Permissions {
	perms := map[string]*Permissions{}
	get := func(role string) *Permissions {
		roles[role] = true
		if perms[role] == nil {
			perms[role] = &Permissions{}
		}
		return perms[role]
	}
	columns := func(c metadata.Columns) Columns {
		out := Columns{}
		for _, col := range pt.Columns {
			if c.All || slices.Contains(c.Names, col.Name) {
				out[pt.ColumnNames[col.Name]] = true
			}
		}
		return out
	}
	presets := func(set map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range set {
			out[pt.ColumnNames[k]] = v
		}
		return out
	}
	md := pt.Metadata
	for _, p := range md.SelectPermissions {
		get(p.Role).Select = &SelectPermission{Columns: columns(p.Permission.Columns), Filter: p.Permission.Filter,
			Limit: p.Permission.Limit, Aggregations: p.Permission.AllowAggregations}
	}
	for _, p := range md.InsertPermissions {
		get(p.Role).Insert = &InsertPermission{Columns: columns(p.Permission.Columns), Check: p.Permission.Check, Set: presets(p.Permission.Set)}
	}
	for _, p := range md.UpdatePermissions {
		get(p.Role).Update = &UpdatePermission{Columns: columns(p.Permission.Columns), Filter: p.Permission.Filter,
			Check: p.Permission.Check, Set: presets(p.Permission.Set)}
	}
	for _, p := range md.DeletePermissions {
		get(p.Role).Delete = &DeletePermission{Filter: p.Permission.Filter}
	}
	return perms
}

// columnType is Hasura's type for a column: an enum table's enum where the
// column references one, else the scalar of its PostgreSQL type.
func columnType(col catalog.Column, pt *project.Table, enums map[catalog.Name]*project.Table, bySQL map[catalog.Name]*Table) Type {
	for _, fk := range pt.ForeignKeys {
		if len(fk.Columns) != 1 || fk.Columns[0] != col.Name {
			continue
		}
		if e, ok := enums[fk.References]; ok {
			name := bySQL[fk.References].Name + "_enum"
			typ := Type{GraphQL: name, SQL: sqlType(col), Comparison: name + "_comparison_exp"}
			for _, v := range e.EnumValues {
				typ.Enum = append(typ.Enum, v.Value)
			}
			return typ
		}
	}
	return scalarType(col)
}

// scalarType is the Type of a column of PostgreSQL type col.Type.
func scalarType(col catalog.Column) Type {
	name := col.Scalar()
	typ := Type{GraphQL: name, SQL: sqlType(col), Comparison: name + "_comparison_exp", Ordered: true}
	switch col.Type {
	case "int2", "int4", "float4":
		typ.Numeric = true
	case "int8", "float8", "numeric", "money":
		typ.Numeric, typ.BigNumber = true, true
	case "text", "varchar", "bpchar", "citext", "name":
		typ.Text = true
	case "jsonb":
		typ.JSONB, typ.Ordered = true, false
	case "json", "bool", "xml", "bytea", "tsvector", "point", "geometry", "geography":
		typ.Ordered = false
	}
	if col.Element != "" { // arrays have no min or max
		typ.Ordered = false
	}
	return typ
}

// sqlType is the type to cast a parameter to for col.
func sqlType(col catalog.Column) string {
	if plainType.MatchString(col.Type) {
		return col.Type
	}
	return pgx.Identifier{col.Type}.Sanitize()
}

var plainType = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)
