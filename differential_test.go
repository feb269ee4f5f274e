package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/freshgraph/freshgraph/internal/sqlbuild"
)

// The differential test: freshgraph against PostgreSQL itself, on a table
// with one column of each type Hasura's PostgreSQL backend maps to a scalar
// (testdata/alltypes) and rows of edge values. Its cases are generated:
// for every column, every operator its comparison_exp offers (read from
// the schema's own introspection), several operands (the column's own
// values, as PostgreSQL writes them), each as a literal and as a variable,
// the ids freshgraph answers must be the ids PostgreSQL returns for the
// same predicate written in SQL; every column read back must be
// PostgreSQL's own to_json of it (as text where Hasura stringifies);
// order_by both ways with nulls first and last; each aggregate; an insert
// and an update of every value read back; a bad value of each type
// answered with Hasura's error, never unexpected — in both
// HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES modes. It prints the count.

const allTypes = "testdata/alltypes"

var graphqlName = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// diffColumn is a column of alltypes as the schema and the catalogue show it.
type diffColumn struct {
	name string
	// comparison is its <type>_comparison_exp; ops its operators and each
	// one's GraphQL type.
	comparison string
	ops        map[string]string
	// enum: the column's type is a GraphQL enum (its literals are names).
	enum bool
	// json is a json column, compared as jsonb.
	json bool
	// array is an array column.
	array bool
	// bigNumber columns are strings under stringify.
	bigNumber bool
	// values are its distinct non-null values in the table: PostgreSQL's
	// text of each and its JSON.
	values []diffValue
}

type diffValue struct {
	text string
	json json.RawMessage
}

// differential is one run's server, the database's pool and the columns.
type differential struct {
	t       testing.TB
	s       *testServer
	pool    *pgxpool.Pool
	columns []diffColumn
	cases   *atomic.Int64
}

func newDifferential(t testing.TB, env map[string]string) *differential {
	s := newTestServer(t, withProject(t, allTypes, env))
	d := &differential{t: t, s: s, pool: s.pool, cases: &atomic.Int64{}}
	d.readColumns()
	return d
}

// readColumns reads the columns from the schema (their operators) and
// their values from PostgreSQL.
func (d *differential) readColumns() {
	t := d.t
	var schema struct {
		Data struct {
			Where struct {
				InputFields []struct {
					Name string
					Type struct{ Name string }
				}
			}
			Types []struct {
				Name        string
				Kind        string
				InputFields []struct {
					Name string
					Type json.RawMessage
				}
			}
		}
	}
	body := d.s.gql(t, `{ where: __type(name: "alltypes_bool_exp") { inputFields { name type { name } } }
		types: __schema { types { name kind inputFields { name type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } } }`, nil, adminHeaders)
	var raw struct {
		Data struct {
			Where json.RawMessage
			Types struct {
				Types json.RawMessage
			}
		}
	}
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("introspection: %v: %s", err, body)
	}
	if err := json.Unmarshal(raw.Data.Where, &schema.Data.Where); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw.Data.Types.Types, &schema.Data.Types); err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for i, typ := range schema.Data.Types {
		byName[typ.Name] = i
	}
	for _, f := range schema.Data.Where.InputFields {
		if strings.HasPrefix(f.Name, "_") || f.Name == "id" {
			continue
		}
		col := diffColumn{name: f.Name, comparison: f.Type.Name, ops: map[string]string{}}
		for _, op := range schema.Data.Types[byName[f.Type.Name]].InputFields {
			col.ops[op.Name] = graphqlTypeOf(op.Type)
		}
		col.array = strings.HasSuffix(f.Type.Name, "_array_comparison_exp")
		if eq, ok := col.ops["_eq"]; ok {
			i, found := byName[eq]
			col.enum = found && schema.Data.Types[i].Kind == "ENUM"
		}
		col.json = eq(col.ops["_eq"], "json")
		col.bigNumber = slices.Contains([]string{"bigint", "float8", "numeric", "money"}, col.ops["_eq"])
		d.columns = append(d.columns, col)
	}
	if len(d.columns) < 28 {
		t.Fatalf("alltypes has %d columns in the schema", len(d.columns))
	}
	for i := range d.columns {
		col := &d.columns[i]
		rows, err := d.pool.Query(context.Background(), fmt.Sprintf(
			`SELECT DISTINCT %[1]q::text, to_jsonb(%[1]q) FROM alltypes WHERE %[1]q IS NOT NULL ORDER BY 1`, col.name))
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v diffValue
			if err := rows.Scan(&v.text, &v.json); err != nil {
				t.Fatal(err)
			}
			col.values = append(col.values, v)
		}
		if rows.Err() != nil || len(col.values) == 0 {
			t.Fatalf("values of %s: %v", col.name, rows.Err())
		}
	}
}

func eq(a, b string) bool { return a == b }

// graphqlTypeOf writes an introspected type reference as GraphQL does.
func graphqlTypeOf(raw json.RawMessage) string {
	var t struct {
		Kind   string
		Name   string
		OfType json.RawMessage
	}
	_ = json.Unmarshal(raw, &t)
	switch t.Kind {
	case "NON_NULL":
		return graphqlTypeOf(t.OfType) + "!"
	case "LIST":
		return "[" + graphqlTypeOf(t.OfType) + "]"
	}
	return t.Name
}

// literal writes the JSON value v as a GraphQL literal: enum names bare
// (enum), objects' keys as names; false when it has none (a key that is
// not a GraphQL name, a null where the literal cannot say it).
func literal(v any, enum bool) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return string(x), true
	case string:
		if enum {
			return x, graphqlName.MatchString(x)
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(x)
		return strings.TrimSuffix(b.String(), "\n"), true
	case []any:
		items := make([]string, len(x))
		for i, e := range x {
			s, ok := literal(e, enum)
			if !ok {
				return "", false
			}
			items[i] = s
		}
		return "[" + strings.Join(items, ", ") + "]", true
	case map[string]any:
		var fields []string
		for _, k := range slices.Sorted(mapsKeys(x)) {
			if !graphqlName.MatchString(k) {
				return "", false
			}
			s, ok := literal(x[k], enum)
			if !ok {
				return "", false
			}
			fields = append(fields, k+": "+s)
		}
		return "{" + strings.Join(fields, ", ") + "}", true
	}
	return "", false
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// decode reads JSON keeping numbers as written.
func decode(t testing.TB, raw []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return v
}

// oracleIDs are the ids PostgreSQL returns for the predicate where (its
// parameters args, their types PostgreSQL's to infer, as a client writing
// the SQL by hand leaves them).
func (d *differential) oracleIDs(where string, args ...any) (string, error) {
	var ids []byte
	err := d.pool.QueryRow(context.Background(),
		"SELECT coalesce(json_agg(json_build_object('id', id) ORDER BY id), '[]') FROM alltypes WHERE "+where, args...).Scan(&ids)
	return string(ids), err
}

// check runs query (with vars) and compares its answer's alltypes with
// want, the oracle's JSON, or with an error of one of codes when want is
// empty.
func (d *differential) check(name, query string, vars map[string]any, want string, codes ...string) {
	d.checkAnswer(name, "alltypes", query, vars, want, codes...)
}

// checkAnswer is check of the root field field.
func (d *differential) checkAnswer(name, field, query string, vars map[string]any, want string, codes ...string) {
	d.cases.Add(1)
	t := d.t
	got := d.s.gql(t, query, vars, adminHeaders)
	var answer struct {
		Data   map[string]json.RawMessage
		Errors []struct {
			Message    string
			Extensions struct{ Code string }
		}
	}
	if err := json.Unmarshal(got, &answer); err != nil {
		t.Errorf("%s: %s: not JSON: %s", name, query, got)
		return
	}
	if want == "" {
		if len(answer.Errors) != 1 || !slices.Contains(codes, answer.Errors[0].Extensions.Code) {
			t.Errorf("%s: %s %v\n got %s\nwant an error of %v", name, query, vars, got, codes)
		}
		return
	}
	if len(answer.Errors) > 0 || !reflect.DeepEqual(decode(t, answer.Data[field]), decode(t, []byte(want))) {
		t.Errorf("%s: %s %v\n got %s\nwant %s", name, query, vars, got, want)
	}
}

// parallel runs each of jobs on a few workers.
func parallel(jobs []func()) {
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 4 {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(jobs)); i = next.Add(1) - 1 {
				jobs[i]()
			}
		})
	}
	wg.Wait()
}

// sqlOperators are the operators' SQL, %s the column, $1 the operand.
var sqlOperators = map[string]string{
	"_eq": "%s = $1", "_neq": "%s <> $1", "_gt": "%s > $1", "_lt": "%s < $1", "_gte": "%s >= $1", "_lte": "%s <= $1",
	"_like": "%s LIKE $1", "_nlike": "%s NOT LIKE $1", "_ilike": "%s ILIKE $1", "_nilike": "%s NOT ILIKE $1",
	"_similar": "%s SIMILAR TO $1", "_nsimilar": "%s NOT SIMILAR TO $1", "_regex": "%s ~ $1", "_iregex": "%s ~* $1",
	"_nregex": "%s !~ $1", "_niregex": "%s !~* $1", "_contains": "%s @> $1", "_contained_in": "%s <@ $1",
	"_has_key": "%s ? $1", "_has_keys_any": "%s ?| $1", "_has_keys_all": "%s ?& $1",
}

// patterns are the text operators' operands, for every text column.
var patterns = map[string][]string{
	"like":    {"%l%", "H%", "%o", "_el%", "%\\%%", "%"},
	"similar": {"%(l|x)%", "[a-h]%", "%_"},
	"regex":   {"^h", "o$", "[A-Z]", "^$", "%"},
}

func patternsOf(op string) []string {
	switch {
	case strings.Contains(op, "like"):
		return patterns["like"]
	case strings.Contains(op, "similar"):
		return patterns["similar"]
	}
	return patterns["regex"]
}

// whereCase is an operator of a column on an operand v (of GraphQL type
// typ), and the same predicate in SQL with its arguments.
type whereCase struct {
	col     diffColumn
	op, typ string
	v       any
	sql     string
	args    []any
}

// whereCases are the jobs comparing each of whereCaseList.
func (d *differential) whereCases() []func() {
	var jobs []func()
	for _, c := range d.whereCaseList() {
		jobs = append(jobs, d.compare(c))
	}
	return jobs
}

// whereCaseList is, for every column, every operator its comparison_exp
// offers on several operands.
func (d *differential) whereCaseList() []whereCase {
	var cases []whereCase
	compare := func(col diffColumn, op, typ string, v any, sql string, args []any) whereCase {
		return whereCase{col: col, op: op, typ: typ, v: v, sql: sql, args: args}
	}
	for _, col := range d.columns {
		left := strconv.Quote(col.name)
		if col.json {
			left += "::jsonb"
		}
		for _, op := range slices.Sorted(mapsKeysS(col.ops)) {
			typ := col.ops[op]
			switch op {
			case "_is_null":
				for _, isNull := range []bool{true, false} {
					sql := left + " IS NOT NULL"
					if isNull {
						sql = left + " IS NULL"
					}
					cases = append(cases, compare(col, op, typ, isNull, sql, nil))
				}
			case "_in", "_nin":
				for i := range col.values {
					pair := []diffValue{col.values[i], col.values[(i+1)%len(col.values)]}
					list := []any{decode(d.t, pair[0].json), decode(d.t, pair[1].json)}
					var sql string
					var args []any
					if col.array {
						sql, args = left+" IN ($1, $2)", []any{pair[0].text, pair[1].text}
					} else {
						sql, args = left+" = ANY($1)", []any{sqlbuild.ArrayLiteral([]string{pair[0].text, pair[1].text})}
					}
					if op == "_nin" {
						sql = "NOT (" + sql + ")"
					}
					cases = append(cases, compare(col, op, typ, list, sql, args))
				}
			case "_cast":
				for _, p := range []string{"%a%", "%nested%", "\"string\""} {
					for _, textOp := range []string{"_like", "_eq", "_gt"} {
						v := map[string]any{"String": map[string]any{textOp: p}}
						sql := fmt.Sprintf(sqlOperators[textOp], strconv.Quote(col.name)+"::text")
						cases = append(cases, compare(col, op, "jsonb_cast_exp", v, sql, []any{p}))
					}
				}
			case "_has_key", "_has_keys_any", "_has_keys_all":
				for _, keys := range [][]string{{"a"}, {"nested", "zz"}, {"three", "a"}, {"zz"}} {
					sql := fmt.Sprintf(sqlOperators[op], left)
					if op == "_has_key" {
						cases = append(cases, compare(col, op, typ, keys[0], sql, []any{keys[0]}))
						continue
					}
					list := make([]any, len(keys))
					for i, k := range keys {
						list[i] = k
					}
					cases = append(cases, compare(col, op, typ, list, sql, []any{sqlbuild.ArrayLiteral(keys)}))
				}
			default:
				format, known := sqlOperators[op]
				if !known {
					d.t.Errorf("%s: operator %s has no oracle", col.name, op)
					continue
				}
				sql := fmt.Sprintf(format, left)
				if strings.Contains(op, "like") || strings.Contains(op, "similar") || strings.Contains(op, "regex") {
					for _, p := range patternsOf(op) {
						cases = append(cases, compare(col, op, typ, p, sql, []any{p}))
					}
					continue
				}
				for _, v := range col.values {
					if col.json {
						sql = fmt.Sprintf(format, left) // the operand is jsonb: its text
					}
					cases = append(cases, compare(col, op, typ, decode(d.t, v.json), sql, []any{v.text}))
				}
			}
		}
	}
	return cases
}

func mapsKeysS(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// compare is the case of col's operator op on the operand v, of GraphQL
// type typ, against sql with args: as a literal and as a variable. An
// operand that holds a null is an error, whatever PostgreSQL says.
func (d *differential) compare(c whereCase) func() {
	col, op, typ, v, sql, args := c.col, c.op, c.typ, c.v, c.sql, c.args
	return func() {
		want, err := d.oracleIDs(sql, args...)
		codes := []string{}
		if holdsNull(v, strings.Count(typ, "[")) {
			want, codes = "", []string{"validation-failed"}
		} else if err != nil {
			// PostgreSQL cannot read the operand as the column's type (a
			// string of another type's): freshgraph answers its error.
			want, codes = "", []string{"data-exception"}
		}
		name := col.name + "." + op
		where := func(operand string) string {
			return fmt.Sprintf("alltypes(where: {%s: {%s: %s}}, order_by: {id: asc}) { id }", col.name, op, operand)
		}
		if lit, ok := literal(v, col.enum && op != "_cast"); ok {
			d.check(name+" (literal)", "{ "+where(lit)+" }", nil, want, codes...)
		}
		d.check(name+" (variable)", fmt.Sprintf("query ($v: %s) { %s }", typ, where("$v")), map[string]any{"v": v}, want, codes...)
	}
}

// holdsNull reports whether an operand holds a null its non-null type
// refuses: itself, or an item of a list of GraphQL's ([Int!], [[Int!]!]),
// not a null inside a JSON value.
func holdsNull(v any, lists int) bool {
	if v == nil {
		return true
	}
	if l, ok := v.([]any); ok && lists > 0 {
		for _, e := range l {
			if holdsNull(e, lists-1) {
				return true
			}
		}
	}
	return false
}

// selection is every column, as a selection set.
func (d *differential) selection() string {
	names := []string{"id"}
	for _, col := range d.columns {
		names = append(names, col.name)
	}
	return strings.Join(names, " ")
}

// oracleRow is the JSON PostgreSQL writes of a row of alltypes, as the
// selection asks for it: to_json of every column, as text where Hasura
// stringifies.
func (d *differential) oracleRow(stringify bool) string {
	fields := []string{"'id', id"}
	for _, col := range d.columns {
		value := strconv.Quote(col.name)
		if stringify && col.bigNumber {
			value += "::text"
		}
		fields = append(fields, fmt.Sprintf("'%s', %s", col.name, value))
	}
	return "json_build_object(" + strings.Join(fields, ", ") + ")"
}

// readBackCases: every column of every row, read back, is PostgreSQL's
// JSON of it.
func (d *differential) readBackCases(stringify bool) []func() {
	return []func(){func() {
		var want string
		if err := d.pool.QueryRow(context.Background(), "SELECT json_agg("+d.oracleRow(stringify)+" ORDER BY id) FROM alltypes").Scan(&want); err != nil {
			d.t.Fatal(err)
		}
		d.check("read back", "{ alltypes(order_by: {id: asc}) { "+d.selection()+" } }", nil, want)
	}}
}

// orderCases: order_by on every column it offers, in the six directions,
// ties broken by id.
func (d *differential) orderCases() []func() {
	var jobs []func()
	directions := map[string]string{
		"asc": "ASC NULLS LAST", "asc_nulls_first": "ASC NULLS FIRST", "asc_nulls_last": "ASC NULLS LAST",
		"desc": "DESC NULLS FIRST", "desc_nulls_first": "DESC NULLS FIRST", "desc_nulls_last": "DESC NULLS LAST",
	}
	for _, col := range append([]diffColumn{{name: "id"}}, d.columns...) {
		for _, dir := range slices.Sorted(mapsKeysS(directions)) {
			jobs = append(jobs, func() {
				expr := strconv.Quote(col.name)
				if col.json {
					expr += "::jsonb"
				}
				var want string
				err := d.pool.QueryRow(context.Background(), fmt.Sprintf(
					"SELECT json_agg(json_build_object('id', id) ORDER BY %s %s, id) FROM alltypes", expr, directions[dir])).Scan(&want)
				if err != nil {
					d.t.Fatal(err)
				}
				d.check(col.name+" order_by "+dir, fmt.Sprintf("{ alltypes(order_by: [{%s: %s}, {id: asc}]) { id } }", col.name, dir), nil, want)
			})
		}
	}
	return jobs
}

// aggregate is an aggregate the schema offers on a column but id.
type aggregate struct{ fn, column string }

// aggregates are, from the schema, each aggregate but count on each column
// it is offered on.
func (d *differential) aggregates() []aggregate {
	var fields struct {
		Data struct {
			Type struct {
				Fields []struct {
					Name string
					Type struct{ Name string }
				}
			} `json:"__type"`
		}
	}
	if err := json.Unmarshal(d.s.gql(d.t, `{ __type(name: "alltypes_aggregate_fields") { fields { name type { name } } } }`, nil, adminHeaders), &fields); err != nil {
		d.t.Fatal(err)
	}
	var aggs []aggregate
	for _, fn := range fields.Data.Type.Fields {
		if fn.Name == "count" {
			continue
		}
		var of struct {
			Data struct {
				Type struct{ Fields []struct{ Name string } } `json:"__type"`
			}
		}
		if err := json.Unmarshal(d.s.gql(d.t, fmt.Sprintf(`{ __type(name: %q) { fields { name } } }`, fn.Type.Name), nil, adminHeaders), &of); err != nil {
			d.t.Fatal(err)
		}
		for _, f := range of.Data.Type.Fields {
			if f.Name != "id" {
				aggs = append(aggs, aggregate{fn.Name, f.Name})
			}
		}
	}
	return aggs
}

// aggregateCases: each aggregate the schema offers on each column it
// offers it on, as PostgreSQL computes it.
func (d *differential) aggregateCases(stringify bool) []func() {
	var jobs []func()
	for _, agg := range d.aggregates() {
		fn, col := agg.fn, d.column(agg.column)
		jobs = append(jobs, func() {
			expr := fmt.Sprintf("%s(%q)", fn, col.name)
			if col.ops["_eq"] == "uuid" {
				expr = fmt.Sprintf("%s(%q::text)::uuid", fn, col.name)
			}
			if stringify && col.bigNumber {
				expr += "::text"
			}
			var want string
			err := d.pool.QueryRow(context.Background(), fmt.Sprintf(
				"SELECT json_build_object('aggregate', json_build_object('%s', json_build_object('%s', %s))) FROM alltypes", fn, col.name, expr)).Scan(&want)
			query := fmt.Sprintf("{ alltypes_aggregate { aggregate { %s { %s } } } }", fn, col.name)
			if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && strings.HasPrefix(pgErr.Code, "22") {
				// PostgreSQL overflows (the sum of the largest money):
				// freshgraph answers its error.
				d.checkAnswer(fn+" of "+col.name, "alltypes_aggregate", query, nil, "", "data-exception")
				return
			} else if err != nil {
				d.t.Errorf("%s of %s: PostgreSQL has no such aggregate, which the schema offers: %v", fn, col.name, err)
				return
			}
			d.checkAnswer(fn+" of "+col.name, "alltypes_aggregate", query, nil, want)
		})
	}
	return jobs
}

func (d *differential) column(name string) diffColumn {
	for _, c := range d.columns {
		if c.name == name {
			return c
		}
	}
	d.t.Fatalf("no column %s", name)
	return diffColumn{}
}

// errNullItem stands for PostgreSQL's answer to an array with a null item,
// which it takes and GraphQL's [Int!] does not.
var errNullItem = errors.New("an array with a null item, which [T!] refuses")

// scratch is a fresh id for a row a case writes.
var scratch atomic.Int64

func nextID() int { return int(1000 + scratch.Add(1)) }

// columnsList is the table's columns but id, for SQL.
func (d *differential) columnsList() string {
	names := make([]string, len(d.columns))
	for i, col := range d.columns {
		names[i] = strconv.Quote(col.name)
	}
	return strings.Join(names, ", ")
}

// rowJSON is the JSON of the row id of alltypes, as oracleRow writes it
// (but its id); "" when there is none.
func (d *differential) rowJSON(id int, stringify bool) string {
	var row []byte
	err := d.pool.QueryRow(context.Background(), "SELECT "+d.oracleRow(stringify)+"::jsonb - 'id' FROM alltypes WHERE id = $1", id).Scan(&row)
	if err != nil {
		return ""
	}
	return string(row)
}

// writeCase compares the row freshgraph wrote (id got) with the one
// PostgreSQL wrote for the same (id want, or the error sqlErr): the same
// row, or both refused, the row as it was before (none for an insert).
func (d *differential) writeCase(name string, answer []byte, got, want int, sqlErr error, stringify bool, before string) {
	d.cases.Add(1)
	t := d.t
	defer func() {
		_, _ = d.pool.Exec(context.Background(), "DELETE FROM alltypes WHERE id IN ($1, $2)", got, want)
	}()
	var errs struct {
		Errors []struct{ Extensions struct{ Code string } }
	}
	_ = json.Unmarshal(answer, &errs)
	if sqlErr != nil {
		code := ""
		if len(errs.Errors) == 1 {
			code = errs.Errors[0].Extensions.Code
		}
		if !slices.Contains([]string{"parse-failed", "validation-failed", "data-exception"}, code) {
			t.Errorf("%s: PostgreSQL refuses it (%v), freshgraph answers %s", name, sqlErr, answer)
		}
		if row := d.rowJSON(got, stringify); row != before {
			t.Errorf("%s: refused, yet written: %s", name, row)
		}
		return
	}
	if len(errs.Errors) > 0 {
		t.Errorf("%s: PostgreSQL takes it, freshgraph answers %s", name, answer)
		return
	}
	gotRow, wantRow := d.rowJSON(got, stringify), d.rowJSON(want, stringify)
	if gotRow == "" || !reflect.DeepEqual(decode(t, []byte(gotRow)), decode(t, []byte(wantRow))) {
		t.Errorf("%s:\n wrote %s\n  want %s", name, gotRow, wantRow)
	}
}

// insertCases: every value of every column, inserted as a literal and as
// a variable, is the row PostgreSQL writes for its text.
func (d *differential) insertCases(stringify bool) []func() {
	var jobs []func()
	for _, col := range d.columns {
		typ := strings.TrimSuffix(col.ops["_eq"], "!")
		for _, v := range col.values {
			jobs = append(jobs, func() {
				value := decode(d.t, v.json)
				forms := map[string]string{"variable": "$v"}
				if lit, ok := literal(value, col.enum); ok {
					forms["literal"] = lit
				}
				for form, operand := range forms {
					got, want := nextID(), nextID()
					query := fmt.Sprintf("mutation ($v: %s) { insert_alltypes_one(object: {id: %d, %s: $v}) { id } }", typ, got, col.name)
					vars := map[string]any{"v": value}
					if form == "literal" {
						query, vars = fmt.Sprintf("mutation { insert_alltypes_one(object: {id: %d, %s: %s}) { id } }", got, col.name, operand), nil
					}
					answer := d.s.gql(d.t, query, vars, adminHeaders)
					var arg any = v.text
					if value == nil {
						arg = nil // JSON's null: GraphQL's null, SQL's NULL
					}
					_, err := d.pool.Exec(context.Background(), fmt.Sprintf("INSERT INTO alltypes (id, %q) VALUES ($1, $2)", col.name), want, arg)
					if value != nil && holdsNull(value, strings.Count(typ, "[")) {
						err = errNullItem
					}
					d.writeCase(fmt.Sprintf("insert %s %s (%s)", col.name, v.text, form), answer, got, want, err, stringify, "")
				}
			})
		}
	}
	return jobs
}

// copyRow copies the row from into new rows, one for freshgraph to
// write, one for PostgreSQL.
func (d *differential) copyRow(from int) (got, want int) {
	got, want = nextID(), nextID()
	for _, id := range []int{got, want} {
		if _, err := d.pool.Exec(context.Background(), fmt.Sprintf("INSERT INTO alltypes (id, %[1]s) SELECT $1, %[1]s FROM alltypes WHERE id = $2", d.columnsList()), id, from); err != nil {
			d.t.Fatal(err)
		}
	}
	return got, want
}

// updateCases: each update operator the schema offers, on each column it
// takes, with several operands, on every row: freshgraph's update is
// PostgreSQL's. _set takes every value of the column.
func (d *differential) updateCases(stringify bool) []func() {
	var jobs []func()
	type operand struct {
		json any
		sql  string
		arg  any
	}
	for _, col := range d.columns {
		typ := strings.TrimSuffix(col.ops["_eq"], "!")
		ops := map[string][]operand{}
		for _, v := range col.values {
			value := decode(d.t, v.json)
			var arg any = v.text
			if value == nil {
				arg = nil // JSON's null: GraphQL's null, SQL's NULL
			}
			ops["_set"] = append(ops["_set"], operand{value, "$1", arg})
		}
		if slices.Contains([]string{"smallint", "Int", "bigint", "Float", "float8", "numeric", "money"}, typ) {
			for _, n := range []string{"1", "-2", "0.5", "1e3", "9223372036854775807", "1e400"} {
				arg := n
				if n == "1e3" && typ != "Float" && typ != "float8" && typ != "numeric" {
					// An integer's and money's input take no exponent: Hasura
					// reads the number and sends it in full.
					arg = "1000"
				}
				ops["_inc"] = append(ops["_inc"], operand{json.Number(n), "%q + $1", arg})
			}
		}
		if typ == "jsonb" {
			for _, v := range []string{`{"a": 2}`, `[1]`, `"s"`} {
				ops["_append"] = append(ops["_append"], operand{decode(d.t, []byte(v)), "%q || $1::jsonb", v})
				ops["_prepend"] = append(ops["_prepend"], operand{decode(d.t, []byte(v)), "$1::jsonb || %q", v})
			}
			ops["_delete_key"] = []operand{{"a", "%q - $1::text", "a"}, {"nested", "%q - $1::text", "nested"}}
			ops["_delete_elem"] = []operand{{json.Number("1"), "%q - $1::integer", "1"}, {json.Number("-1"), "%q - $1::integer", "-1"}}
			ops["_delete_at_path"] = []operand{{[]any{"nested", "k"}, "%q #- $1::text[]", "{nested,k}"}, {[]any{"1"}, "%q #- $1::text[]", "{1}"}}
		}
		for op, operands := range ops {
			opType := map[string]string{"_delete_key": "String", "_delete_elem": "Int", "_delete_at_path": "[String!]"}[op]
			if opType == "" {
				opType = typ
			}
			for _, o := range operands {
				for row := 1; row <= 6; row++ {
					jobs = append(jobs, func() {
						got, want := d.copyRow(row)
						before := d.rowJSON(got, stringify)
						answer := d.s.gql(d.t, fmt.Sprintf("mutation ($v: %s) { update_alltypes_by_pk(pk_columns: {id: %d}, %s: {%s: $v}) { id } }", opType, got, op, col.name),
							map[string]any{"v": o.json}, adminHeaders)
						set := o.sql
						if strings.Contains(set, "%q") {
							set = fmt.Sprintf(set, col.name)
						}
						_, err := d.pool.Exec(context.Background(), fmt.Sprintf("UPDATE alltypes SET %q = %s WHERE id = $2", col.name, set), o.arg, want)
						if o.json != nil && holdsNull(o.json, strings.Count(opType, "[")) || o.json == nil && op != "_set" {
							err = errNullItem
						}
						d.writeCase(fmt.Sprintf("update row %d %s %s %v", row, op, col.name, o.arg), answer, got, want, err, stringify, before)
					})
				}
			}
		}
	}
	return jobs
}

// badValues are values of every kind, most of them not of a given
// column's type.
var badValues = []string{`true`, `1.5`, `"not a value"`, `{"k": 1}`, `[1, "x"]`, `99999999999999999999999`, `-1e400`, `"2024-13-45"`, `[[1]]`}

// badValueCases: a value that does not fit its column is refused with
// Hasura's error, or PostgreSQL's (never unexpected), and nothing is
// written; one that fits is written.
func (d *differential) badValueCases(stringify bool) []func() {
	var jobs []func()
	for _, col := range d.columns {
		typ := strings.TrimSuffix(col.ops["_eq"], "!")
		for _, raw := range badValues {
			jobs = append(jobs, func() {
				d.cases.Add(1)
				value := decode(d.t, []byte(raw))
				forms := map[string]string{"variable": "$v"}
				if lit, ok := literal(value, false); ok {
					forms["literal"] = lit
				}
				for form, operand := range forms {
					id := nextID()
					vars := map[string]any{"v": value}
					query := fmt.Sprintf("mutation ($v: %s) { insert_alltypes_one(object: {id: %d, %s: %s}) { id } }", typ, id, col.name, operand)
					if form == "literal" {
						vars, query = nil, fmt.Sprintf("mutation { insert_alltypes_one(object: {id: %d, %s: %s}) { id } }", id, col.name, operand)
					}
					answer := d.s.gql(d.t, query, vars, adminHeaders)
					var errs struct {
						Errors []struct{ Extensions struct{ Code string } }
					}
					_ = json.Unmarshal(answer, &errs)
					written := d.rowJSON(id, stringify) != ""
					_, _ = d.pool.Exec(context.Background(), "DELETE FROM alltypes WHERE id = $1", id)
					switch {
					case len(errs.Errors) == 0 && !written:
						d.t.Errorf("bad value %s for %s (%s): answered %s, nothing written", raw, col.name, form, answer)
					case len(errs.Errors) > 0 && (written || !slices.Contains([]string{"parse-failed", "validation-failed", "data-exception"}, errs.Errors[0].Extensions.Code)):
						d.t.Errorf("bad value %s for %s (%s): answered %s (written: %v)", raw, col.name, form, answer, written)
					}
				}
			})
		}
	}
	return jobs
}

func TestDifferentialAgainstPostgres(t *testing.T) {
	t.Parallel()
	for _, stringify := range []bool{false, true} {
		t.Run(fmt.Sprintf("stringify=%v", stringify), func(t *testing.T) {
			t.Parallel()
			d := newDifferential(t, map[string]string{"HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES": strconv.FormatBool(stringify)})
			parallel(slices.Concat(d.whereCases(), d.readBackCases(stringify), d.orderCases(), d.aggregateCases(stringify)))
			parallel(slices.Concat(d.insertCases(stringify), d.updateCases(stringify), d.badValueCases(stringify)))
			t.Logf("%d cases, every one holds", d.cases.Load())
		})
	}
}

// byteSource draws choices from a fuzzer's bytes, and zeros once they are
// used up.
type byteSource struct{ data []byte }

func (b *byteSource) pick(n int) int {
	if n <= 1 {
		return 0
	}
	if len(b.data) == 0 {
		return 0
	}
	x := int(b.data[0])
	b.data = b.data[1:]
	return x % n
}

// randomWhere builds, from src, a where over alltypes (at most depth
// levels of _and, _or and _not) as a GraphQL literal, and the same
// predicate in SQL with its arguments after args.
func (d *differential) randomWhere(src *byteSource, depth int, args []any) (string, string, []any) {
	switch kind := src.pick(6); {
	case depth > 0 && kind == 0, depth > 0 && kind == 1:
		n := src.pick(4)
		op, sqlOp, empty := "_and", " AND ", "true"
		if kind == 1 {
			op, sqlOp, empty = "_or", " OR ", "false"
		}
		var gql, sql []string
		for range n {
			var g, s string
			g, s, args = d.randomWhere(src, depth-1, args)
			gql, sql = append(gql, g), append(sql, "("+s+")")
		}
		if n == 0 {
			return "{" + op + ": []}", empty, args
		}
		return "{" + op + ": [" + strings.Join(gql, ", ") + "]}", strings.Join(sql, sqlOp), args
	case depth > 0 && kind == 2:
		g, s, args := d.randomWhere(src, depth-1, args)
		return "{_not: " + g + "}", "NOT (" + s + ")", args
	case kind == 3 && depth > 0:
		// Two columns' comparisons in one object: ANDed.
		g1, s1, first := d.randomComparison(src, args)
		g2, s2, both := d.randomComparison(src, first)
		if g1[:strings.Index(g1, ":")] == g2[:strings.Index(g2, ":")] {
			return "{" + g1 + "}", s1, first
		}
		return "{" + g1 + ", " + g2 + "}", "(" + s1 + ") AND (" + s2 + ")", both
	}
	g, s, args := d.randomComparison(src, args)
	return "{" + g + "}", s, args
}

// randomComparison is one column's comparison: "col: {op: operand}", and
// its SQL, its parameters numbered after args.
func (d *differential) randomComparison(src *byteSource, args []any) (string, string, []any) {
	for attempt := 0; ; attempt++ {
		// A choice that cannot be written is tried again with the next
		// column and operator, so that the fuzzer's bytes running out
		// (every pick 0) ends.
		col := d.columns[(src.pick(len(d.columns))+attempt)%len(d.columns)]
		ops := slices.Sorted(mapsKeysS(col.ops))
		op := ops[(src.pick(len(ops))+attempt)%len(ops)]
		left := strconv.Quote(col.name)
		if col.json {
			left += "::jsonb"
		}
		var params []any
		param := func(v any) string {
			params = append(params, v)
			return "$" + strconv.Itoa(len(args)+len(params))
		}
		var gql, sql string
		switch op {
		case "_is_null":
			gql, sql = col.name+": {_is_null: true}", left+" IS NULL"
			if src.pick(2) == 0 {
				gql, sql = col.name+": {_is_null: false}", left+" IS NOT NULL"
			}
		case "_in", "_nin":
			a, b := col.values[src.pick(len(col.values))], col.values[src.pick(len(col.values))]
			la, okA := literal(decode(d.t, a.json), col.enum)
			lb, okB := literal(decode(d.t, b.json), col.enum)
			if !okA || !okB || holdsNull(decode(d.t, a.json), 1) || holdsNull(decode(d.t, b.json), 1) {
				continue
			}
			if col.array {
				sql = left + " IN (" + param(a.text) + ", " + param(b.text) + ")"
			} else {
				sql = left + " = ANY(" + param(sqlbuild.ArrayLiteral([]string{a.text, b.text})) + ")"
			}
			if op == "_nin" {
				sql = "NOT (" + sql + ")"
			}
			gql = fmt.Sprintf("%s: {%s: [%s, %s]}", col.name, op, la, lb)
		case "_cast", "_has_keys_any", "_has_keys_all":
			continue // the differential's own cases have them
		case "_has_key":
			key := []string{"a", "nested", "zz"}[src.pick(3)]
			gql, sql = fmt.Sprintf("%s: {_has_key: %q}", col.name, key), left+" ? "+param(key)
		default:
			format := strings.Replace(sqlOperators[op], "$1", "%s", 1)
			if strings.Contains(op, "like") || strings.Contains(op, "similar") || strings.Contains(op, "regex") {
				p := patternsOf(op)[src.pick(len(patternsOf(op)))]
				lit, _ := literal(p, false)
				gql, sql = fmt.Sprintf("%s: {%s: %s}", col.name, op, lit), fmt.Sprintf(format, left, param(p))
				break
			}
			v := col.values[src.pick(len(col.values))]
			value := decode(d.t, v.json)
			lit, ok := literal(value, col.enum)
			if !ok || holdsNull(value, strings.Count(col.ops[op], "[")) {
				continue
			}
			gql, sql = fmt.Sprintf("%s: {%s: %s}", col.name, op, lit), fmt.Sprintf(format, left, param(v.text))
		}
		return gql, sql, append(args, params...)
	}
}

// FuzzDifferentialWhere: random where expressions over alltypes — _and,
// _or, _not, several columns' comparisons with any operator and operand —
// select the rows PostgreSQL selects for the same predicate in SQL.
func FuzzDifferentialWhere(f *testing.F) {
	for seed := range 40 {
		data := make([]byte, 64)
		for i := range data {
			data[i] = byte((seed*131 + i*29 + seed*i*7) % 251)
		}
		f.Add(data)
	}
	d := newDifferential(f, nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		dt := *d
		dt.t = t
		where, sql, args := dt.randomWhere(&byteSource{data: data}, 3, nil)
		want, err := dt.oracleIDs(sql, args...)
		codes := []string{}
		if err != nil {
			want, codes = "", []string{"data-exception"} // a pattern PostgreSQL cannot read
		}
		dt.check("where "+where, "{ alltypes(where: "+where+", order_by: {id: asc}) { id } }", nil, want, codes...)
	})
}
