package main

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Live queries against their own queries and PostgreSQL, on the
// differential test's table of every type. Subscribed to, in both
// protocols and both HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES modes:
//   - every case of the differential test's where (each operator of each
//     column on several operands) as a literal and as a variable, its
//     answer PostgreSQL's ids for the same predicate;
//   - every column read back under each order_by direction, with limit and
//     offset as variables; each aggregate of each column; distinct_on each
//     column; every row by its key as a variable — each answer the same
//     query's at that moment, over HTTP.
//
// The variables' cases of one shape share a statement, so after a write
// they are answered together by the group's multiplexed statement, their
// variables read from the cohorts' JSON. Each subscription's first
// answer, and its last once writes by plain SQL — every row copied, a row
// given another's values, a row deleted — have been pushed, must be the
// oracle's at that moment; no subscription gets the same answer twice in
// a row, and every answer a copy changed is pushed.
func TestDifferentialLiveQueries(t *testing.T) {
	t.Parallel()
	for _, stringify := range []bool{false, true} {
		t.Run(fmt.Sprintf("stringify=%v", stringify), func(t *testing.T) {
			t.Parallel()
			d := newDifferential(t, map[string]string{"HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES": strconv.FormatBool(stringify)})
			subs := slices.Concat(d.liveWhereCases(), d.liveQueryCases())
			d.checkLive(t, subs)
		})
	}
}

// liveCase is a subscription and what it must answer now: want returns
// the answer's payload.
type liveCase struct {
	name  string
	query string
	vars  map[string]any
	want  func() (string, error)
}

// liveWhereCases are the where cases PostgreSQL can answer, as literals
// and as variables, each answered by PostgreSQL's ids.
func (d *differential) liveWhereCases() []liveCase {
	var cases []liveCase
	for _, c := range d.whereCaseList() {
		if holdsNull(c.v, strings.Count(c.typ, "[")) {
			continue // refused before it is run
		}
		if _, err := d.oracleIDs(c.sql, c.args...); err != nil {
			continue // PostgreSQL cannot read the operand: an error, not a live answer
		}
		want := func() (string, error) {
			ids, err := d.oracleIDs(c.sql, c.args...)
			return `{"data": {"alltypes": ` + ids + `}}`, err
		}
		where := func(operand string) string {
			return fmt.Sprintf("alltypes(where: {%s: {%s: %s}}, order_by: {id: asc}) { id }", c.col.name, c.op, operand)
		}
		name := c.col.name + "." + c.op
		if lit, ok := literal(c.v, c.col.enum && c.op != "_cast"); ok {
			cases = append(cases, liveCase{name: name + " (literal)", query: "subscription { " + where(lit) + " }", want: want})
		}
		cases = append(cases, liveCase{name: name + " (variable)", query: fmt.Sprintf("subscription ($v: %s) { %s }", c.typ, where("$v")),
			vars: map[string]any{"v": c.v}, want: want})
	}
	return cases
}

// liveQueryCases read every column back, order, page, aggregate and pick
// rows by key; each is answered by the same query over HTTP.
func (d *differential) liveQueryCases() []liveCase {
	var cases []liveCase
	add := func(name, query string, vars map[string]any) {
		q := strings.Replace(query, "subscription", "query", 1)
		// An error is pushed as a result (the subscription goes on).
		want := func() (string, error) {
			var answer struct{ Errors json.RawMessage }
			body := d.s.gql(d.t, q, vars, adminHeaders)
			if err := json.Unmarshal(body, &answer); err != nil {
				return "", fmt.Errorf("the query answers %s", body)
			}
			if answer.Errors != nil {
				return `{"data": null, "errors": ` + string(answer.Errors) + `}`, nil
			}
			return string(body), nil
		}
		if first, err := want(); err != nil || strings.Contains(first, `"errors"`) {
			return // an error at once ends the subscription: TestLiveQueryErrors
		}
		cases = append(cases, liveCase{name: name, query: query, vars: vars, want: want})
	}
	var names []string
	for _, col := range d.columns {
		names = append(names, col.name)
	}
	all := "id " + strings.Join(names, " ")
	for _, col := range append([]diffColumn{{name: "id"}}, d.columns...) {
		for _, dir := range []string{"asc", "desc_nulls_last"} {
			for _, page := range [][2]int{{2, 0}, {3, 2}, {100, 4}} {
				add(fmt.Sprintf("%s order_by %s limit %d offset %d", col.name, dir, page[0], page[1]),
					fmt.Sprintf("subscription ($l: Int, $o: Int) { alltypes(order_by: [{%s: %s}, {id: asc}], limit: $l, offset: $o) { %s } }", col.name, dir, all),
					map[string]any{"l": page[0], "o": page[1]})
			}
		}
		if col.name != "id" && !col.json {
			add(col.name+" distinct_on", fmt.Sprintf("subscription { alltypes(distinct_on: %[1]s, order_by: [{%[1]s: asc}, {id: asc}]) { id %[1]s } }", col.name), nil)
			add(col.name+" count distinct", fmt.Sprintf("subscription { alltypes_aggregate { aggregate { count(columns: %s, distinct: true) } } }", col.name), nil)
		}
	}
	for _, agg := range d.aggregates() {
		add(agg.fn+" of "+agg.column, fmt.Sprintf("subscription ($min: Int!) { alltypes_aggregate(where: {id: {_gte: $min}}) { aggregate { count %s { %s } } } }", agg.fn, agg.column),
			map[string]any{"min": 2})
	}
	var ids []int
	if err := d.pool.QueryRow(context.Background(), "SELECT array_agg(id ORDER BY id) FROM alltypes").Scan(&ids); err != nil {
		d.t.Fatal(err)
	}
	for _, id := range append(ids, 999) {
		add(fmt.Sprintf("by_pk %d", id), fmt.Sprintf("subscription ($id: Int!) { alltypes_by_pk(id: $id) { %s } }", all), map[string]any{"id": id})
	}
	return cases
}

// checkLive subscribes to every case, and checks their answers first and
// after each of a few writes.
func (d *differential) checkLive(t *testing.T, subs []liveCase) {
	ctx := context.Background()
	var mu sync.Mutex
	last := make([]string, len(subs))
	received := 0
	lastAt := time.Now()
	// Connections of up to WEBSOCKET_OPERATION_LIMIT (100) operations,
	// in both protocols.
	const perConnection = 100
	for first := 0; first < len(subs); first += perConnection {
		protocol := "graphql-transport-ws"
		if first/perConnection%2 == 1 {
			protocol = "graphql-ws"
		}
		c := liveAs(t, d.s, protocol, "admin", "")
		for i := first; i < min(first+perConnection, len(subs)); i++ {
			c.start(strconv.Itoa(i), subs[i].query, subs[i].vars)
		}
		go func() {
			for raw := range c.messages {
				var m struct {
					ID      int `json:"id,string"`
					Type    string
					Payload json.RawMessage
				}
				if err := json.Unmarshal(raw, &m); err != nil || m.Type != "next" && m.Type != "data" {
					t.Errorf("a message that is not an answer: %s", raw)
					continue
				}
				mu.Lock()
				if last[m.ID] == string(m.Payload) {
					t.Errorf("%s: the same answer twice: %s", subs[m.ID].name, m.Payload)
				}
				if last[m.ID] == "" {
					received++
				}
				last[m.ID] = string(m.Payload)
				lastAt = time.Now()
				mu.Unlock()
			}
		}()
	}

	// settle waits until every subscription has answered and no answer
	// has come for a second (20 refetch intervals) since it was called,
	// then compares each last answer with its oracle's.
	settle := func(step string) {
		t.Helper()
		mu.Lock()
		lastAt = time.Now() // the write just made may not have answered yet
		mu.Unlock()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			mu.Lock()
			done := received == len(subs) && time.Since(lastAt) > time.Second
			mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d of %d subscriptions answered", step, received, len(subs))
			}
			time.Sleep(100 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		failures := 0
		for i, sub := range subs {
			want, err := sub.want()
			if err != nil {
				t.Fatalf("%s: %s: %v", step, sub.name, err)
			}
			if !reflect.DeepEqual(decode(t, []byte(last[i])), decode(t, []byte(want))) {
				if failures++; failures <= 20 {
					t.Errorf("%s: %s: %s %v\n got %s\nwant %s", step, sub.name, sub.query, sub.vars, last[i], want)
				}
			}
		}
		if failures > 20 {
			t.Errorf("%s: and %d more", step, failures-20)
		}
		d.cases.Add(int64(len(subs)))
	}
	settle("first answers")

	// Writes by plain SQL, each changing what some of the subscriptions
	// answer.
	var ids []int
	if err := d.pool.QueryRow(ctx, "SELECT array_agg(id ORDER BY id) FROM alltypes").Scan(&ids); err != nil {
		t.Fatal(err)
	}
	cols := d.columnsList()
	mu.Lock()
	before := slices.Clone(last)
	mu.Unlock()
	for _, id := range ids {
		d.s.exec(t, fmt.Sprintf("INSERT INTO alltypes (id, %[1]s) SELECT $1, %[1]s FROM alltypes WHERE id = $2", cols), nextID(), id)
	}
	settle("after copies")
	mu.Lock()
	pushed := 0
	for i, sub := range subs {
		if last[i] != before[i] {
			pushed++
		} else if strings.Contains(sub.name, "(variable)") && last[i] != `{"data":{"alltypes":[]}}` {
			// Every row was copied: a where's answer that had a row has
			// changed, so it was pushed.
			t.Errorf("after copies: %s: not pushed: %s", sub.name, last[i])
		}
	}
	mu.Unlock()
	d.s.exec(t, fmt.Sprintf("UPDATE alltypes SET (%[1]s) = (SELECT %[1]s FROM alltypes WHERE id = $2) WHERE id = $1", cols), ids[0], ids[len(ids)-1])
	settle("after an update")
	d.s.exec(t, "DELETE FROM alltypes WHERE id = $1", ids[1])
	settle("after a delete")
	t.Logf("%d live queries, each right at once and after each of 3 writes; %d pushed after the copies", len(subs), pushed)
}
