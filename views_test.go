package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// viewsProject is the example project with views and a table without a
// primary key tracked: published (which PostgreSQL writes through, with a
// manual relationship to users), post_stats (an aggregate: read only),
// post_titles (read only but for its INSTEAD OF INSERT trigger) and nokey.
func viewsProject(t *testing.T) string {
	return projectWith(t, `
CREATE VIEW public.published AS SELECT id, title, likes, author_id, status FROM public.posts WHERE status = 'published';
CREATE VIEW public.post_stats AS SELECT author_id, count(*)::integer AS n FROM public.posts GROUP BY author_id;
CREATE VIEW public.post_titles AS SELECT DISTINCT title, author_id FROM public.posts;
CREATE FUNCTION public.insert_post_title() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.posts (title, author_id) VALUES (NEW.title, NEW.author_id);
    RETURN NEW;
END $$;
CREATE TRIGGER insert_post_title INSTEAD OF INSERT ON public.post_titles FOR EACH ROW EXECUTE FUNCTION public.insert_post_title();
CREATE TABLE public.nokey (a integer, b text);
`, map[string]string{
		"public_published.yaml":   "table: {name: published, schema: public}\nobject_relationships:\n  - name: author\n    using:\n      manual_configuration:\n        remote_table: {name: users, schema: public}\n        column_mapping: {author_id: id}\n",
		"public_post_stats.yaml":  "table: {name: post_stats, schema: public}\n",
		"public_post_titles.yaml": "table: {name: post_titles, schema: public}\n",
		"public_nokey.yaml":       "table: {name: nokey, schema: public}\n",
	})
}

// Views and tables without a primary key are served as Hasura serves
// them: read (lists, aggregates, relationships by manual configuration),
// with no _by_pk; written where PostgreSQL writes them (an updatable view,
// an INSTEAD OF trigger), and not offered where it cannot.
func TestViewsAndTablesWithoutAKey(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, withProject(t, viewsProject(t), nil))
	examplePosts(t, s)
	assertJSON(t, s.gql(t, `{ published(order_by: {title: asc}) { title author { name } } published_aggregate { aggregate { count } } }`, nil, adminHeaders),
		`{"data":{"published":[{"title":"Go","author":{"name":"Alice"}},{"title":"SQL","author":{"name":"Bob"}}],"published_aggregate":{"aggregate":{"count":2}}}}`)
	assertJSON(t, s.gql(t, `mutation { insert_published_one(object: {title: "Via view", author_id: "`+alice+`", status: "published"}) { title }
		update_published(where: {title: {_eq: "Go"}}, _inc: {likes: 1}) { returning { likes } } }`, nil, adminHeaders),
		`{"data":{"insert_published_one":{"title":"Via view"},"update_published":{"returning":[{"likes":4}]}}}`)
	assertJSON(t, s.gql(t, `mutation { delete_published(where: {title: {_eq: "Via view"}}) { affected_rows } }`, nil, adminHeaders),
		`{"data":{"delete_published":{"affected_rows":1}}}`)
	assertJSON(t, s.gql(t, `mutation { insert_post_titles(objects: [{title: "Titled", author_id: "`+alice+`"}]) { affected_rows } }`, nil, adminHeaders),
		`{"data":{"insert_post_titles":{"affected_rows":1}}}`)
	assertJSON(t, s.gql(t, `mutation { nokey: insert_nokey(objects: [{a: 1, b: "x"}, {a: 2}]) { affected_rows } update_nokey(where: {a: {_eq: 2}}, _set: {b: "y"}) { affected_rows } }`, nil, adminHeaders),
		`{"data":{"nokey":{"affected_rows":2},"update_nokey":{"affected_rows":1}}}`)
	assertJSON(t, s.gql(t, `{ nokey(order_by: {a: asc}) { a b } nokey_aggregate { aggregate { count } } }`, nil, adminHeaders),
		`{"data":{"nokey":[{"a":1,"b":"x"},{"a":2,"b":"y"}],"nokey_aggregate":{"aggregate":{"count":2}}}}`)

	// What PostgreSQL cannot write, and _by_pk of what has no key, are no
	// root fields, even the admin's.
	for _, tt := range []struct{ query, field, root string }{
		{`mutation { insert_post_stats(objects: [{n: 1}]) { affected_rows } }`, "insert_post_stats", "mutation_root"},
		{`mutation { update_post_stats(where: {}, _set: {n: 1}) { affected_rows } }`, "update_post_stats", "mutation_root"},
		{`mutation { delete_post_stats(where: {}) { affected_rows } }`, "delete_post_stats", "mutation_root"},
		{`mutation { delete_post_titles(where: {}) { affected_rows } }`, "delete_post_titles", "mutation_root"},
		{`{ published_by_pk(id: "` + alice + `") { title } }`, "published_by_pk", "query_root"},
		{`{ nokey_by_pk(a: 1) { a } }`, "nokey_by_pk", "query_root"},
	} {
		assertJSON(t, s.gql(t, tt.query, nil, adminHeaders), `{"errors":[{"message":"field '`+tt.field+`' not found in type: '`+tt.root+
			`'","extensions":{"code":"validation-failed","path":"$.selectionSet.`+tt.field+`"}}]}`)
	}
}

// A permission to write a view PostgreSQL cannot write through stops the
// start, named.
func TestWritePermissionOnAReadOnlyView(t *testing.T) {
	t.Parallel()
	dir := viewsProject(t)
	s := newTestServer(t, withProject(t, dir, nil))
	file := filepath.Join(dir, "metadata", "databases", "default", "tables", "public_post_stats.yaml")
	if err := os.WriteFile(file, []byte("table: {name: post_stats, schema: public}\ninsert_permissions:\n  - role: user\n    permission: {check: {}, columns: [n]}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := startError(t, s, dir, nil)
	want := "public_post_stats.yaml: insert_permissions of role user: PostgreSQL cannot insert into view public.post_stats: it is a view it cannot write through, and has no INSTEAD OF trigger for it"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%v\nwant %q", err, want)
	}
}
