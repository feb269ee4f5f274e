package tables

import "github.com/freshgraph/freshgraph/internal/catalog"

// Type is a column's type, as GraphQL and PostgreSQL name it, and how a
// value of it is read (Class).
type Type struct {
	GraphQL string // scalar or enum name; an array column's element's
	// List is set for an array column: its GraphQL type is [GraphQL!], as
	// late Hasura v2 types PostgreSQL arrays.
	List bool
	// SQL is the type a value is cast to: PostgreSQL's own spelling
	// (format_type), schema-qualified where the search path does not find
	// it; an array column's is its array type (integer[]).
	SQL        string
	Comparison string // the <type>_comparison_exp input
	// Class is how an input value of the type (of an array's element) is
	// read, as Hasura's parsePGValue reads it.
	Class Class
	// Text types take the pattern operators (_like, _regex, …).
	Text bool
	// Ordered types have min/max aggregates.
	Ordered bool
	// Numeric types can be incremented (_inc) and summed.
	Numeric bool
	// BigNumber types (bigint, numeric, double precision, money) do not
	// fit a JavaScript number: under HASURA_GRAPHQL_STRINGIFY_NUMERIC_TYPES
	// their values are JSON strings, as Hasura's isBigNum decides.
	BigNumber bool
	// JSONB has the containment and key operators, and jsonb's update
	// operators (_append, _delete_key, …).
	JSONB bool
	// Enum lists the values of an enum table's type.
	Enum []string
}

// Class is the family of PostgreSQL types whose input values Hasura reads
// alike (Hasura.Backends.Postgres.SQL.Value.parsePGValue).
type Class int

// The classes. Every class takes a string, which goes to PostgreSQL as it
// is, for PostgreSQL to read as the column's type; the others are what a
// class takes besides.
const (
	ClassUnknown     Class = iota // time, interval, bytea, inet, PostgreSQL enums, …: a string only
	ClassSmallInt                 // int2: an integral number in 16 bits
	ClassInt                      // int4: … in 32 bits
	ClassBigInt                   // int8: … in 64 bits
	ClassReal                     // float4: a number within float4's bounds
	ClassDouble                   // float8: … float8's
	ClassNumeric                  // numeric: any number, exact
	ClassMoney                    // money: any number
	ClassBoolean                  // bool: true or false
	ClassText                     // text, varchar, citext
	ClassChar                     // bpchar
	ClassUUID                     // uuid
	ClassDate                     // date
	ClassTimestamp                // timestamp
	ClassTimestampTZ              // timestamptz
	ClassTimeTZ                   // timetz
	ClassJSON                     // json: any JSON value
	ClassJSONB                    // jsonb: any JSON value
	ClassEnum                     // a column referencing an enum table: one of its values
)

// IsJSON reports whether values of t are JSON documents (json, jsonb):
// their fields take a path, and their input values are any JSON.
func (t Type) IsJSON() bool { return !t.List && (t.Class == ClassJSON || t.Class == ClassJSONB) }

// Element is the type of an array type's elements (t itself otherwise).
func (t Type) Element() Type {
	if !t.List {
		return t
	}
	e := t
	e.List = false
	e.SQL = t.SQL[:len(t.SQL)-len("[]")]
	e.Comparison = t.GraphQL + "_comparison_exp"
	return e
}

// ArrayOf is the array type of t's values (t[]), the type of _in's list.
func (t Type) ArrayOf() string { return t.SQL + "[]" }

// GraphQLType is the type of a value of t in the API, nullable.
func (t Type) GraphQLType() string {
	if t.List {
		return "[" + t.GraphQL + "!]"
	}
	return t.GraphQL
}

// Int is the type of counts, limits and offsets; String that of jsonb keys
// and of a jsonb value _cast to text.
var (
	Int    = Type{GraphQL: "Int", SQL: "integer", Comparison: "Int_comparison_exp", Class: ClassInt, Ordered: true, Numeric: true}
	String = Type{GraphQL: "String", SQL: "text", Comparison: "String_comparison_exp", Class: ClassText, Text: true, Ordered: true}
	// Timestamptz is the session API's expires.
	Timestamptz = Type{GraphQL: "timestamptz", SQL: "timestamp with time zone", Comparison: "timestamptz_comparison_exp",
		Class: ClassTimestampTZ, Ordered: true}
)

// classes are the classes of PostgreSQL's base types, by pg_type.typname
// (Hasura.Backends.Postgres.SQL.Types.pgScalarTranslations); a type not
// listed reads as ClassUnknown.
var classes = map[string]Class{
	"int2": ClassSmallInt, "int4": ClassInt, "int8": ClassBigInt, "float4": ClassReal, "float8": ClassDouble,
	"numeric": ClassNumeric, "money": ClassMoney, "bool": ClassBoolean,
	"text": ClassText, "varchar": ClassText, "citext": ClassText, "bpchar": ClassChar, "uuid": ClassUUID,
	"date": ClassDate, "timestamp": ClassTimestamp, "timestamptz": ClassTimestampTZ, "timetz": ClassTimeTZ,
	"json": ClassJSON, "jsonb": ClassJSONB,
}

// scalarType is the Type of a column of PostgreSQL type col.Type.
func scalarType(col catalog.Column) Type {
	name := col.Type
	if col.Element != "" {
		name = col.Element
	}
	class := classes[name]
	if col.Element == "" && col.Kind != "b" || col.Element != "" && col.ElementKind != "b" {
		class = ClassUnknown // PostgreSQL enums, domains, composites, ranges: text for PostgreSQL
	}
	typ := Type{GraphQL: col.Scalar(), SQL: col.Cast, Class: class, Ordered: true}
	typ.Comparison = typ.GraphQL + "_comparison_exp"
	switch class {
	case ClassSmallInt, ClassInt, ClassReal:
		typ.Numeric = true
	case ClassBigInt, ClassDouble, ClassNumeric, ClassMoney:
		typ.Numeric, typ.BigNumber = true, true
	case ClassText, ClassChar:
		typ.Text = true
	case ClassJSONB:
		typ.JSONB, typ.Ordered = true, false
	case ClassJSON, ClassBoolean:
		typ.Ordered = false
	}
	switch name {
	case "xml", "bytea", "tsvector", "point", "geometry", "geography":
		typ.Ordered = false
	}
	if col.Element != "" {
		// An array: [Int!], compared as a whole; no min or max, no
		// arithmetic, no pattern or jsonb operators.
		typ.List = true
		typ.Comparison = typ.GraphQL + "_array_comparison_exp"
		typ.Ordered, typ.Numeric, typ.BigNumber, typ.Text, typ.JSONB = false, false, false, false, false
	}
	return typ
}

// UpdateOperatorApplies reports whether the update operator op (_set,
// _inc, _append, …) takes columns of type t, as Hasura's
// updateOperatorApplicableColumn decides: _set every one, _inc the
// numeric ones, the others jsonb's.
func UpdateOperatorApplies(op string, t Type) bool {
	switch op {
	case "_set":
		return true
	case "_inc":
		return t.Numeric
	}
	return t.JSONB
}

// UpdateOperandType is the type of a value the update operator op takes
// for a column of type t: _delete_key a key (String), _delete_elem an
// index (Int), _delete_at_path a path ([String!]), the others t.
func UpdateOperandType(op string, t Type) Type {
	switch op {
	case "_delete_key":
		return String
	case "_delete_elem":
		return Int
	case "_delete_at_path":
		path := String
		path.List, path.SQL = true, "text[]"
		return path
	}
	return t
}
