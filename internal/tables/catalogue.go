package tables

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
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
	// SelectStream is subscription_root's alone: <t>_stream.
	SelectStream
	// A tracked function's: <fn> and <fn>_aggregate.
	FunctionSelect
	FunctionAggregate
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
	{SelectStream, "select_stream", "%s_stream"},
}

// RootField is a generated root field: e.g. users_by_pk is {SelectByPK, users}.
type RootField struct {
	Name  string
	Kind  Kind
	Table *Table
	// Function is a function's root field's function; Table is the table
	// it returns rows of.
	Function *Function
}

// Mutation reports whether the field belongs to mutation_root.
func (f RootField) Mutation() bool {
	if f.Function != nil {
		return f.Function.Mutation
	}
	return f.Kind >= Insert && f.Kind <= DeleteByPK
}

// Reads reports whether the field reads: query_root's and
// subscription_root's kinds.
func (f RootField) Reads() bool { return !f.Mutation() }

// RootName is the name of t's root field of kind k.
func (t *Table) RootName(k Kind) string { return t.roots[k].name }

// Catalogue is every served table.
type Catalogue struct {
	Tables []*Table
	// Functions are the tracked functions.
	Functions []*Function
	// InferFunctionPermissions: as Options.
	InferFunctionPermissions bool
	// Roles are the roles the metadata names, admin not among them, sorted.
	Roles  []string
	byName map[string]*Table
	bySQL  map[catalog.Name]*Table
	roots  map[string]RootField
	users  *Table
	// StringifyNumbers writes the values of BigNumber columns, and their
	// aggregates, as JSON strings (HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES).
	StringifyNumbers bool
	// literals are the permissions' literals, which CheckLiterals has
	// PostgreSQL read.
	literals []TypedLiteral
}

// Options are how the API writes what Build serves.
type Options struct {
	StringifyNumbers bool
	// InferFunctionPermissions lets every role that reads a query
	// function's table run it (HASURA_GRAPHQL_INFER_FUNCTION_PERMISSIONS).
	InferFunctionPermissions bool
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

// Build makes the catalogue of the resolved project p, its permissions
// typed; PostgreSQL, db, reads their literals (checkLiterals).
func Build(ctx context.Context, db database.Conn, p *project.Project, o Options) (*Catalogue, error) {
	bySQL := map[catalog.Name]*Table{}
	c := &Catalogue{byName: map[string]*Table{}, bySQL: bySQL, roots: map[string]RootField{}, StringifyNumbers: o.StringifyNumbers}
	enums := map[catalog.Name]*project.Table{}
	roles := map[string]bool{}
	for _, pt := range p.Tables {
		t := &Table{Name: pt.GraphQLName, SQL: pt.Name, Comment: firstNonEmpty(pt.Metadata.Configuration.Comment, pt.Table.Comment),
			Writes: pt.Table.Writes}
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
		c.buildComputedFields(pt, t)
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
	}
	for i, pt := range p.Tables {
		var err error
		if c.Tables[i].Roles, err = c.permissions(pt, c.Tables[i], roles); err != nil {
			return nil, err
		}
	}
	if err := c.buildFunctions(p, o); err != nil {
		return nil, err
	}
	if err := c.checkLiterals(ctx, db); err != nil {
		return nil, err
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

// permissions reads t's permissions per role, in API column names, their
// expressions typed (permissionReader): after every table is built, for
// an expression may follow relationships to any of them.
func (c *Catalogue) permissions(pt *project.Table, t *Table, roles map[string]bool) (map[string]*Permissions, error) {
	perms := map[string]*Permissions{}
	get := func(role string) *Permissions {
		roles[role] = true
		if perms[role] == nil {
			perms[role] = &Permissions{}
		}
		return perms[role]
	}
	columns := func(cols metadata.Columns) Columns {
		out := Columns{}
		for _, col := range pt.Columns {
			if cols.All || slices.Contains(cols.Names, col.Name) {
				out[pt.ColumnNames[col.Name]] = true
			}
		}
		return out
	}
	md := pt.Metadata
	reader := func(kind, role, part string, e metadata.Expression) *permissionReader {
		return &permissionReader{cat: c, root: t, file: md.File, what: kind + " of role " + role + ": " + part, exp: e, literals: &c.literals}
	}
	filter := func(kind, role, part string, e metadata.Expression) (BoolExp, error) {
		return reader(kind, role, part, e).boolExp(t, e.Value, nil)
	}
	// A permission to write what PostgreSQL cannot write (a view that is
	// not updatable, without an INSTEAD OF trigger) is refused.
	writable := func(kind, role string, bit int, verb string) error {
		if t.Writes&bit != 0 {
			return nil
		}
		return &metadata.Error{File: md.File, Message: fmt.Sprintf("%s of role %s: PostgreSQL cannot %s %s %s: it is a view it cannot write through, and has no INSTEAD OF trigger for it",
			kind, role, verb, relationKind(pt.Table.Kind), t.SQL)}
	}
	for _, p := range md.SelectPermissions {
		f, err := filter("select_permissions", p.Role, "filter", p.Permission.Filter)
		if err != nil {
			return nil, err
		}
		queryRoots, err := rootFieldSet(md.File, p.Role, "query_root_fields", p.Permission.QueryRootFields, false)
		if err != nil {
			return nil, err
		}
		subscriptionRoots, err := rootFieldSet(md.File, p.Role, "subscription_root_fields", p.Permission.SubscriptionRootFields, true)
		if err != nil {
			return nil, err
		}
		if !p.Permission.AllowAggregations && (queryRoots[SelectAggregate] || subscriptionRoots[SelectAggregate]) {
			return nil, &metadata.Error{File: md.File, Message: fmt.Sprintf(`select_permissions of role %s: in permission for role %q: `+
				`The "select_aggregate" root field can only be enabled in the query_root_fields or  the subscription_root_fields when "allow_aggregations" is set to true`,
				p.Role, p.Role)}
		}
		get(p.Role).Select = &SelectPermission{Columns: columns(p.Permission.Columns), Filter: f,
			Limit: p.Permission.Limit, Aggregations: p.Permission.AllowAggregations,
			QueryRootFields: queryRoots, SubscriptionRootFields: subscriptionRoots, ComputedFields: map[string]bool{}}
		for _, name := range p.Permission.ComputedFields {
			get(p.Role).Select.ComputedFields[name] = true
		}
	}
	for _, p := range md.InsertPermissions {
		if err := writable("insert_permissions", p.Role, catalog.WritesInsert, "insert into"); err != nil {
			return nil, err
		}
		check, err := filter("insert_permissions", p.Role, "check", p.Permission.Check)
		if err != nil {
			return nil, err
		}
		set, err := reader("insert_permissions", p.Role, "set", p.Permission.Set).presets(t)
		if err != nil {
			return nil, err
		}
		get(p.Role).Insert = &InsertPermission{Columns: columns(p.Permission.Columns), Check: check, Set: set}
	}
	for _, p := range md.UpdatePermissions {
		if err := writable("update_permissions", p.Role, catalog.WritesUpdate, "update"); err != nil {
			return nil, err
		}
		f, err := filter("update_permissions", p.Role, "filter", p.Permission.Filter)
		if err != nil {
			return nil, err
		}
		check, err := filter("update_permissions", p.Role, "check", p.Permission.Check)
		if err != nil {
			return nil, err
		}
		set, err := reader("update_permissions", p.Role, "set", p.Permission.Set).presets(t)
		if err != nil {
			return nil, err
		}
		get(p.Role).Update = &UpdatePermission{Columns: columns(p.Permission.Columns), Filter: f, Check: check, Set: set}
	}
	for _, p := range md.DeletePermissions {
		if err := writable("delete_permissions", p.Role, catalog.WritesDelete, "delete from"); err != nil {
			return nil, err
		}
		f, err := filter("delete_permissions", p.Role, "filter", p.Permission.Filter)
		if err != nil {
			return nil, err
		}
		get(p.Role).Delete = &DeletePermission{Filter: f}
	}
	return perms, nil
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
			typ := Type{GraphQL: name, SQL: col.Cast, Comparison: name + "_comparison_exp", Class: ClassEnum}
			for _, v := range e.EnumValues {
				typ.Enum = append(typ.Enum, v.Value)
			}
			return typ
		}
	}
	return scalarType(col)
}

// checkLiterals has PostgreSQL read every literal of the permissions as
// its type, as each request would: a literal it cannot read (a string
// "abc" for an integer column, which Hasura lets through to fail every
// request) stops the start instead, named.
func (c *Catalogue) checkLiterals(ctx context.Context, db database.Conn) error {
	for _, l := range c.literals {
		var err error
		switch {
		case l.Value.Null:
			continue
		case l.Value.IsItems:
			_, err = db.Exec(ctx, "SELECT $1::text[]::"+l.Type.SQL, l.Value.Items)
		default:
			_, err = db.Exec(ctx, "SELECT $1::text::"+l.Type.SQL, l.Value.Text)
		}
		if err != nil {
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
				err = errors.New(pgErr.Message)
			}
			return &metadata.Error{File: l.at.File, Line: l.at.Line, Column: l.at.Column,
				Message: fmt.Sprintf("%s: PostgreSQL cannot read it as %s: %v", l.at.Message, l.Type.SQL, err)}
		}
	}
	c.literals = nil
	return nil
}

// rootFieldSet reads a select permission's query_root_fields or
// subscription_root_fields: nil (absent or null) is every root field, [] none.
func rootFieldSet(file, role, key string, names []string, subscription bool) (map[Kind]bool, error) {
	if names == nil {
		return nil, nil
	}
	byKey := map[string]Kind{"select": Select, "select_by_pk": SelectByPK, "select_aggregate": SelectAggregate}
	if subscription {
		byKey["select_stream"] = SelectStream
	}
	set := map[Kind]bool{}
	for _, n := range names {
		k, ok := byKey[n]
		if !ok {
			return nil, &metadata.Error{File: file, Message: fmt.Sprintf("select_permissions of role %s: %s: unexpected %q: expected one of %s",
				role, key, n, strings.Join(slices.Sorted(maps.Keys(byKey)), ", "))}
		}
		set[k] = true
	}
	return set, nil
}

// relationKind names pg_class.relkind kind.
func relationKind(kind string) string {
	switch kind {
	case "v":
		return "view"
	case "m":
		return "materialized view"
	case "f":
		return "foreign table"
	}
	return "table"
}
