package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// FuzzArguments checks, for any argument value a client could send (any
// JSON value, decoded as the transports decode variables, and an integer
// also as the int64 gqlgen coerces an Int variable to), that the readers
// of the engine's own arguments never panic and fail only with a
// validation-failed error at the path they were given. (Column values
// are tables.Type.Read's, fuzzed by FuzzRead.)
func FuzzArguments(f *testing.F) {
	for _, seed := range []string{
		`42`, `-2147483648`, `2147483648`, `9223372036854775808`, `1.5`, `1e3`, `-0`,
		`"email"`, `true`, `false`, `null`, `[]`, `[1, 2, 3]`, `["email", "oauth"]`, `["a", null]`, `[[1]]`,
		`{}`, `{"_eq": 1}`,
	} {
		f.Add([]byte(seed))
	}
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
