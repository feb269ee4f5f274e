package catalog_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"

	"github.com/freshgraph/freshgraph/internal/catalog"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestReadsTablesFromPgCatalog(t *testing.T) {
	ctx := context.Background()
	pool := pgtest.NewPool(t)
	project := &database.AppMigrations{FS: os.DirFS("../metadata/testdata/project/migrations"), Dir: "migrations", Source: "default"}
	if err := database.Migrate(ctx, pool, slog.New(slog.DiscardHandler), project); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `CREATE TYPE mood AS ENUM ('happy', 'sad');
		CREATE TABLE public."Odd ""name""" (id int GENERATED ALWAYS AS IDENTITY, code char(3) UNIQUE, feel mood, scores int[],
			half real, whole double precision, small smallint, total numeric(10,2), seen timestamp, at time,
			doubled int GENERATED ALWAYS AS (id * 2) STORED, PRIMARY KEY (id));
		COMMENT ON TABLE public."Odd ""name""" IS 'An odd one';
		COMMENT ON COLUMN public."Odd ""name""".code IS 'Three letters';
		CREATE VIEW public.published AS SELECT id, title FROM posts WHERE status = 'published'`); err != nil {
		t.Fatal(err)
	}
	names := []catalog.Name{{"public", "posts"}, {"public", "authors"}, {"public", "post_status"}, {"public", `Odd "name"`},
		{"public", "published"}, {"public", "missing"}, {"elsewhere", "posts"}}
	tables, err := catalog.Read(ctx, pool, names)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 5 {
		t.Fatalf("read %d tables, want 5 (missing ones are absent)", len(tables))
	}
	posts := tables[catalog.Name{"public", "posts"}]
	got, _ := json.Marshal(posts)
	want := `{"Name":{"Schema":"public","Table":"posts"},"Kind":"r","Columns":[` +
		`{"Name":"id","Type":"int8","Kind":"b","Element":"","ElementKind":"","Cast":"bigint","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":true,"Generated":false,"Comment":""},` +
		`{"Name":"author_id","Type":"uuid","Kind":"b","Element":"","ElementKind":"","Cast":"uuid","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":false,"Generated":false,"Comment":""},` +
		`{"Name":"title","Type":"text","Kind":"b","Element":"","ElementKind":"","Cast":"text","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":false,"Generated":false,"Comment":""},` +
		`{"Name":"body","Type":"text","Kind":"b","Element":"","ElementKind":"","Cast":"text","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":true,"Generated":false,"Comment":""},` +
		`{"Name":"tags","Type":"jsonb","Kind":"b","Element":"","ElementKind":"","Cast":"jsonb","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":true,"Generated":false,"Comment":""},` +
		`{"Name":"created_at","Type":"timestamptz","Kind":"b","Element":"","ElementKind":"","Cast":"timestamp with time zone","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":true,"Generated":false,"Comment":""},` +
		`{"Name":"status","Type":"text","Kind":"b","Element":"","ElementKind":"","Cast":"text","Relation":{"Schema":"","Table":""},"Nullable":false,"HasDefault":true,"Generated":false,"Comment":""}],` +
		`"PrimaryKey":{"Name":"posts_pkey","Columns":["id"],"References":{"Schema":"","Table":""},"ReferencedColumns":null},"Uniques":null,` +
		`"ForeignKeys":[{"Name":"posts_author_id_fkey","Columns":["author_id"],"References":{"Schema":"public","Table":"authors"},"ReferencedColumns":["id"]},` +
		`{"Name":"posts_status_fkey","Columns":["status"],"References":{"Schema":"public","Table":"post_status"},"ReferencedColumns":["value"]}],"Comment":"","Writes":28}`
	if string(got) != want {
		t.Errorf("posts:\n got %s\nwant %s", got, want)
	}

	if w := tables[catalog.Name{"public", "published"}].Writes; w != catalog.WritesInsert|catalog.WritesUpdate|catalog.WritesDelete {
		t.Errorf("a view PostgreSQL writes through: writes %d", w)
	}

	odd := tables[catalog.Name{"public", `Odd "name"`}]
	scalars := ""
	for _, c := range odd.Columns {
		scalars += c.Name + ":" + c.Scalar() + ":" + c.Kind + c.Element + c.ElementKind + ":" + c.Cast + " "
	}
	if want := "id:Int:b:integer code:bpchar:b:bpchar feel:mood:e:mood scores:Int:bint4b:integer[] half:Float:b:real " +
		"whole:float8:b:double precision small:smallint:b:smallint total:numeric:b:numeric seen:timestamp:b:timestamp without time zone " +
		"at:time:b:time without time zone doubled:Int:b:integer "; scalars != want {
		t.Errorf("scalars:\n got %s\nwant %s", scalars, want)
	}
	if id, _ := odd.Column("id"); !id.HasDefault || id.Generated {
		t.Errorf("identity column: %+v", id)
	}
	if d, _ := odd.Column("doubled"); !d.HasDefault || !d.Generated {
		t.Errorf("generated column: %+v", d)
	}
	if code, _ := odd.Column("code"); code.Comment != "Three letters" || odd.Comment != "An odd one" {
		t.Errorf("comments: %q, %q", code.Comment, odd.Comment)
	}
	if len(odd.Uniques) != 1 || odd.Uniques[0].Columns[0] != "code" {
		t.Errorf("uniques: %+v", odd.Uniques)
	}
	if v := tables[catalog.Name{"public", "published"}]; v.Kind != "v" || v.PrimaryKey != nil || len(v.Columns) != 2 {
		t.Errorf("view: %+v", v)
	}

	values, err := catalog.EnumValues(ctx, pool, tables[catalog.Name{"public", "post_status"}], "value", "comment")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := json.Marshal(values); string(b) != `[{"Value":"draft","Comment":"Not yet published"},{"Value":"published","Comment":"Visible to everyone"}]` {
		t.Errorf("enum values %s", b)
	}
}
