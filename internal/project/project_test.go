package project_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/project"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

const example = "../metadata/testdata/project"

// migrated is a database with the example project's migrations applied.
func migrated(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := pgtest.NewPool(t)
	app := &database.AppMigrations{FS: os.DirFS(example + "/migrations"), Dir: "migrations", Source: "default"}
	if err := database.Migrate(context.Background(), pool, slog.New(slog.DiscardHandler), app); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestResolvesTheExampleProject(t *testing.T) {
	md, err := metadata.Load(example + "/metadata")
	if err != nil {
		t.Fatal(err)
	}
	p, err := project.Resolve(context.Background(), migrated(t), md)
	if err != nil {
		t.Fatal(err)
	}
	type view struct {
		Name, GraphQLName string
		Renamed           map[string]string
		Relationships     []project.Relationship
		Enum              int
	}
	var got []view
	for _, tb := range p.Tables {
		renamed := map[string]string{}
		for c, n := range tb.ColumnNames {
			if c != n {
				renamed[c] = n
			}
		}
		got = append(got, view{tb.Name.String(), tb.GraphQLName, renamed, tb.Relationships, len(tb.EnumValues)})
	}
	b, _ := json.Marshal(got)
	want := `[{"Name":"public.authors","GraphQLName":"authors","Renamed":{},"Relationships":[` +
		`{"Name":"posts","Array":true,"Target":{"Schema":"public","Table":"posts"},"ForeignKey":false,"Mapping":[{"From":"id","To":"author_id"}]}],"Enum":0},` +
		`{"Name":"public.post_status","GraphQLName":"post_status","Renamed":{},"Relationships":null,"Enum":2},` +
		`{"Name":"public.posts","GraphQLName":"post","Renamed":{"title":"headline"},"Relationships":[` +
		`{"Name":"author","Array":false,"Target":{"Schema":"public","Table":"authors"},"ForeignKey":true,"Mapping":[{"From":"author_id","To":"id"}]},` +
		`{"Name":"status_info","Array":false,"Target":{"Schema":"public","Table":"post_status"},"ForeignKey":false,"Mapping":[{"From":"status","To":"value"}]}],"Enum":0}]`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// Metadata that does not fit the database stops the start, naming its file.
func TestMetadataThatDoesNotFitTheDatabase(t *testing.T) {
	pool := migrated(t)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE bad_enum (value int PRIMARY KEY);
		CREATE TABLE empty_enum (value text PRIMARY KEY);
		CREATE TABLE odd_enum (value text PRIMARY KEY); INSERT INTO odd_enum VALUES ('not valid');
		CREATE TABLE notes (id int PRIMARY KEY, post_id bigint, "two words" text)`); err != nil {
		t.Fatal(err)
	}
	const posts = "databases/default/tables/public_posts.yaml"
	const tables = "databases/default/tables/tables.yaml"
	table := func(file, body string) map[string]string {
		return map[string]string{tables: "- \"!include public_authors.yaml\"\n- \"!include public_post_status.yaml\"\n- \"!include public_posts.yaml\"\n- \"!include " + file + "\"\n",
			"databases/default/tables/" + file: body}
	}
	for name, tt := range map[string]struct {
		files map[string]string
		file  string
		want  string
	}{
		"missing table": {table("public_gone.yaml", "table: gone\n"), "public_gone.yaml", `no such table/view exists in source: "public.gone"`},
		"missing column in a permission": {map[string]string{posts: "table: posts\nselect_permissions:\n  - role: user\n    permission: {columns: [id, titel], filter: {}}\n"},
			"public_posts.yaml", `select_permissions of role user: column "titel" does not exist in table public.posts`},
		"missing column in a preset": {map[string]string{posts: "table: posts\ninsert_permissions:\n  - role: user\n    permission: {check: {}, columns: [title], set: {owner: x-hasura-user-id}}\n"},
			"public_posts.yaml", `insert_permissions of role user.set: column "owner" does not exist in table public.posts`},
		"permission for admin": {map[string]string{posts: "table: posts\ndelete_permissions:\n  - role: admin\n    permission: {filter: {}}\n"},
			"public_posts.yaml", "delete_permissions: role admin has every permission already; none can be given to it"},
		"no foreign key": {map[string]string{posts: "table: posts\nobject_relationships:\n  - name: writer\n    using: {foreign_key_constraint_on: title}\n"},
			"public_posts.yaml", `relationship "writer": no foreign key constraint exists on the column(s) [title] of table public.posts`},
		"untracked target": {table("public_notes.yaml", "table: notes\nconfiguration:\n  column_config:\n    two words: {custom_name: two_words}\nobject_relationships:\n  - name: post\n    using: {manual_configuration: {remote_table: missing_posts, column_mapping: {post_id: id}}}\n"),
			"public_notes.yaml", `relationship "post": table public.missing_posts is not tracked`},
		"manual mapping to a missing column": {table("public_notes.yaml", "table: notes\nconfiguration:\n  column_config:\n    two words: {custom_name: two_words}\nobject_relationships:\n  - name: post\n    using: {manual_configuration: {remote_table: posts, column_mapping: {post_id: uid}}}\n"),
			"public_notes.yaml", `relationship "post": column "uid" does not exist in table public.posts`},
		"relationship named like a column": {map[string]string{posts: "table: posts\nobject_relationships:\n  - name: title\n    using: {foreign_key_constraint_on: author_id}\n"},
			"public_posts.yaml", `relationship "title": table public.posts has a column of that name`},
		"column name not GraphQL": {table("public_notes.yaml", "table: notes\n"),
			"public_notes.yaml", `column "two words": "two words" is not a valid GraphQL name: give it a custom_name in configuration.column_config`},
		"two columns of one name": {map[string]string{posts: "table: posts\nconfiguration:\n  custom_column_names: {body: title}\n"},
			"public_posts.yaml", `columns "title" and "body" are both called "title" in the API`},
		"enum of int": {table("public_bad_enum.yaml", "table: bad_enum\nis_enum: true\n"),
			"public_bad_enum.yaml", `the table public.bad_enum cannot be used as an enum table: its primary key column "value" must be of type text, not int4`},
		"enum without rows": {table("public_empty_enum.yaml", "table: empty_enum\nis_enum: true\n"),
			"public_empty_enum.yaml", "the table public.empty_enum cannot be used as an enum table: it has no rows"},
		"enum value not GraphQL": {table("public_odd_enum.yaml", "table: odd_enum\nis_enum: true\n"),
			"public_odd_enum.yaml", `the table public.odd_enum cannot be used as an enum table: "not valid" is not a valid GraphQL enum value`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(example+"/metadata")); err != nil {
				t.Fatal(err)
			}
			for f, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(f)), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			md, err := metadata.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			_, err = project.Resolve(context.Background(), pool, md)
			want := filepath.Join(dir, "databases", "default", "tables", tt.file) + ": " + tt.want
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("got  %v\nwant %s", err, want)
			}
		})
	}
}
