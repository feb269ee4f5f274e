package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// FuzzValues checks, for any argument value a client could send (any JSON
// value, decoded as the transports decode variables, and an integer also as
// the int64 gqlgen coerces an Int variable to), that the engine's value
// readers never panic, fail only with a validation-failed error at the
// path they were given, and return what the type says: an Int within 32
// bits, a provider_type_enum value, or the string sent.
func FuzzValues(f *testing.F) {
	for _, seed := range []string{
		`42`, `-2147483648`, `2147483648`, `9223372036854775808`, `1.5`, `1e3`, `-0`,
		`"text'; DROP TABLE users; --"`, `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`, `"2024-01-01T00:00:00Z"`,
		`"email"`, `"credentials"`, `"EMAIL"`,
		`true`, `false`, `null`,
		`[]`, `[1, 2, 3]`, `["email", "oauth"]`, `["a", null]`, `[[1]]`, `[true]`,
		`{}`, `{"_eq": 1}`, `{"name": {"_in": ["a", "b"]}}`,
	} {
		f.Add([]byte(seed))
	}
	types := []tables.Type{tables.Int, tables.String, timestamptz, uuid, providerType}
	f.Fuzz(func(t *testing.T, data []byte) {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) != nil {
			return
		}
		values := []any{v}
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				values = append(values, i)
			}
		}
		for _, v := range values {
			for _, typ := range types {
				x, err := scalar(v, typ, "$.p")
				checkInvalid(t, err, "$.p")
				if err == nil {
					checkScalar(t, v, typ, x)
				}
				xs, err := scalarList(v, typ, "$.l")
				checkInvalid(t, err, "$.l")
				if err == nil {
					items := list(v)
					if len(xs) != len(items) {
						t.Fatalf("scalarList(%#v, %s) = %#v", v, typ.GraphQL, xs)
					}
					for i := range items {
						checkScalar(t, items[i], typ, xs[i])
					}
				}
			}
			n, err := intValue(v, "$.limit")
			checkInvalid(t, err, "$.limit")
			if err == nil && (n < math.MinInt32 || n > math.MaxInt32) {
				t.Fatalf("intValue(%#v) = %d", v, n)
			}
			b, err := boolValue(v, "$.b")
			checkInvalid(t, err, "$.b")
			if want, isBool := v.(bool); isBool == (err != nil) || b != want {
				t.Fatalf("boolValue(%#v) = %v, %v", v, b, err)
			}
			ss, err := stringsOf(v, "$.s")
			checkInvalid(t, err, "$.s")
			if err == nil && v != nil && len(ss) != len(list(v)) {
				t.Fatalf("stringsOf(%#v) = %q", v, ss)
			}
			m, err := object(v, "$.o", "users_bool_exp")
			checkInvalid(t, err, "$.o")
			if _, isMap := v.(map[string]any); isMap == (err != nil) || isMap != (m != nil) {
				t.Fatalf("object(%#v) = %#v, %v", v, m, err)
			}
		}
	})
}

// checkInvalid fails unless err is nil or a validation-failed *hasura.Error
// at path or below it.
func checkInvalid(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		return
	}
	var he *hasura.Error
	if !errors.As(err, &he) || he.Code != hasura.CodeValidationFailed {
		t.Fatalf("error %T %v, want a validation-failed *hasura.Error", err, err)
	}
	if he.Path != path && !strings.HasPrefix(he.Path, path+"[") {
		t.Fatalf("error at %q, want %q: %v", he.Path, path, err)
	}
}

// The types of the built-in tables' columns.
var (
	timestamptz  = tables.Type{GraphQL: "timestamptz", SQL: "timestamptz", Comparison: "timestamptz_comparison_exp", Ordered: true}
	uuid         = tables.Type{GraphQL: "uuid", SQL: "uuid", Comparison: "uuid_comparison_exp", Ordered: true}
	providerType = tables.Type{GraphQL: "provider_type_enum", SQL: "text", Comparison: "provider_type_enum_comparison_exp",
		Enum: []string{"credentials", "email", "oauth", "oidc"}}
)

// checkScalar checks that x is what scalar should make of v for typ.
func checkScalar(t *testing.T, v any, typ tables.Type, x any) {
	t.Helper()
	switch typ.GraphQL {
	case "Int":
		n, ok := x.(int64)
		if !ok || n < math.MinInt32 || n > math.MaxInt32 {
			t.Fatalf("scalar(%#v, Int) = %#v", v, x)
		}
		var sent int64
		if y, isNumber := v.(json.Number); isNumber {
			sent, _ = strconv.ParseInt(string(y), 10, 64)
		} else {
			sent = reflect.ValueOf(v).Int()
		}
		if n != sent {
			t.Fatalf("scalar(%#v, Int) = %d, not the number sent", v, n)
		}
	case providerType.GraphQL:
		if s, ok := x.(string); !ok || !slices.Contains(providerType.Enum, s) || s != v {
			t.Fatalf("scalar(%#v, provider_type_enum) = %#v", v, x)
		}
	default:
		if s, ok := x.(string); !ok || s != v {
			t.Fatalf("scalar(%#v, %s) = %#v", v, typ.GraphQL, x)
		}
	}
}
