package metadata

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestLoadsAHasuraExport(t *testing.T) {
	md, err := Load("testdata/project/metadata")
	if err != nil {
		t.Fatal(err)
	}
	if md.Source != "default" || len(md.Tables) != 3 {
		t.Fatalf("source %q with %d tables, want default with 3", md.Source, len(md.Tables))
	}
	authors, status, posts := md.Tables[0], md.Tables[1], md.Tables[2]
	if authors.Table.String() != "public.authors" || !status.IsEnum || posts.Table.String() != "public.posts" {
		t.Errorf("tables %s, %s (enum %v), %s", authors.Table, status.Table, status.IsEnum, posts.Table)
	}
	if fk := authors.ArrayRelationships[0].Using.ForeignKeyConstraintOn; authors.ArrayRelationships[0].Name != "posts" ||
		!slices.Equal(fk.Columns, []string{"author_id"}) || fk.Table.String() != "public.posts" {
		t.Errorf("authors.posts: %+v", authors.ArrayRelationships[0])
	}
	if fk := posts.ObjectRelationships[0].Using.ForeignKeyConstraintOn; !slices.Equal(fk.Columns, []string{"author_id"}) || fk.Table != nil {
		t.Errorf("posts.author: %+v", fk)
	}
	if m := posts.ObjectRelationships[1].Using.ManualConfiguration; m.RemoteTable.String() != "public.post_status" || m.ColumnMapping["status"] != "value" {
		t.Errorf("posts.status_info: %+v", m)
	}
	cfg := posts.Configuration
	if cfg.CustomName != "post" || cfg.CustomRootFields["select"].Name != "allPosts" ||
		cfg.CustomRootFields["select_by_pk"] != (RootField{Name: "postById", Comment: "One post"}) ||
		cfg.ColumnConfig["title"].CustomName != "headline" || cfg.CustomColumnNames["title"] != "headline" {
		t.Errorf("posts configuration: %+v", cfg)
	}
	anon, user := posts.SelectPermissions[0], posts.SelectPermissions[1]
	if anon.Role != "anonymous" || *anon.Permission.Limit != 20 || !slices.Equal(anon.Permission.Columns.Names, []string{"id", "title"}) ||
		anon.Permission.Filter.Value.(map[string]any)["status"].(map[string]any)["_eq"] != "published" {
		t.Errorf("anonymous select: %+v", anon.Permission)
	}
	if user.Role != "user" || !user.Permission.Columns.All || !user.Permission.AllowAggregations || len(user.Permission.Filter.Value.(map[string]any)["_or"].([]any)) != 2 {
		t.Errorf("user select: %+v", user.Permission)
	}
	ins := posts.InsertPermissions[0].Permission
	if ins.Set.Value.(map[string]any)["author_id"] != "x-hasura-User-Id" || !slices.Equal(ins.Columns.Names, []string{"body", "title"}) || ins.Check.Value.(map[string]any)["author_id"] == nil {
		t.Errorf("user insert: %+v", ins)
	}
	if upd := posts.UpdatePermissions[0].Permission; upd.Filter.Value == nil || upd.Check.Value == nil || len(upd.Columns.Names) != 3 {
		t.Errorf("user update: %+v", upd)
	}
	if del := posts.DeletePermissions[0].Permission; del.Filter.Value.(map[string]any)["author_id"] == nil {
		t.Errorf("user delete: %+v", del)
	}
	if posts.File != filepath.Join("testdata", "project", "metadata", "databases", "default", "tables", "public_posts.yaml") {
		t.Errorf("file %s", posts.File)
	}

	if et := posts.EventTriggers; len(et) != 1 || et[0].Name != "post_created" || et[0].Definition.Insert == nil || !et[0].Definition.Insert.Columns.All ||
		et[0].Definition.Update != nil || *et[0].RetryConf.TimeoutSec != 60 || et[0].Webhook != "http://example.com/post" {
		t.Errorf("event triggers: %+v", et)
	}

	l := md.APILimits
	if l == nil || l.Disabled || *l.DepthLimit.Global != 10 || l.DepthLimit.PerRole["anonymous"] != 5 || *l.NodeLimit.Global != 200 ||
		*l.TimeLimit.Global != 10 || l.TimeLimit.PerRole["anonymous"] != 2 || *l.BatchLimit.Global != 5 {
		t.Errorf("api limits: %+v", l)
	}
	if f := md.Functions; len(f) != 1 || f[0].Function != (QualifiedTable{Schema: "public", Name: "search_posts"}) ||
		!strings.HasSuffix(f[0].File, "databases/default/functions/public_search_posts.yaml") {
		t.Errorf("functions: %+v", f)
	}
	if !slices.Equal(md.IntrospectionDisabledFor, []string{"anonymous"}) || md.AllowList {
		t.Errorf("introspection disabled for %v, allow list %v", md.IntrospectionDisabledFor, md.AllowList)
	}
	want := []string{
		`databases/databases.yaml: source "analytics" (bigquery) is not served: freshgraph serves one PostgreSQL database`,
		`api_limits.yaml: rate_limit is not served (freshgraph limits only sign-in and sign-up attempts)`,
		`remote_schemas.yaml: remote schemas are not served`,
	}
	if !slices.Equal(md.NotServed, want) {
		t.Errorf("not served:\n%s\nwant:\n%s", strings.Join(md.NotServed, "\n"), strings.Join(want, "\n"))
	}
}

// project copies the example export into a directory of the test's, with
// files replaced (or removed, for "") as given.
func project(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	err := os.CopyFS(dir, os.DirFS("testdata/project/metadata"))
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if content == "" {
			err = os.Remove(p)
		} else {
			err = os.WriteFile(p, []byte(content), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBadMetadataStopsTheLoadWithItsFileAndLine(t *testing.T) {
	const tables = "databases/default/tables/"
	const posts = tables + "public_posts.yaml"
	for _, tt := range []struct {
		name  string
		files map[string]string
		want  string // after the directory
	}{
		{"yaml syntax", map[string]string{posts: "table:\n  name: posts\n select_permissions: [\n"},
			posts + ":3:2: "},
		{"unknown key in a permission", map[string]string{posts: "table: posts\nselect_permissions:\n  - role: user\n    permission:\n      columns: '*'\n      filtre: {}\n"},
			posts + `:6:7: unknown field "filtre"`},
		{"wrong type", map[string]string{posts: "table: posts\nselect_permissions:\n  - role: user\n    permission:\n      columns: [id]\n      limit: lots\n"},
			posts + ":6:14: "},
		{"columns neither a list nor *", map[string]string{posts: "table: posts\nselect_permissions:\n  - role: user\n    permission:\n      columns: id\n"},
			posts + `:5:16: columns must be a list or "*", got "id"`},
		{"version 2", map[string]string{"version.yaml": "version: 2\n"},
			"version.yaml: metadata version 2 is not supported: export it with a config v3 project (hasura scripts update-project-v3)"},
		{"no version", map[string]string{"version.yaml": ""}, "version.yaml: the file does not exist"},
		{"missing include", map[string]string{tables + "tables.yaml": "- \"!include public_missing.yaml\"\n"},
			tables + "public_missing.yaml: the file does not exist"},
		{"include outside the directory", map[string]string{tables + "tables.yaml": "- \"!include ../../../../secret.yaml\"\n"},
			tables + "tables.yaml:1:3: !include ../../../../secret.yaml leaves the metadata directory"},
		{"role given twice", map[string]string{posts: "table: posts\ndelete_permissions:\n  - role: user\n    permission: {filter: {}}\n  - role: user\n    permission: {filter: {}}\n"},
			posts + `: delete_permissions: role "user" is missing or given twice`},
		{"relationship both ways", map[string]string{posts: "table: posts\nobject_relationships:\n  - name: author\n    using:\n      foreign_key_constraint_on: author_id\n      manual_configuration: {remote_table: authors, column_mapping: {author_id: id}}\n"},
			posts + `: relationship "author" needs using.foreign_key_constraint_on or using.manual_configuration, not both`},
		{"table tracked twice", map[string]string{tables + "tables.yaml": "- \"!include public_posts.yaml\"\n- table: {schema: public, name: posts}\n"},
			tables + "tables.yaml: table public.posts is tracked twice (also in "},
		{"event trigger name", map[string]string{posts: "table: posts\nevent_triggers:\n  - name: 1st\n    definition: {insert: {columns: '*'}}\n    webhook: http://h\n"},
			posts + `: event trigger "1st": a name is a letter, then up to 41 letters, digits, _ or -`},
		{"event trigger name too long", map[string]string{posts: "table: posts\nevent_triggers:\n  - name: " + strings.Repeat("a", 43) + "\n    definition: {insert: {columns: '*'}}\n    webhook: http://h\n"},
			posts + `: event trigger "aaaa`},
		{"event trigger with no operation", map[string]string{posts: "table: posts\nevent_triggers:\n  - name: t\n    definition: {}\n    webhook: http://h\n"},
			posts + `: event trigger "t": its definition names no operation (insert, update, delete or enable_manual)`},
		{"event trigger with two webhooks", map[string]string{posts: "table: posts\nevent_triggers:\n  - name: t\n    definition: {delete: {columns: '*'}}\n    webhook: http://h\n    webhook_from_env: HOOK\n"},
			posts + `: event trigger "t" needs webhook or webhook_from_env, not both`},
		{"event trigger header with two values", map[string]string{posts: "table: posts\nevent_triggers:\n  - name: t\n    definition: {delete: {columns: '*'}}\n    webhook: http://h\n    headers: [{name: X, value: a, value_from_env: B}]\n"},
			posts + `: event trigger "t": header "X" needs value or value_from_env, not both`},
		{"event trigger unknown key", map[string]string{posts: "table: posts\nevent_triggers:\n  - name: t\n    definition: {insert: {columns: '*', colums: []}}\n    webhook: http://h\n"},
			posts + `:4:41: unknown field "colums"`},
		{"event trigger defined twice", map[string]string{tables + "tables.yaml": "- table: a\n  event_triggers: [{name: t, definition: {insert: {columns: '*'}}, webhook: http://h}]\n- table: b\n  event_triggers: [{name: t, definition: {insert: {columns: '*'}}, webhook: http://h}]\n"},
			tables + `tables.yaml: event trigger "t" is defined twice (also in `},
		{"cron schedule", map[string]string{"cron_triggers.yaml": "- name: c\n  webhook: http://h\n  schedule: '61 * * * *'\n"},
			`cron_triggers.yaml:1:7: cron trigger "c": schedule "61 * * * *": `},
		{"cron @every", map[string]string{"cron_triggers.yaml": "- name: c\n  webhook: http://h\n  schedule: '@every 1m'\n"},
			`cron_triggers.yaml:1:7: cron trigger "c": schedule "@every 1m": @every is not a cron expression`},
		{"cron without webhook", map[string]string{"cron_triggers.yaml": "- name: c\n  schedule: '* * * * *'\n"},
			`cron_triggers.yaml:1:7: cron trigger "c" needs a webhook`},
		{"cron defined twice", map[string]string{"cron_triggers.yaml": "- {name: c, webhook: http://h, schedule: '* * * * *'}\n- {name: c, webhook: http://h, schedule: '* * * * *'}\n"},
			`cron_triggers.yaml:2:3: cron trigger "c" is defined twice`},
		{"cron negative retries", map[string]string{"cron_triggers.yaml": "- {name: c, webhook: http://h, schedule: '* * * * *', retry_conf: {num_retries: -1}}\n"},
			`cron_triggers.yaml:1:3: cron trigger "c": retry_conf values cannot be negative`},
		{"action without its field", map[string]string{"actions.yaml": "actions:\n  - name: login\n    definition: {handler: http://h}\n", "actions.graphql": "type Query { me: String }\n"},
			`actions.yaml: action login: actions.graphql has no field login in type Mutation`},
		{"action graphql syntax", map[string]string{"actions.yaml": "actions:\n  - name: login\n    definition: {handler: http://h}\n", "actions.graphql": "type Mutation { login(: String }\n"},
			`actions.graphql:1:23: Expected Name, found :`},
		{"action without handler", map[string]string{"actions.yaml": "actions:\n  - name: login\n    definition: {}\n", "actions.graphql": "type Mutation { login: String }\n"},
			`actions.yaml: action login has no handler`},
		{"asynchronous query action", map[string]string{"actions.yaml": "actions:\n  - name: me\n    definition: {handler: http://h, type: query, kind: asynchronous}\n", "actions.graphql": "type Query { me: String }\n"},
			`actions.yaml: action me: a query action cannot be asynchronous`},
		{"action role twice", map[string]string{"actions.yaml": "actions:\n  - name: login\n    definition: {handler: http://h}\n    permissions: [{role: user}, {role: user}]\n", "actions.graphql": "type Mutation { login: String }\n"},
			`actions.yaml: action login: permissions: role "user" is missing or given twice`},
		{"action unknown key", map[string]string{"actions.yaml": "actions:\n  - name: login\n    definition: {handler: http://h, handlr: x}\n", "actions.graphql": "type Mutation { login: String }\n"},
			`actions.yaml:3:37: unknown field "handlr"`},
		{"function exposed as neither", map[string]string{"databases/databases.yaml": functionsSource, "databases/default/functions/functions.yaml": "- {function: {name: f, schema: public}, configuration: {exposed_as: both}}\n"},
			`databases/default/functions/functions.yaml: function public.f: exposed_as "both" is not query or mutation`},
		{"function tracked twice", map[string]string{"databases/databases.yaml": functionsSource, "databases/default/functions/functions.yaml": "- function: f\n- function: {name: f, schema: public}\n"},
			`databases/default/functions/functions.yaml: function public.f is tracked twice (also in databases/default/functions/functions.yaml)`},
		{"function root fields alike", map[string]string{"databases/databases.yaml": functionsSource, "databases/default/functions/functions.yaml": "- {function: f, configuration: {custom_root_fields: {function: g, function_aggregate: g}}}\n"},
			`databases/default/functions/functions.yaml: function public.f: the following custom root field names are duplicated: "g" and "g"`},
		{"function key unknown", map[string]string{"databases/databases.yaml": functionsSource, "databases/default/functions/functions.yaml": "- {function: f, configuration: {custom_nam: g}}\n"},
			`databases/default/functions/functions.yaml:1:33: unknown field "custom_nam"`},
		{"asynchronous action of a scalar", map[string]string{"actions.yaml": "actions:\n  - name: login\n    definition: {handler: http://h, kind: asynchronous}\n", "actions.graphql": "type Mutation { login: String }\n"},
			`actions.yaml: action login: an asynchronous action's output type must be an object type (or a list of one)`},
		{"relationship named as a field", relationshipCase("{name: id, type: object, remote_table: user, field_mapping: {id: id}}"),
			`actions.yaml: custom type UserId: relationship id has the name of a field of the type`},
		{"relationship of another type", relationshipCase("{name: user, type: one, remote_table: user, field_mapping: {id: id}}"),
			`actions.yaml: custom type UserId: relationship user: type "one" is not object or array`},
		{"relationship from no field", relationshipCase("{name: user, type: object, remote_table: user, field_mapping: {uid: id}}"),
			`actions.yaml: custom type UserId: relationship user: the type has no field uid`},
		{"relationship from a list", relationshipCase("{name: user, type: object, remote_table: user, field_mapping: {tags: id}}"),
			`actions.yaml: custom type UserId: relationship user: field tags is a list, and cannot be mapped to a column`},
		{"relationship without mapping", relationshipCase("{name: user, type: array, remote_table: user}"),
			`actions.yaml: custom type UserId: relationship user has no field_mapping`},
		{"relationship to another source", relationshipCase("{name: user, type: array, remote_table: user, source: other, field_mapping: {id: id}}"),
			`actions.yaml: custom type UserId: relationship user: source "other" is not served (only the default database is)`},
		{"tables not a list", map[string]string{tables + "tables.yaml": "posts: yes\n"},
			tables + "tables.yaml:1:6: expected a list, or \"!include file.yaml\""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := project(t, tt.files)
			_, err := Load(dir)
			if err == nil {
				t.Fatal("loaded")
			}
			got := strings.TrimPrefix(err.Error(), dir+string(filepath.Separator))
			if !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %s\nwant %s…", got, tt.want)
			}
		})
	}
}

func TestInlineTablesAndTheOptionalFiles(t *testing.T) {
	dir := project(t, map[string]string{
		"databases/default/tables/tables.yaml": "- table: notes\n  select_permissions:\n    - role: user\n      permission: {columns: [id], filter: {}}\n",
		"api_limits.yaml":                      "", "graphql_schema_introspection.yaml": "", "remote_schemas.yaml": "",
		"allow_list.yaml": "- collection: allowed-queries\n",
		"notes.txt":       "hello\n",
	})
	md, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Tables) != 1 || md.Tables[0].Table.String() != "public.notes" || md.APILimits != nil || md.IntrospectionDisabledFor != nil || !md.AllowList {
		t.Errorf("%+v", md)
	}
	if !slices.Contains(md.NotServed, "notes.txt is not part of Hasura's metadata layout; it is ignored") {
		t.Errorf("not served: %v", md.NotServed)
	}
}

// relationshipCase is a project whose action's output type UserId has the
// relationship rel.
func relationshipCase(rel string) map[string]string {
	return map[string]string{
		"actions.yaml":    "actions:\n  - name: login\n    definition: {handler: http://h}\ncustom_types:\n  objects:\n    - name: UserId\n      relationships: [" + rel + "]\n",
		"actions.graphql": "type Mutation { login: UserId }\ntype UserId { id: Int!, tags: [String] }\n",
	}
}

// functionsSource is a databases.yaml whose source tracks the functions of
// default/functions/functions.yaml.
const functionsSource = "- name: default\n  kind: postgres\n  configuration: {}\n  functions: \"!include default/functions/functions.yaml\"\n"
