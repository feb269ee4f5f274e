package tables

import (
	"bytes"
	"encoding/json"
	"math/big"
	"reflect"
	"strconv"
	"testing"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// An integer type takes a number that is an integer within its bits,
// however written (42.0, 4.2e1), as Hasura's Scientific does.
func TestIntegral(t *testing.T) {
	for _, c := range []struct {
		in   string
		bits int
		want string
	}{
		{"42", 32, "42"}, {"42.0", 32, "42"}, {"4.2e1", 32, "42"}, {"1e3", 32, "1000"}, {"-0", 32, "0"}, {"0e999999999999", 16, "0"},
		{"-2147483648", 32, "-2147483648"}, {"2147483647", 32, "2147483647"}, {"9223372036854775807", 64, "9223372036854775807"},
		{"1.5", 32, ""}, {"2147483648", 32, ""}, {"32768", 16, ""}, {"9223372036854775808", 64, ""}, {"1e400", 64, ""},
		{"1e999999999999999", 64, ""}, {"0.1e1", 32, "1"}, {"123456789012345678901234567890", 64, ""},
	} {
		got, ok := hasura.Integral(c.in, c.bits)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("integral(%s, %d) = %q, %v; want %q", c.in, c.bits, got, ok, c.want)
		}
	}
}

// The classes of every type the differential test serves, and an array.
var fuzzTypes = []Type{
	{GraphQL: "smallint", SQL: "smallint", Class: ClassSmallInt}, Int, {GraphQL: "bigint", SQL: "bigint", Class: ClassBigInt},
	{GraphQL: "Float", SQL: "real", Class: ClassReal}, {GraphQL: "float8", SQL: "double precision", Class: ClassDouble},
	{GraphQL: "numeric", SQL: "numeric", Class: ClassNumeric}, {GraphQL: "money", SQL: "money", Class: ClassMoney},
	{GraphQL: "Boolean", SQL: "boolean", Class: ClassBoolean}, String, {GraphQL: "bpchar", SQL: "character", Class: ClassChar},
	{GraphQL: "uuid", SQL: "uuid", Class: ClassUUID}, {GraphQL: "date", SQL: "date", Class: ClassDate}, Timestamptz,
	{GraphQL: "timetz", SQL: "time with time zone", Class: ClassTimeTZ}, {GraphQL: "interval", SQL: "interval"},
	{GraphQL: "json", SQL: "json", Class: ClassJSON}, {GraphQL: "jsonb", SQL: "jsonb", Class: ClassJSONB},
	{GraphQL: "post_status_enum", SQL: "text", Class: ClassEnum, Enum: []string{"draft", "published"}},
	{GraphQL: "Int", List: true, SQL: "integer[]", Class: ClassInt},
}

// FuzzRead: any value a client could send, for any type, is read without
// a panic, refused only with Hasura's parse-failed or validation-failed,
// and read as what was sent: a string as it is, a number exactly (an
// integer type's the same integer, within its bits), JSON as the same
// JSON.
func FuzzRead(f *testing.F) {
	for _, seed := range []string{
		`42`, `42.0`, `-2147483648`, `2147483648`, `9223372036854775808`, `1.5`, `1e3`, `-0`, `1e400`, `1e-400`,
		`123456789012345678901234567890.123456789`, `"text'; --"`, `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`, `"draft"`,
		`true`, `null`, `[]`, `[1, 2, 3]`, `["a", null]`, `[[1]]`, `{}`, `{"a": [1.50, "<&>"]}`,
	} {
		f.Add([]byte(seed), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, asLiteral bool) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		if n, ok := v.(json.Number); ok && asLiteral {
			// A document's literal of the same number.
			if _, err := strconv.ParseInt(string(n), 10, 64); err == nil || !bytes.ContainsAny([]byte(n), ".eE") {
				v = IntLiteral(n)
			} else {
				v = FloatLiteral(n)
			}
		}
		for _, typ := range fuzzTypes {
			got, err := typ.Read(v)
			if err != nil {
				if err.Code != hasura.CodeParseFailed && err.Code != hasura.CodeValidationFailed || err.Message == "" {
					t.Fatalf("%s.Read(%#v): %+v", typ.GraphQL, v, err)
				}
				continue
			}
			checkRead(t, typ, v, got)
		}
	})
}

func checkRead(t *testing.T, typ Type, v any, got Value) {
	t.Helper()
	if typ.List {
		items, isList := v.([]any)
		if s, isString := v.(string); isString && got.Text != s || !isString && (!isList || len(items) != len(got.Items)) {
			t.Fatalf("%s.Read(%#v) = %+v", typ.GraphQL, v, got)
		}
		for i := range items {
			checkRead(t, typ.Element(), items[i], Value{Text: got.Items[i]})
		}
		return
	}
	if s, isString := v.(string); isString && typ.Class != ClassJSON && typ.Class != ClassJSONB {
		if got.Text != s {
			t.Fatalf("%s.Read(%q) = %q, not the string sent", typ.GraphQL, s, got.Text)
		}
		return
	}
	sent, _ := number(v)
	switch typ.Class {
	case ClassSmallInt, ClassInt, ClassBigInt:
		bits := map[Class]int{ClassSmallInt: 16, ClassInt: 32, ClassBigInt: 64}[typ.Class]
		if _, err := strconv.ParseInt(got.Text, 10, bits); err != nil || !sameNumber(sent, got.Text) {
			t.Fatalf("%s.Read(%#v) = %q", typ.GraphQL, v, got.Text)
		}
	case ClassReal, ClassDouble, ClassNumeric, ClassMoney:
		if !sameNumber(sent, got.Text) {
			t.Fatalf("%s.Read(%#v) = %q, not the number sent", typ.GraphQL, v, got.Text)
		}
	case ClassBoolean:
		if got.Text != strconv.FormatBool(v.(bool)) {
			t.Fatalf("%s.Read(%#v) = %q", typ.GraphQL, v, got.Text)
		}
	case ClassJSON, ClassJSONB:
		var back any
		dec := json.NewDecoder(bytes.NewReader([]byte(got.Text)))
		dec.UseNumber()
		if err := dec.Decode(&back); err != nil || !reflect.DeepEqual(back, asJSON(v)) {
			t.Fatalf("%s.Read(%#v) = %s, not the JSON sent", typ.GraphQL, v, got.Text)
		}
	default:
		t.Fatalf("%s.Read(%#v) = %q: only a string was to be read", typ.GraphQL, v, got.Text)
	}
}

// asJSON is v with its literals as JSON's values.
func asJSON(v any) any {
	switch x := v.(type) {
	case IntLiteral:
		return json.Number(x)
	case FloatLiteral:
		return json.Number(x)
	}
	return v
}

// sameNumber reports whether two numbers' texts are the same number.
func sameNumber(a, b string) bool {
	x, okA := hasura.ParseDecimal(a)
	y, okB := hasura.ParseDecimal(b)
	return okA && okB && x == y && (x.Digits == "" || x.Exp > 1000 || x.Exp < -1000 || sameRat(a, b))
}

// sameRat checks parseDecimal against math/big, for numbers small enough.
func sameRat(a, b string) bool {
	x, okA := new(big.Rat).SetString(a)
	y, okB := new(big.Rat).SetString(b)
	return okA && okB && x.Cmp(y) == 0
}
