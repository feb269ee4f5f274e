package main

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// Live queries on tables of every kind of key — composite, citext (equal
// keys of different text), timestamptz and date (whose text depends on the
// session), numeric (1.5 and 1.50), uuid, none at all — each a list that
// reads its table only at the root (the groups whose writes re-run only
// the cohorts whose rows they touch). Random writes by plain SQL insert
// rows, hide and show them, change their keys and delete them, half of
// them from sessions whose time zone and date style are not freshgraph's;
// after each, every subscription's last answer must be its query's. In
// both capture modes.
func TestLiveQueriesOnEveryKindOfKey(t *testing.T) {
	t.Parallel()
	captureModes(t, liveQueriesOnKeys)
}

func liveQueriesOnKeys(t *testing.T, env map[string]string) {
	const up = `CREATE EXTENSION IF NOT EXISTS citext;
CREATE TABLE memberships (org text, member int, shown boolean NOT NULL DEFAULT true, note text, PRIMARY KEY (org, member));
CREATE TABLE readings (sensor text, shown boolean NOT NULL DEFAULT true, note text);
CREATE TABLE labels (code citext PRIMARY KEY, shown boolean NOT NULL DEFAULT true, note text);
CREATE TABLE slots (at timestamptz PRIMARY KEY, shown boolean NOT NULL DEFAULT true, note text);
CREATE TABLE prices (sku numeric PRIMARY KEY, shown boolean NOT NULL DEFAULT true, note text);
CREATE TABLE pairs (a uuid, b date, shown boolean NOT NULL DEFAULT true, note text, PRIMARY KEY (a, b));`
	type table struct {
		name  string
		key   string   // the key's columns (readings: what finds its rows)
		keyOf []string // values of the key, as SQL literals, to pick from
	}
	tbls := []table{
		{"memberships", "org member", []string{"'acme', 1", "'acme', 2", "'ACME', 1", "'beta', 1", "'', 0"}},
		{"readings", "sensor", []string{"'s1'", "'s2'", "'S1'"}},
		{"labels", "code", []string{"'abc'", "'ABC'", "'x y'", "'Ünï'"}},
		{"slots", "at", []string{"'2024-01-01 00:00:00+00'", "'2024-01-01 02:00:00+02'", "'2024-06-01 12:30:00.5+05:30'", "'1999-12-31 23:59:59.999999-08'"}},
		{"prices", "sku", []string{"1.5", "1.50", "2", "-0.001", "1e20"}},
		{"pairs", "a b", []string{"'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2024-02-29'", "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '2024-03-01'", "'00000000-0000-0000-0000-000000000000', '0001-01-01'"}},
	}
	metadataFiles := map[string]string{}
	for _, tb := range tbls {
		metadataFiles["public_"+tb.name+".yaml"] = fmt.Sprintf("table: {name: %s, schema: public}\n", tb.name)
	}
	s := newTestServer(t, withProject(t, projectWith(t, up, metadataFiles), env))

	var subs []liveSub
	for _, tb := range tbls {
		cols := strings.Fields(tb.key)
		if tb.name == "readings" {
			cols = []string{"sensor", "note", "shown"} // no key: an order that is total on what it shows
		}
		order := make([]string, len(cols))
		for i, c := range cols {
			order[i] = fmt.Sprintf("{%s: asc}", c)
		}
		all := tb.key + " shown note"
		subs = append(subs,
			liveSub{query: fmt.Sprintf("subscription { %s(where: {shown: {_eq: true}}, order_by: [%s]) { %s } }", tb.name, strings.Join(order, ", "), all), role: "admin"},
			liveSub{query: fmt.Sprintf("subscription ($note: String!) { %s(where: {note: {_eq: $note}}, order_by: [%s]) { %s } }", tb.name, strings.Join(order, ", "), all),
				vars: map[string]any{"note": "a"}, role: "admin"},
			liveSub{query: fmt.Sprintf("subscription ($note: String!) { %s(where: {note: {_eq: $note}}, order_by: [%s]) { %s } }", tb.name, strings.Join(order, ", "), all),
				vars: map[string]any{"note": "b"}, role: "admin"},
			liveSub{query: fmt.Sprintf("subscription { %s_aggregate(where: {shown: {_eq: true}}) { aggregate { count } } }", tb.name), role: "admin"},
		)
	}
	check := followAgainstHTTP(t, s, subs)
	check("first answers")

	rng := rand.New(rand.NewPCG(7, 11))
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	notes := []string{"'a'", "'b'", "NULL"}
	for range 40 {
		tb := tbls[rng.IntN(len(tbls))]
		cols := strings.ReplaceAll(tb.key, " ", ", ")
		key := func() string { return fmt.Sprintf("(%s) = (%s)", cols, pick(tb.keyOf)) }
		var sql string
		switch rng.IntN(5) {
		case 0: // a row, or its shown turned if its key is taken
			sql = fmt.Sprintf("INSERT INTO %s (%s, shown, note) VALUES (%s, %t, %s)", tb.name, cols, pick(tb.keyOf), rng.IntN(2) == 0, pick(notes))
			if tb.name != "readings" {
				sql += fmt.Sprintf(" ON CONFLICT (%s) DO UPDATE SET shown = NOT %s.shown", cols, tb.name)
			}
		case 1: // hidden or shown
			sql = fmt.Sprintf("UPDATE %s SET shown = NOT shown WHERE %s", tb.name, key())
		case 2: // a note that moves it between the variables' cohorts
			sql = fmt.Sprintf("UPDATE %s SET note = %s WHERE %s", tb.name, pick(notes), key())
		case 3: // its key changed
			set := fmt.Sprintf("(%s) = ROW(%s)", cols, pick(tb.keyOf))
			sql = fmt.Sprintf("UPDATE %s SET %s WHERE %s", tb.name, set, key())
		case 4:
			sql = fmt.Sprintf("DELETE FROM %s WHERE %s", tb.name, key())
		}
		// Half the writers' sessions write dates and times otherwise than
		// the server's and freshgraph's.
		if rng.IntN(2) == 0 {
			sql = "BEGIN; SET LOCAL TimeZone = 'Asia/Kolkata'; SET LOCAL DateStyle = 'SQL, DMY'; SET LOCAL IntervalStyle = 'sql_standard'; " + sql + "; COMMIT"
		}
		if _, err := s.pool.Exec(t.Context(), sql); err != nil {
			_, _ = s.pool.Exec(t.Context(), "ROLLBACK")
			if !strings.Contains(err.Error(), "duplicate key") {
				t.Fatalf("%s: %v", sql, err)
			}
			continue // a key changed to one that is taken: no write
		}
		check(fmt.Sprintf("after %s", sql))
	}
}
