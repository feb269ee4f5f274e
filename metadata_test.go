package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/pgtest"
)

const (
	exampleMetadata   = "internal/metadata/testdata/project/metadata"
	exampleMigrations = "internal/metadata/testdata/project/migrations"
)

// A Hasura project's metadata directory: its api_limits and introspection
// settings are served, and what is not served is named in the log.
func TestHasuraMetadataLimitsIntrospectionAndLog(t *testing.T) {
	t.Parallel()
	base, logs, stop := startOnDatabase(t, map[string]string{"HASURA_GRAPHQL_METADATA_DIR": exampleMetadata,
		"HASURA_GRAPHQL_MIGRATIONS_DIR": exampleMigrations})
	t.Cleanup(func() { _ = stop() })
	query := func(secret, q string) []byte {
		return postTo(t, http.DefaultClient, base, secret, `{"query": "`+q+`"}`)
	}
	// api_limits.yaml: depth_limit 10 for every role.
	assertJSON(t, query(testAdminSecret, nested(10)), `{"data":{"users":[]}}`)
	assertJSON(t, query(testAdminSecret, nested(11)),
		limitError("depth_limit of 10 for role 'admin' exceeded: the query is 11 levels deep", "validation-failed"))
	// graphql_schema_introspection.yaml: not for anonymous.
	assertJSON(t, query("", `{ __schema { queryType { name } } }`),
		`{"errors":[{"message":"field '__schema' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.__schema"}}]}`)
	assertJSON(t, query("", `{ __type(name: \"query_root\") { name } }`),
		`{"errors":[{"message":"field '__type' not found in type: 'query_root'","extensions":{"code":"validation-failed","path":"$.selectionSet.__type"}}]}`)
	assertJSON(t, query(testAdminSecret, `{ __schema { queryType { name } } }`), `{"data":{"__schema":{"queryType":{"name":"query_root"}}}}`)
	assertJSON(t, query("", `{ __typename }`), `{"data":{"__typename":"query_root"}}`)

	// The project's migrations ran, after freshgraph's own.
	for _, want := range []string{
		`msg="applied app migration" version=1700000000000 name=init`,
		`msg="serving Hasura metadata" tables=8 roles=anonymous,user`,
		`msg="applied app migration" version=1700000000100 name=post_status`,
		`msg="read Hasura metadata" dir=internal/metadata/testdata/project/metadata limits="depth_limit=10,anonymous=5 node_limit=200 batch_limit=5 time_limit=10s,anonymous=2s"`,
		`msg="metadata not served: databases/databases.yaml: source \"analytics\" (bigquery) is not served: freshgraph serves one PostgreSQL database"`,
		`msg="metadata not served: remote_schemas.yaml: remote schemas are not served"`,
		`msg="metadata not served: api_limits.yaml: rate_limit is not served (freshgraph limits only sign-in and sign-up attempts)"`,
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log lacks %s\n%s", want, logs)
		}
	}
}

// The environment overrides the metadata's api_limits.
func TestEnvironmentOverridesMetadataLimits(t *testing.T) {
	t.Parallel()
	cfg, err := loadConfig(mapEnv(map[string]string{"HASURA_GRAPHQL_METADATA_DIR": exampleMetadata, "DEPTH_LIMIT": "admin=12", "TIME_LIMIT": "20"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Limits.String(); got != "depth_limit=10,admin=12,anonymous=5 node_limit=200 batch_limit=5 time_limit=20s,anonymous=2s" {
		t.Errorf("limits %s", got)
	}
}

func mapEnv(env map[string]string) func(string) string {
	full := map[string]string{"DATABASE_URL": "set by the test", "SESSION_SECRET": testSessionSecret}
	for k, v := range env {
		full[k] = v
	}
	return func(k string) string { return full[k] }
}

// copyMetadata copies the example project with files replaced.
func copyMetadata(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(exampleMetadata)); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Metadata that cannot be honoured, or does not parse, stops the start
// with the file at fault.
func TestMetadataThatCannotBeServedRefusesTheStart(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		files map[string]string
		env   map[string]string
		want  string
	}{
		"an enforced allow list": {files: map[string]string{"allow_list.yaml": "- collection: allowed-queries\n"},
			env:  map[string]string{"HASURA_GRAPHQL_ENABLE_ALLOWLIST": "true"},
			want: "allow_list.yaml: the allow list is enabled (HASURA_GRAPHQL_ENABLE_ALLOWLIST) and freshgraph does not enforce it"},
		"a malformed file": {files: map[string]string{"api_limits.yaml": "depth_limit:\n  global: deep\n"},
			want: "api_limits.yaml:2:11: "},
		"a limit of zero": {files: map[string]string{"api_limits.yaml": "node_limit:\n  global: 0\n"},
			want: "api_limits.yaml: every limit must be a positive number"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := copyMetadata(t, tt.files)
			env := map[string]string{"HASURA_GRAPHQL_METADATA_DIR": dir}
			for k, v := range tt.env {
				env[k] = v
			}
			_, err := loadConfig(mapEnv(env))
			prefix := "HASURA_GRAPHQL_METADATA_DIR: " + dir + string(filepath.Separator)
			if err == nil || !strings.HasPrefix(err.Error(), prefix+tt.want) {
				t.Errorf("got  %v\nwant %s%s…", err, prefix, tt.want)
			}
		})
	}
}

// Metadata that does not fit the database stops the start after the
// migrations, naming the file.
func TestMetadataThatDoesNotFitTheDatabaseStopsTheStart(t *testing.T) {
	t.Parallel()
	dir := copyMetadata(t, map[string]string{"databases/default/tables/public_posts.yaml": "table: posts\nselect_permissions:\n  - role: user\n    permission: {columns: [titel], filter: {}}\n"})
	env := map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "PORT": "0", "SESSION_SECRET": testSessionSecret,
		"HASURA_GRAPHQL_METADATA_DIR": dir, "HASURA_GRAPHQL_MIGRATIONS_DIR": exampleMigrations}
	err := run(t.Context(), nil, func(k string) string { return env[k] }, io.Discard, io.Discard)
	want := "HASURA_GRAPHQL_METADATA_DIR: " + filepath.Join(dir, "databases", "default", "tables", "public_posts.yaml") +
		`: select_permissions of role user: column "titel" does not exist in table public.posts`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}
