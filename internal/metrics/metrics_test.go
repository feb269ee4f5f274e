package metrics

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// A code freshgraph does not send (an action handler's own, or none) is
// counted as "other", so a handler cannot add series; a refusal is counted
// by the limit its error is marked with, and only then.
func TestErrorLabelsAreBounded(t *testing.T) {
	m := New(nil)
	m.ObserveRequest("query", &graphql.Response{Errors: gqlerror.List{
		{Message: "a", Extensions: map[string]any{"code": "my-handler-code-1"}},
		{Message: "b", Extensions: map[string]any{"code": "my-handler-code-2"}},
		{Message: "c"},
		{Message: "d", Extensions: map[string]any{"code": 42}},
		{Message: "e", Extensions: map[string]any{"code": "permission-error"}},
		{Message: "f", Extensions: map[string]any{"code": "validation-failed"}, Rule: "limit:node_limit"},
		{Message: "g", Extensions: map[string]any{"code": "validation-failed"}, Rule: "NoUnusedFragments"},
	}}, 0)
	for code, want := range map[string]float64{"other": 4, "permission-error": 1, "validation-failed": 2} {
		if got := testutil.ToFloat64(m.errors.WithLabelValues(code)); got != want {
			t.Errorf("errors{code=%q} = %v, want %v", code, got, want)
		}
	}
	if n := testutil.CollectAndCount(m.errors); n != 3 {
		t.Errorf("%d error series, want 3", n)
	}
	if n := testutil.CollectAndCount(m.refusals); n != 1 || testutil.ToFloat64(m.refusals.WithLabelValues("node_limit")) != 1 {
		t.Errorf("%d refusal series", n)
	}
	if got := testutil.ToFloat64(m.byType["query"].failed); got != 1 {
		t.Errorf("failed queries: %v", got)
	}
}
