package builtin_test

import (
	"context"
	"os"
	"slices"
	"testing"

	"github.com/freshgraph/freshgraph/internal/builtin"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/project"
	"github.com/freshgraph/freshgraph/internal/tables"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The built-in metadata fits freshgraph's own migrations, and agrees with
// the catalogue the engine is compiled with (internal/tables): the same
// tables, columns, types, nullability, keys and relationships.
func TestBuiltInMetadataFitsTheMigrationsAndTheEngine(t *testing.T) {
	md, err := builtin.Metadata()
	if err != nil {
		t.Fatal(err)
	}
	p, err := project.Resolve(context.Background(), pgtest.NewPool(t), md)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tables) != len(tables.All) {
		t.Fatalf("%d tables in the metadata, %d in the engine", len(p.Tables), len(tables.All))
	}
	for _, pt := range p.Tables {
		et, ok := tables.ByName(pt.Name.Table)
		if !ok || pt.Name.Schema != "public" {
			t.Errorf("%s is not one of the engine's tables", pt.Name)
			continue
		}
		if len(pt.Columns) != len(et.Columns) {
			t.Errorf("%s: %d columns in the database, %d in the engine", pt.Name, len(pt.Columns), len(et.Columns))
		}
		for _, ec := range et.Columns {
			c, ok := pt.Column(ec.Name)
			scalar := c.Scalar()
			if ec.Type == tables.ProviderType {
				scalar = ec.Type.GraphQL // the enum table's values (Hasura names the enum <table>_enum)
			}
			if !ok || scalar != ec.Type.GraphQL || c.Nullable != ec.Nullable {
				t.Errorf("%s.%s: database %s (nullable %v), engine %s (nullable %v)", pt.Name, ec.Name, scalar, c.Nullable, ec.Type.GraphQL, ec.Nullable)
			}
		}
		if !slices.Equal(pt.PrimaryKey.Columns, et.PrimaryKey) {
			t.Errorf("%s: primary key %v in the database, %v in the engine", pt.Name, pt.PrimaryKey.Columns, et.PrimaryKey)
		}
		if len(pt.Relationships) != len(et.Relationships) {
			t.Errorf("%s: %d relationships in the metadata, %d in the engine", pt.Name, len(pt.Relationships), len(et.Relationships))
		}
		for _, r := range pt.Relationships {
			er, ok := et.Relationship(r.Name)
			if !ok || er.Array != r.Array || er.Target != r.Target.Table || len(r.Mapping) != 1 || r.Mapping[0] != (project.ColumnPair{From: er.From, To: er.To}) {
				t.Errorf("%s.%s: metadata %+v, engine %+v", pt.Name, r.Name, r, er)
			}
		}
	}
	status := p.Tables[slices.IndexFunc(p.Tables, func(t *project.Table) bool { return t.Name.Table == "provider_type" })]
	var values []string
	for _, v := range status.EnumValues {
		values = append(values, v.Value)
	}
	if !slices.Equal(values, tables.ProviderTypes) {
		t.Errorf("provider_type rows %v, engine %v", values, tables.ProviderTypes)
	}
}
