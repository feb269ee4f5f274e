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

// liveSubscriptions are many subscriptions to one server, each as its
// role and user, on connections of up to WEBSOCKET_OPERATION_LIMIT (100)
// operations, in both protocols. Each result is handed to got under mu,
// in the order it came.
type liveSubscriptions struct {
	mu       sync.Mutex
	answered []bool
	received int       // how many have answered
	lastAt   time.Time // the last result's
}

// liveSub is a subscription as the role and user (X-Hasura-User-Id) the
// admin secret poses as; role "" is the unauthorized role.
type liveSub struct {
	query      string
	vars       map[string]any
	role, user string
}

func subscribeAll(t *testing.T, s *testServer, subs []liveSub, got func(i int, payload json.RawMessage)) *liveSubscriptions {
	l := &liveSubscriptions{answered: make([]bool, len(subs)), lastAt: time.Now()}
	var order []string
	byWho := map[string][]int{}
	for i, sub := range subs {
		who := sub.role + "/" + sub.user
		if byWho[who] == nil {
			order = append(order, who)
		}
		byWho[who] = append(byWho[who], i)
	}
	const perConnection = 100
	connections := 0
	for _, who := range order {
		for chunk := range slices.Chunk(byWho[who], perConnection) {
			protocol := "graphql-transport-ws"
			if connections++; connections%2 == 0 {
				protocol = "graphql-ws"
			}
			c := liveAs(t, s, protocol, subs[chunk[0]].role, subs[chunk[0]].user)
			for _, i := range chunk {
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
						t.Errorf("%s: a message that is not a result: %s", subs[m.ID].query, raw)
						continue
					}
					l.mu.Lock()
					if !l.answered[m.ID] {
						l.answered[m.ID] = true
						l.received++
					}
					l.lastAt = time.Now()
					got(m.ID, m.Payload)
					l.mu.Unlock()
				}
			}()
		}
	}
	return l
}

// settle waits until every subscription has answered (but those that
// need not) and no result has come for a second (20 refetch intervals)
// since it was called.
func (l *liveSubscriptions) settle(t *testing.T, step string, silent int) {
	t.Helper()
	l.mu.Lock()
	l.lastAt = time.Now() // a write just made may not have answered yet
	l.mu.Unlock()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		l.mu.Lock()
		done := l.received >= len(l.answered)-silent && time.Since(l.lastAt) > time.Second
		received := l.received
		l.mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d subscriptions answered (%d need not)", step, received, len(l.answered), silent)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// httpAnswer is sub's query answered over HTTP as sub's role and user, in
// a subscription result's shape: errors as {"data": null, "errors": …}.
func httpAnswer(t *testing.T, s *testServer, sub liveSub) string {
	var headers map[string]string
	if sub.role != "" {
		headers = map[string]string{"X-Hasura-Admin-Secret": testAdminSecret, "X-Hasura-Role": sub.role, "X-Hasura-User-Id": sub.user}
	}
	body := s.gql(t, strings.Replace(sub.query, "subscription", "query", 1), sub.vars, headers)
	var a struct{ Errors json.RawMessage }
	_ = json.Unmarshal(body, &a)
	if a.Errors != nil {
		return `{"data": null, "errors": ` + string(a.Errors) + `}`
	}
	return string(body)
}

// liveFollower holds the last result of each of its subscriptions.
type liveFollower struct {
	*liveSubscriptions
	subs []liveSub
	last []string
}

// followLive subscribes to each of subs. No subscription may get the same
// result twice in a row.
func followLive(t *testing.T, s *testServer, subs []liveSub) *liveFollower {
	f := &liveFollower{subs: subs, last: make([]string, len(subs))}
	f.liveSubscriptions = subscribeAll(t, s, subs, func(i int, payload json.RawMessage) {
		if f.last[i] == string(payload) {
			t.Errorf("as %q %s: %s %v: the same result twice: %s", subs[i].role, subs[i].user, subs[i].query, subs[i].vars, payload)
		}
		f.last[i] = string(payload)
	})
	return f
}

// check waits for the results to settle, then compares each
// subscription's last with want(i), telling the first 20 that differ.
func (f *liveFollower) check(t *testing.T, step string, want func(i int) string) {
	t.Helper()
	f.settle(t, step, 0)
	f.mu.Lock()
	defer f.mu.Unlock()
	failures := 0
	for i, sub := range f.subs {
		w := want(i)
		if reflect.DeepEqual(decode(t, []byte(f.last[i])), decode(t, []byte(w))) {
			continue
		}
		if failures++; failures <= 20 {
			t.Errorf("%s: as %q %s: %s %v\n got %s\nwant %s", step, sub.role, sub.user, sub.query, sub.vars, f.last[i], w)
		}
	}
	if failures > 20 {
		t.Errorf("%s: and %d more", step, failures-20)
	}
}

// followAgainstHTTP subscribes to each of subs and returns check: once the
// results have settled, each subscription's last must be httpAnswer's.
func followAgainstHTTP(t *testing.T, s *testServer, subs []liveSub) (check func(step string)) {
	f := followLive(t, s, subs)
	return func(step string) {
		t.Helper()
		f.check(t, step, func(i int) string { return httpAnswer(t, s, subs[i]) })
	}
}

// checkLive subscribes to every case, and checks their answers first and
// after each of a few writes.
func (d *differential) checkLive(t *testing.T, subs []liveCase) {
	ctx := context.Background()
	asAdmin := make([]liveSub, len(subs))
	for i, sub := range subs {
		asAdmin[i] = liveSub{query: sub.query, vars: sub.vars, role: "admin"}
	}
	f := followLive(t, d.s, asAdmin)
	last := f.last

	// settle waits for the answers, then compares each last one with its
	// oracle's.
	settle := func(step string) {
		t.Helper()
		f.check(t, step, func(i int) string {
			want, err := subs[i].want()
			if err != nil {
				t.Fatalf("%s: %s: %v", step, subs[i].name, err)
			}
			return want
		})
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
	f.mu.Lock()
	before := slices.Clone(last)
	f.mu.Unlock()
	for _, id := range ids {
		d.s.exec(t, fmt.Sprintf("INSERT INTO alltypes (id, %[1]s) SELECT $1, %[1]s FROM alltypes WHERE id = $2", cols), nextID(), id)
	}
	settle("after copies")
	f.mu.Lock()
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
	f.mu.Unlock()
	d.s.exec(t, fmt.Sprintf("UPDATE alltypes SET (%[1]s) = (SELECT %[1]s FROM alltypes WHERE id = $2) WHERE id = $1", cols), ids[0], ids[len(ids)-1])
	settle("after an update")
	d.s.exec(t, "DELETE FROM alltypes WHERE id = $1", ids[1])
	settle("after a delete")
	t.Logf("%d live queries, each right at once and after each of 3 writes; %d pushed after the copies", len(subs), pushed)
}

// Streams with every column of the table of every type as the cursor, in
// both orderings, from each of the column's values as a literal and as a
// variable, two rows a batch: each stream sends, in batches of at most two,
// exactly the rows PostgreSQL orders after the initial value (by the
// cursor, then the key, in the stream's direction; NULLs never); then, once
// every row has been copied (each copy ties with its original's cursor
// value), exactly the copies after the last row it sent. An array's
// initial value is also written as its literal, a string.
func TestDifferentialLiveStreams(t *testing.T) {
	t.Parallel()
	d := newDifferential(t, nil)
	ctx := context.Background()
	var input struct {
		Data struct {
			Type struct {
				InputFields []struct {
					Name string
					Type json.RawMessage
				}
			} `json:"__type"`
		}
	}
	if err := json.Unmarshal(d.s.gql(t, `{ __type(name: "alltypes_stream_cursor_value_input") { inputFields { name type { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }`, nil, adminHeaders), &input); err != nil {
		t.Fatal(err)
	}
	type stream struct {
		name   string
		col    string
		desc   bool
		source int // the row whose value the stream starts after
		query  string
		vars   map[string]any
	}
	var streams []stream
	for _, f := range input.Data.Type.InputFields {
		if f.Name == "id" {
			continue
		}
		col := d.column(f.Name)
		typ := graphqlTypeOf(f.Type)
		rows, err := d.pool.Query(ctx, fmt.Sprintf(`SELECT DISTINCT ON (%[1]q::text) id, %[1]q::text, to_jsonb(%[1]q) FROM alltypes WHERE %[1]q IS NOT NULL ORDER BY %[1]q::text, id`, col.name))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int
			var v diffValue
			if err := rows.Scan(&id, &v.text, &v.json); err != nil {
				t.Fatal(err)
			}
			value := decode(t, v.json)
			if holdsNull(value, strings.Count(typ, "[")) {
				continue // GraphQL's null, or an array with one: no cursor value
			}
			for _, desc := range []bool{false, true} {
				ordering := "ASC"
				if desc {
					ordering = "DESC"
				}
				field := func(operand string) string {
					return fmt.Sprintf("alltypes_stream(batch_size: 2, cursor: {initial_value: {%s: %s}, ordering: %s}) { id }", col.name, operand, ordering)
				}
				name := fmt.Sprintf("%s %s from %s", col.name, ordering, v.text)
				if lit, ok := literal(value, col.enum); ok {
					streams = append(streams, stream{name: name + " (literal)", col: col.name, desc: desc, source: id, query: "subscription { " + field(lit) + " }"})
				}
				streams = append(streams, stream{name: name + " (variable)", col: col.name, desc: desc, source: id,
					query: fmt.Sprintf("subscription ($v: %s) { %s }", typ, field("$v")), vars: map[string]any{"v": value}})
				if col.array {
					lit, _ := literal(v.text, false) // an array's literal, as a string
					streams = append(streams, stream{name: name + " (array literal)", col: col.name, desc: desc, source: id, query: "subscription { " + field(lit) + " }"})
				}
			}
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
	}
	if len(streams) < 400 {
		t.Fatalf("only %d streams", len(streams))
	}

	// oracle is the ids PostgreSQL orders after the position: the source
	// row's value (key NULL: after every row of that value), or the row
	// after's value and key.
	oracle := func(s stream, after int) []int {
		cmp, dir := ">", "ASC"
		if s.desc {
			cmp, dir = "<", "DESC"
		}
		col := strconv.Quote(s.col)
		if d.column(s.col).json {
			col += "::jsonb" // json has no order: it streams as jsonb
		}
		where := fmt.Sprintf("%[1]s %[2]s (SELECT %[1]s FROM alltypes WHERE id = $1)", col, cmp)
		arg := s.source
		if after != 0 {
			where, arg = fmt.Sprintf("(%[1]s, id) %[2]s (SELECT %[1]s, id FROM alltypes WHERE id = $1)", col, cmp), after
		}
		var ids []int
		if err := d.pool.QueryRow(ctx, fmt.Sprintf("SELECT coalesce(array_agg(id ORDER BY %[1]s %[2]s, id %[2]s), '{}') FROM alltypes WHERE %[3]s", col, dir, where), arg).Scan(&ids); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		return ids
	}

	// A stream with no row after its initial value sends nothing.
	subs := make([]liveSub, len(streams))
	wants := make([][]int, len(streams))
	silent := 0
	for i, s := range streams {
		subs[i] = liveSub{query: s.query, vars: s.vars, role: "admin"}
		if wants[i] = oracle(s, 0); len(wants[i]) == 0 {
			silent++
		}
	}
	sent := make([][]int, len(streams))
	l := subscribeAll(t, d.s, subs, func(i int, payload json.RawMessage) {
		var m struct {
			Data struct {
				Rows []struct{ ID int } `json:"alltypes_stream"`
			}
		}
		if err := json.Unmarshal(payload, &m); err != nil || m.Data.Rows == nil {
			t.Errorf("%s: %s", streams[i].name, payload)
			return
		}
		if len(m.Data.Rows) > 2 || len(m.Data.Rows) == 0 {
			t.Errorf("%s: a batch of %d rows: %s", streams[i].name, len(m.Data.Rows), payload)
		}
		for _, r := range m.Data.Rows {
			sent[i] = append(sent[i], r.ID)
		}
	})
	l.settle(t, "first batches", silent)
	l.mu.Lock()
	positions := make([]int, len(streams))
	for i, s := range streams {
		if !slices.Equal(sent[i], wants[i]) {
			t.Errorf("%s: %s %v\n sent %v\n want %v", s.name, s.query, s.vars, sent[i], wants[i])
		}
		if n := len(sent[i]); n > 0 {
			positions[i] = sent[i][n-1]
		}
	}
	l.mu.Unlock()

	var ids []int
	if err := d.pool.QueryRow(ctx, "SELECT array_agg(id ORDER BY id) FROM alltypes").Scan(&ids); err != nil {
		t.Fatal(err)
	}
	cols := d.columnsList()
	for _, id := range ids {
		d.s.exec(t, fmt.Sprintf("INSERT INTO alltypes (id, %[1]s) SELECT $1, %[1]s FROM alltypes WHERE id = $2", cols), nextID(), id)
	}
	afters := make([][]int, len(streams))
	silent = 0
	for i, s := range streams {
		if afters[i] = oracle(s, positions[i]); len(wants[i])+len(afters[i]) == 0 {
			silent++
		}
	}
	l.settle(t, "after copies", silent)
	l.mu.Lock()
	defer l.mu.Unlock()
	more := 0
	for i, s := range streams {
		more += len(afters[i])
		if want := slices.Concat(wants[i], afters[i]); !slices.Equal(sent[i], want) {
			t.Errorf("after copies: %s: %s %v\n sent %v\n want %v", s.name, s.query, s.vars, sent[i], want)
		}
	}
	t.Logf("%d streams, every row sent once and in order; %d rows sent after the copies", len(streams), more)
}
