package engine

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
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
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// read reads v, an input value for a value of typ at path, as its type
// (tables.Type.Read), in Hasura's words when it does not fit.
func read(typ tables.Type, v any, path string) (tables.Value, error) {
	value, err := typ.Read(v)
	if err != nil {
		return value, &hasura.Error{Code: err.Code, Message: err.Message, Path: path}
	}
	return value, nil
}

// bind writes a value of typ as a parameter cast to typ, for PostgreSQL
// to read: its text, or its items' (an array's), or NULL.
func bind(b *sqlbuild.Builder, v tables.Value, typ tables.Type) {
	switch {
	case v.Null:
		b.S("NULL::" + typ.SQL)
	case v.IsItems:
		b.Arg(v.Items).S("::text[]::" + typ.SQL)
	default:
		b.TypedArg(v.Text, typ.SQL)
	}
}

// intValue reads an Int argument such as limit: a 32-bit integer, as
// Hasura's own Int parser takes it.
func intValue(v any, path string) (int64, error) {
	if f, ok := v.(float64); ok && f == float64(int64(f)) {
		v = int64(f) // a variable's default written 42.0
	}
	n, err := strconv.ParseInt(integerText(v, false), 10, 32)
	if err != nil {
		return 0, invalid(path, "%s", hasura.TypeMismatch("a 32-bit integer", "Int", tables.Describe(v)))
	}
	return n, nil
}

// offsetValue reads an offset, which Hasura reads as a 64-bit integer,
// written as an Int or as a string (Schema/Select.hs tableOffsetArg).
func offsetValue(v any, path string) (int64, error) {
	n, err := strconv.ParseInt(integerText(v, true), 10, 64)
	if err != nil {
		return 0, invalid(path, "%s", hasura.TypeMismatch("a 32-bit integer, or a 64-bit integer represented as a string", "Int", tables.Describe(v)))
	}
	return n, nil
}

// integerText is the text of an integer argument's value, a string's
// too if strings is set; "" for another kind of value.
func integerText(v any, strings bool) string {
	switch x := v.(type) {
	case tables.IntLiteral:
		return string(x)
	case json.Number:
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case string:
		if strings {
			return x
		}
	}
	return ""
}

// boolValue reads a Boolean argument.
func boolValue(v any, path string) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, invalid(path, "%s", hasura.TypeMismatch("a boolean", "Boolean", tables.Describe(v)))
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
		s, ok := enumValue(item)
		if !ok {
			return nil, invalid(fmt.Sprintf("%s[%d]", path, i), "expected an enum value")
		}
		out = append(out, s)
	}
	return out, nil
}
