package tables

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// Input values reach the API's types in the forms JSON decodes to — nil,
// bool, string, json.Number, []any, map[string]any — from a request's
// variables and the metadata's permissions, and in the forms below from a
// document's literals, which keep their text: a number is never read
// through int64 or float64, so it reaches PostgreSQL exactly as written,
// whatever its size. (A variable of type Int or Float comes coerced by the
// GraphQL executor, as int64 or float64.)
type (
	// IntLiteral is an integer written in a document: -?(0|[1-9][0-9]*).
	IntLiteral string
	// FloatLiteral is a number with a fraction or an exponent written in
	// a document.
	FloatLiteral string
	// EnumLiteral is an enum value written in a document.
	EnumLiteral string
)

// Value is an input value read as a column's type: the text PostgreSQL
// reads as that type, or the texts of an array's elements, or NULL. Its
// SQL is "$n::<type>" (Type.SQL), so PostgreSQL itself parses it, and a
// value it cannot read is its error (data-exception), as in Hasura.
type Value struct {
	Null bool
	Text string
	// Items are an array value's elements, when it came as a list (a
	// string is an array literal, in Text).
	Items   []string
	IsItems bool
}

// ValueError is a value that does not fit its type, in Hasura's words
// and code; the reader adds where it is.
type ValueError struct {
	Code    hasura.Code
	Message string
}

func (e *ValueError) Error() string { return e.Message }

// parseFailed is Hasura's parse-failed error (P.parseErrorWith ParseFailed).
func parseFailed(format string, args ...any) *ValueError {
	return &ValueError{Code: hasura.CodeParseFailed, Message: fmt.Sprintf(format, args...)}
}

// Read reads v, an input value (not null), as a value of t, as Hasura's
// column parser does (Backends/Postgres/Instances/Schema.hs columnParser,
// SQL/Value.hs parsePGValue): a string is taken for every type, as text for
// PostgreSQL to read; a number must fit an integer type or a float type's
// bounds, and is kept exact for numeric; JSON types take any value.
func (t Type) Read(v any) (Value, *ValueError) {
	if v == nil {
		return Value{}, &ValueError{Code: hasura.CodeValidationFailed, Message: fmt.Sprintf("unexpected null value for type '%s'", t.GraphQL)}
	}
	if t.List {
		return t.readArray(v)
	}
	text, err := t.readScalar(v)
	return Value{Text: text}, err
}

func (t Type) readArray(v any) (Value, *ValueError) {
	switch x := v.(type) {
	case string:
		return Value{Text: x}, nil // an array literal, {1,2}
	case []any:
		elem := t.Element()
		items := make([]string, len(x))
		for i, item := range x {
			if item == nil {
				return Value{}, &ValueError{Code: hasura.CodeValidationFailed, Message: fmt.Sprintf("unexpected null value for type '%s'", t.GraphQL)}
			}
			text, err := elem.readScalar(item)
			if err != nil {
				return Value{}, err
			}
			items[i] = text
		}
		return Value{Items: items, IsItems: true}, nil
	}
	return Value{}, parseFailed("parsing [] failed, expected Array, but encountered %s", jsonKind(v))
}

// readScalar is the text of v as a value of t's class.
func (t Type) readScalar(v any) (string, *ValueError) {
	if s, ok := text(v); ok && t.Class != ClassJSON && t.Class != ClassJSONB && t.Class != ClassEnum {
		return s, nil
	}
	switch t.Class {
	case ClassSmallInt, ClassInt, ClassBigInt:
		n, ok := number(v)
		if !ok {
			return "", parseFailed("parsing Integer expected for input type: %s failed, expected Number, but encountered %s", hasuraTypeName(t.Class), jsonKind(v))
		}
		bits := map[Class]int{ClassSmallInt: 16, ClassInt: 32, ClassBigInt: 64}[t.Class]
		i, ok := hasura.Integral(n, bits)
		if !ok {
			return "", parseFailed("The value %s lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?", hasura.Scientific(n))
		}
		return i, nil
	case ClassReal, ClassDouble:
		n, ok := number(v)
		if !ok {
			return "", parseFailed("parsing Float expected for input type: %s failed, expected Number, but encountered %s", hasuraTypeName(t.Class), jsonKind(v))
		}
		bits := 64
		if t.Class == ClassReal {
			bits = 32
		}
		if _, err := strconv.ParseFloat(n, bits); err != nil {
			return "", parseFailed("The value %s lies outside the bounds. Is it overflowing the float bounds?", hasura.Scientific(n))
		}
		return n, nil
	case ClassNumeric, ClassMoney:
		n, ok := number(v)
		if !ok {
			return "", parseFailed("parsing Scientific failed, expected Number, but encountered %s", jsonKind(v))
		}
		if t.Class == ClassMoney {
			// money's input takes no exponent: the number in full, within
			// reason (money has 19 digits).
			fixed, ok := fixedPoint(n, 40)
			if !ok {
				return "", parseFailed("The value %s lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?", hasura.Scientific(n))
			}
			return fixed, nil
		}
		return n, nil
	case ClassBoolean:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
		return "", parseFailed("expected Bool, but encountered %s", jsonKind(v))
	case ClassJSON, ClassJSONB:
		raw, err := JSONText(v)
		if err != nil {
			return "", parseFailed("%s", err)
		}
		return raw, nil
	case ClassEnum:
		s, ok := enumName(v)
		if !ok {
			return "", &ValueError{Code: hasura.CodeValidationFailed, Message: hasura.TypeMismatch("an enum value", t.GraphQL, Describe(v))}
		}
		if !slices.Contains(t.Enum, s) {
			return "", &ValueError{Code: hasura.CodeValidationFailed, Message: hasura.NotInEnum(t.Enum, t.GraphQL, s)}
		}
		return s, nil
	}
	// The types that take only strings, in aeson's words for them.
	what := map[Class]string{ClassText: "Text", ClassChar: "Char", ClassUUID: "UUID", ClassDate: "Day",
		ClassTimestamp: "LocalTime", ClassTimestampTZ: "UTCTime"}[t.Class]
	switch {
	case t.Class == ClassTimeTZ:
		return "", parseFailed("Expecting a string for timetz")
	case what != "":
		return "", parseFailed("parsing %s failed, expected String, but encountered %s", what, jsonKind(v))
	}
	return "", parseFailed("A string is expected for type: %s", t.GraphQL)
}

// hasuraTypeName is Hasura's Show of its PGScalarType, which its messages
// print.
func hasuraTypeName(c Class) string {
	return map[Class]string{ClassSmallInt: "PGSmallInt", ClassInt: "PGInteger", ClassBigInt: "PGBigInt",
		ClassReal: "PGFloat", ClassDouble: "PGDouble"}[c]
}

// text is v as a string: a JSON string or, as Hasura's valueToJSON makes
// it one, an enum literal.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case EnumLiteral:
		return string(x), true
	}
	return "", false
}

// enumName is the name of an enum value: a literal, or a variable's string.
func enumName(v any) (string, bool) { return text(v) }

// number is v's text when v is a number: a literal's or a JSON number's
// as written, or a coerced variable's.
func number(v any) (string, bool) {
	switch x := v.(type) {
	case IntLiteral:
		return string(x), true
	case FloatLiteral:
		return string(x), true
	case json.Number:
		return string(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), true
	}
	return "", false
}

// jsonKind is aeson's name for the kind of an input value, as its parse
// failures word it: an enum literal is a string, as Hasura's valueToJSON
// makes it.
func jsonKind(v any) string {
	if e, ok := v.(EnumLiteral); ok {
		v = string(e)
	}
	return hasura.AesonKind(v)
}

// Describe names the kind of an input value as Hasura's typeMismatch
// does: a literal's as GraphQL writes it, a variable's as JSON does.
func Describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case IntLiteral:
		return "an integer"
	case FloatLiteral:
		return "a float"
	case EnumLiteral:
		return "an enum value"
	case json.Number, int64, int, float64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	}
	return "a value"
}

// JSONText is the JSON text of an input value for a json or jsonb column:
// numbers as written, strings as they are (no HTML escapes: json keeps
// its text), an enum literal as a string, as Hasura's valueToJSON makes it.
func JSONText(v any) (string, error) {
	var b bytes.Buffer
	if err := appendJSON(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// maxJSONDepth bounds the nesting of a JSON input value; the document's
// and the body's limits bound it already, this keeps the writer's stack so.
const maxJSONDepth = 1000

func appendJSON(b *bytes.Buffer, v any, depth int) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("a JSON value nested deeper than %d levels", maxJSONDepth)
	}
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case string:
		return writeJSONString(b, x)
	case EnumLiteral:
		return writeJSONString(b, string(x))
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := appendJSON(b, e, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		b.WriteByte('{')
		for i, k := range sortedKeys(x) {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSONString(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := appendJSON(b, x[k], depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		n, ok := number(v)
		if !ok {
			return fmt.Errorf("%T is not a JSON value", v)
		}
		if x, ok := v.(float64); ok && (x != x || x > 1.7976931348623157e308 || x < -1.7976931348623157e308) {
			return fmt.Errorf("%v is not a JSON number", x)
		}
		b.WriteString(n)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// sortedKeys are m's keys in order: input objects carry none (Hasura: "key
// order in input objects is not preserved"), and a fixed one keeps a
// statement's text, and so its prepared statement, the same per shape.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// fixedPoint is n written without an exponent, if that takes at most
// limit digits.
func fixedPoint(n string, limit int) (string, bool) {
	d, ok := hasura.ParseDecimal(n)
	if !ok {
		return "", false
	}
	if d.Digits == "" {
		return "0", true
	}
	if d.Exp > limit || -d.Exp > limit {
		return "", false
	}
	var s string
	switch {
	case d.Exp <= 0:
		s = "0." + strings.Repeat("0", -d.Exp) + d.Digits
	case d.Exp >= len(d.Digits):
		s = d.Digits + strings.Repeat("0", d.Exp-len(d.Digits))
	default:
		s = d.Digits[:d.Exp] + "." + d.Digits[d.Exp:]
	}
	if d.Negative {
		s = "-" + s
	}
	return s, true
}
