package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5/pgxpool"
	dto "github.com/prometheus/client_model/go"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// The Grafana dashboard (docs/grafana/freshgraph.json) reads only series
// this server exposes, by the labels they have: every metric named in a
// panel's query, and every label it groups by or matches on.
func TestDashboardReadsTheseMetrics(t *testing.T) {
	pool, err := pgxpool.New(t.Context(), "postgres://nobody@127.0.0.1:1/none") // connects lazily: its Stat is all we need
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	m := New(pool)
	// One of everything, so that every series exists.
	m.ObserveRequest("query", &graphql.Response{Errors: gqlerror.List{{Message: "x", Rule: "limit:depth_limit",
		Extensions: map[string]any{"code": "validation-failed"}}}}, time.Millisecond)
	m.ObserveRequest("query", &graphql.Response{}, time.Millisecond)
	for _, kind := range []string{KindEvent, KindCron, KindAction} {
		m.Delivered(kind, "t", true, true)
	}
	m.EventTaken("t", time.Millisecond)
	m.EventCalled("t", time.Millisecond, true, time.Second)
	m.SessionRead(true)
	m.SessionsEnded(EndedSignOut, 1)
	m.LivePushed(time.Millisecond)
	m.Plan(PlanHit)
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]map[string]bool{} // a series' name → its labels
	for _, f := range families {
		names := []string{f.GetName()}
		if f.GetType() == dto.MetricType_HISTOGRAM {
			names = []string{f.GetName() + "_bucket", f.GetName() + "_sum", f.GetName() + "_count"}
		}
		for _, name := range names {
			labels[name] = map[string]bool{"job": true, "instance": true, "le": strings.HasSuffix(name, "_bucket")}
			for _, metric := range f.Metric {
				for _, l := range metric.Label {
					labels[name][l.GetName()] = true
				}
			}
		}
	}

	raw, err := os.ReadFile("../../docs/grafana/freshgraph.json")
	if err != nil {
		t.Fatal(err)
	}
	var dashboard any
	if err := json.Unmarshal(raw, &dashboard); err != nil {
		t.Fatal(err)
	}
	var exprs []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				} else {
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(dashboard)
	if len(exprs) < 20 {
		t.Fatalf("%d queries in the dashboard", len(exprs))
	}
	selector := regexp.MustCompile(`([a-z_:][a-z0-9_:]*)\{([^}]*)\}`)
	matcher := regexp.MustCompile(`([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)`)
	grouping := regexp.MustCompile(`\b(?:by|without)\s*\(([^)]*)\)`)
	for _, expr := range exprs {
		used := map[string]bool{} // the labels of the series this query reads
		found := selector.FindAllStringSubmatch(expr, -1)
		if len(found) == 0 {
			t.Errorf("no series in %s", expr)
		}
		for _, sel := range found {
			have, ok := labels[sel[1]]
			if !ok {
				t.Errorf("%s: no metric %s", expr, sel[1])
				continue
			}
			for l := range have {
				used[l] = true
			}
			for _, mt := range matcher.FindAllStringSubmatch(sel[2], -1) {
				if !have[mt[1]] {
					t.Errorf("%s: %s has no label %s", expr, sel[1], mt[1])
				}
			}
		}
		for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
			for _, l := range strings.Split(g[1], ",") {
				if l = strings.TrimSpace(l); l != "" && !used[l] {
					t.Errorf("%s: grouped by %s, which its series do not have", expr, l)
				}
			}
		}
	}
}
