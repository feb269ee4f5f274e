package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/pgtest"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
	"github.com/freshgraph/freshgraph/internal/tablestest"
)

// compileFilters compiles a where and an order_by on users, as the root field
// users(where:, order_by:) would, for the given role.
func compileFilters(cat *tables.Catalogue, in map[string]any, caller auth.Caller) (string, []any, error) {
	users := cat.Users()
	c := newCompiler(&graphql.OperationContext{Variables: map[string]any{}}, cat.View(string(caller.Role), true), caller)
	args := map[string]any{}
	for _, k := range []string{"where", "order_by", "distinct_on", "limit", "offset"} {
		if v, ok := in[k]; ok {
			args[k] = v
		}
	}
	q, err := c.parseRows(users, "t1", args, "$")
	if err != nil {
		return "", nil, err
	}
	b := &sqlbuild.Builder{}
	if err := c.writeRows(b, users, "t1", q, nil, "$"); err != nil {
		return "", nil, err
	}
	return b.SQL(), b.Args(), nil
}

// replaceValues returns v with every string and number that is a value (not
// an object key) replaced by another of the same kind.
func replaceValues(v any, n *int) any {
	switch x := v.(type) {
	case map[string]any:
		m := map[string]any{}
		for k, e := range x {
			m[k] = replaceValues(e, n)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = replaceValues(e, n)
		}
		return l
	case string:
		*n++
		return fmt.Sprintf("value%d", *n)
	case json.Number:
		*n++
		return json.Number(fmt.Sprint(*n))
	}
	return v
}

// stringValues lists the string values (not keys) in v.
func stringValues(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			stringValues(e, out)
		}
	case []any:
		for _, e := range x {
			stringValues(e, out)
		}
	case string:
		*out = append(*out, x)
	}
}

// FuzzWhereOrderBy checks, for any where/order_by/distinct_on/limit/offset a
// client could send, that compiling never panics and that the SQL text never
// carries a value: the same shape with other values gives the same text, and
// no string a client sent with a quote mark or semicolon in it appears in the
// text.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func FuzzWhereOrderBy(f *testing.F) {
	cat := tablestest.Builtin(f)
	for _, seed := range []string{
		`{"where": {"name": {"_eq": "x'; DROP TABLE users; --"}}}`,
		`{"where": {"_or": [{"email": {"_like": "%a"}}, {"accounts": {"provider": {"_in": ["a", "b"]}}}]}}`,
		`{"where": {"accounts_aggregate": {"count": {"predicate": {"_gt": 1}, "filter": {"provider": {"_eq": "x"}}, "arguments": ["id"], "distinct": true}}}}`,
		`{"where": {"_not": {"id": {"_is_null": true}}, "emailVerified": {"_gte": "2024-01-01T00:00:00Z"}}}`,
		`{"where": {"sessions": {"user": {"name": {"_regex": "^a"}}}}}`,
		`{"order_by": [{"name": "desc_nulls_last"}, {"accounts_aggregate": {"count": "asc", "max": {"provider": "desc"}}}]}`,
		`{"order_by": {"email": "asc"}, "distinct_on": ["email"], "limit": 10, "offset": 5}`,
		`{"where": {"name": {"_eq": null}}}`,
		`{"where": {"_and": {}}, "limit": -1}`,
	} {
		f.Add([]byte(seed))
	}
	callers := []auth.Caller{{Role: auth.RoleAdmin}, {Role: auth.RoleUser, SessionToken: "token'--"}, {Role: auth.RoleAnonymous}}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var in map[string]any
		if err := dec.Decode(&in); err != nil {
			return
		}
		for _, caller := range callers {
			sql, _, err := compileFilters(cat, in, caller)
			if err != nil {
				continue
			}
			var values []string
			stringValues(in, &values)
			for _, v := range values {
				// The server's own SQL here has no quote marks or semicolons.
				if strings.ContainsAny(v, "';") && strings.Contains(sql, v) {
					t.Fatalf("the SQL text holds the value %q:\n%s", v, sql)
				}
			}
			n := 0
			other, _, err := compileFilters(cat, replaceValues(in, &n).(map[string]any), caller)
			if err == nil && other != sql {
				t.Fatalf("the SQL text depends on the values:\n%s\n%s", sql, other)
			}
		}
	})
}
