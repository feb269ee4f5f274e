package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/tables"
)

// invalid is a validation-failed error at path.
func invalid(path, format string, args ...any) *hasura.Error {
	return &hasura.Error{Code: hasura.CodeValidationFailed, Message: fmt.Sprintf(format, args...), Path: path}
}

// notFound is Hasura's error for a field a role's schema does not have.
func notFound(path, field, typ string) *hasura.Error {
	return invalid(path, "field '%s' not found in type: '%s'", field, typ)
}

// object reads an input object value.
func object(v any, path, typ string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(path, "expected an object for type '%s'", typ)
	}
	return m, nil
}

// list reads a list value; GraphQL coerces a single value to a list of one.
func list(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// sortedKeys returns m's keys in order. Input object fields carry no order
// (Hasura: "key order in input objects is not preserved"), so a fixed order
// keeps the SQL text, and so the prepared statement, the same per shape.
func sortedKeys(m map[string]any) []string { return slices.Sorted(maps.Keys(m)) }

// scalar converts a GraphQL input value for a column of type typ into a query
// argument. Most values go to PostgreSQL as text, which parses them and
// reports bad input in its own words (data-exception), as Hasura does.
func scalar(v any, typ tables.Type, path string) (any, error) {
	if v == nil {
		return nil, invalid(path, "unexpected null value for type '%s'", typ.GraphQL)
	}
	switch {
	case typ.Enum != nil:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch(path, "an enum value", typ, v)
		}
		if !slices.Contains(typ.Enum, s) {
			return nil, invalid(path, "%s", hasura.NotInEnum(typ.Enum, typ.GraphQL, s))
		}
		return s, nil
	case typ.GraphQL == "Int":
		var n int64
		switch x := v.(type) {
		case json.Number:
			i, err := strconv.ParseInt(string(x), 10, 64)
			if err != nil {
				return nil, mismatch(path, "a 32-bit integer", typ, v)
			}
			n = i
		case int64:
			n = x
		case int:
			n = int64(x)
		default:
			return nil, mismatch(path, "a 32-bit integer", typ, v)
		}
		if n < math.MinInt32 || n > math.MaxInt32 {
			return nil, mismatch(path, "a 32-bit integer", typ, v)
		}
		return n, nil
	case typ.Numeric:
		// Numbers and numeric strings (bigint and numeric values are
		// strings under HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES).
		switch x := v.(type) {
		case json.Number:
			return string(x), nil
		case string:
			return x, nil
		case int64, int, float64:
			return fmt.Sprint(x), nil
		}
		return nil, mismatch(path, "a number", typ, v)
	case typ.GraphQL == "Boolean":
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch(path, "a boolean", typ, v)
		}
		return b, nil
	case typ.IsJSON():
		raw, err := jsonText(v)
		if err != nil {
			return nil, invalid(path, "expected a JSON value for type '%s'", typ.GraphQL)
		}
		return raw, nil
	}
	s, ok := v.(string)
	if !ok {
		what := "a string"
		if typ.SQL == "uuid" {
			what = "a UUID" // Hasura's own parser for uuid (Internal/Scalars.hs)
		}
		return nil, mismatch(path, what, typ, v)
	}
	return s, nil
}

// mismatch is Hasura's typeMismatch for the value v of type typ.
func mismatch(path, what string, typ tables.Type, v any) error {
	return invalid(path, "%s", hasura.TypeMismatch(what, typ.GraphQL, describe(v)))
}

// describe names the kind of an argument's value: a literal's as GraphQL
// writes it, a variable's as JSON does, in Hasura's words.
func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int64:
		return "an integer"
	case float64:
		return "a float"
	case json.Number:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a value"
}

// jsonText is the JSON text of an input value for a json or jsonb column.
func jsonText(v any) (string, error) {
	if l, ok := v.([]any); ok && l == nil {
		v = []any{} // gqlparser's value of the literal []
	}
	raw, err := json.Marshal(v)
	return string(raw), err
}

// scalarList converts a list value for _in/_nin.
func scalarList(v any, typ tables.Type, path string) ([]any, error) {
	if v == nil {
		return nil, invalid(path, "unexpected null value for type '[%s!]'", typ.GraphQL)
	}
	items := list(v)
	out := make([]any, len(items))
	for i, item := range items {
		x, err := scalar(item, typ, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

// intValue reads an Int argument such as limit.
func intValue(v any, path string) (int64, error) {
	n, err := scalar(v, tables.Int, path)
	if err != nil {
		return 0, err
	}
	return n.(int64), nil
}

// boolValue reads a Boolean argument.
func boolValue(v any, path string) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, invalid(path, "%s", hasura.TypeMismatch("a boolean", "Boolean", describe(v)))
	}
	return b, nil
}

// stringsOf reads a list of enum values (column names, constraints).
func stringsOf(v any, path string) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	var out []string
	for i, item := range list(v) {
		s, ok := item.(string)
		if !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "expected an enum value")
		}
		out = append(out, s)
	}
	return out, nil
}
