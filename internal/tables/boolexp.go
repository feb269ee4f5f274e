package tables

// BoolExp is a Hasura boolean expression read and typed against the
// catalogue, over the rows of one table: a permission's filter or check,
// read once when the metadata loads (ReadPermission), and a request's
// where, read when the request comes (the engine). Every column, operator
// and relationship in it has been checked, and every literal converted to
// its column's type; one compiler writes the SQL of both (engine).
type BoolExp interface{ isBoolExp() }

type (
	// And holds when each of its expressions does; true when empty. The
	// keys of an expression's object, and _and.
	And []BoolExp
	// Or holds when one of its expressions does; false when empty.
	Or []BoolExp
	// Not negates.
	Not struct{ Exp BoolExp }
	// Compare is a comparison of a column: {col: {_op: operand}}; with
	// Computed, of that scalar computed field of the row (Column then
	// names it and has its type).
	Compare struct {
		Column Column
		// AsText compares the column's text (jsonb's _cast: {String: …}).
		AsText   bool
		Computed *ComputedField
		Comparison
	}
	// CompareColumns compares two columns of a row (_ceq, _cgt, …): the
	// other one the current row's or, Root, the row of the table the
	// permission is on (["$", "col"]).
	CompareColumns struct {
		Column Column
		Op     Op
		Other  Column
		Root   bool
	}
	// Related holds when a row related through Rel matches Where: EXISTS.
	Related struct {
		Rel   Relationship
		Where BoolExp
	}
	// ComputedRows holds when a row the table computed field Field
	// returns for the row matches Where: EXISTS.
	ComputedRows struct {
		Field *ComputedField
		Where BoolExp
	}
	// Exists holds when a row of Table matches Where, whatever the row
	// being checked (_exists).
	Exists struct {
		Table *Table
		Where BoolExp
	}
	// Count compares the number of related rows (a request's
	// <rel>_aggregate: {count: {arguments, distinct, filter, predicate}}).
	Count struct {
		Rel Relationship
		// Columns counted (count(DISTINCT a, b)); none: count(*).
		Columns  []Column
		Distinct bool
		// Filter picks the rows counted; nil for all.
		Filter    BoolExp
		Predicate []Comparison
	}
)

func (And) isBoolExp()            {}
func (Or) isBoolExp()             {}
func (Not) isBoolExp()            {}
func (Compare) isBoolExp()        {}
func (CompareColumns) isBoolExp() {}
func (Related) isBoolExp()        {}
func (Exists) isBoolExp()         {}
func (ComputedRows) isBoolExp()   {}
func (Count) isBoolExp()          {}

// OnComputed is e, the comparisons of one column, as comparisons of the
// scalar computed field cf.
func OnComputed(e BoolExp, cf *ComputedField) BoolExp {
	return eachCompare(e, func(x *Compare) { x.Computed = cf })
}

// AsText is e, the comparisons of one column, as comparisons of the
// column's text (jsonb's _cast: {String: …}).
func AsText(e BoolExp) BoolExp { return eachCompare(e, func(x *Compare) { x.AsText = true }) }

// eachCompare is e, the comparisons of one column, each changed by change.
func eachCompare(e BoolExp, change func(*Compare)) BoolExp {
	switch x := e.(type) {
	case Compare:
		change(&x)
		return x
	case And:
		out := make(And, len(x))
		for i, e := range x {
			out[i] = eachCompare(e, change)
		}
		return out
	}
	return e
}

// True is the expression that always holds.
var True BoolExp = And{}

// IsTrue reports whether e always holds as written ({}).
func IsTrue(e BoolExp) bool {
	a, ok := e.(And)
	return e == nil || ok && len(a) == 0
}

// Comparison is an operator and its operand, on a value of Type: a
// column's (its text's, for AsText), or a count's (Int).
type Comparison struct {
	Type    Type
	Op      Op
	Operand Operand
	// NullAware is a permission's _eq or _neq on a nullable column, where
	// a null operand means IS NULL (IS NOT NULL), as Hasura's
	// NullableComparison does.
	NullAware bool
}

// Op is a comparison operator.
type Op int

// The operators, in Hasura's names.
const (
	OpEq Op = iota
	OpNeq
	OpGt
	OpLt
	OpGte
	OpLte
	OpIn
	OpNin
	OpIsNull
	OpLike
	OpNlike
	OpIlike
	OpNilike
	OpSimilar
	OpNsimilar
	OpRegex
	OpIregex
	OpNregex
	OpNiregex
	OpContains
	OpContainedIn
	OpHasKey
	OpHasKeysAny
	OpHasKeysAll
)

// Operators are the operators by their names in a request and in the
// metadata (where $eq is _eq too).
var Operators = map[string]Op{
	"_eq": OpEq, "_neq": OpNeq, "_gt": OpGt, "_lt": OpLt, "_gte": OpGte, "_lte": OpLte,
	"_in": OpIn, "_nin": OpNin, "_is_null": OpIsNull,
	"_like": OpLike, "_nlike": OpNlike, "_ilike": OpIlike, "_nilike": OpNilike,
	"_similar": OpSimilar, "_nsimilar": OpNsimilar, "_regex": OpRegex, "_iregex": OpIregex,
	"_nregex": OpNregex, "_niregex": OpNiregex,
	"_contains": OpContains, "_contained_in": OpContainedIn,
	"_has_key": OpHasKey, "_has_keys_any": OpHasKeysAny, "_has_keys_all": OpHasKeysAll,
}

// SQL is the operator's SQL between its two sides.
func (o Op) SQL() string {
	return [...]string{" = ", " <> ", " > ", " < ", " >= ", " <= ", "", "", "",
		" LIKE ", " NOT LIKE ", " ILIKE ", " NOT ILIKE ", " SIMILAR TO ", " NOT SIMILAR TO ",
		" ~ ", " ~* ", " !~ ", " !~* ", " @> ", " <@ ", " ? ", " ?| ", " ?& "}[o]
}

// Pattern reports whether o is one of the text pattern operators.
func (o Op) Pattern() bool { return o >= OpLike && o <= OpNiregex }

// OperandType is the type o's operand is read as, for a comparison of a
// value of type t: jsonb's keys are text, _in's items t's.
func (o Op) OperandType(t Type) Type {
	switch o {
	case OpHasKey, OpHasKeysAny, OpHasKeysAll:
		return String
	}
	return t
}

// Operand is a comparison's right side.
type Operand interface{ isOperand() }

type (
	// Literal is a value read as the operand's type.
	Literal Value
	// Literals are the values of a list operand (_in, _has_keys_any).
	Literals []Value
	// SessionVariable is the caller's session variable Name (lower case),
	// cast to the operand's type as Hasura casts its text; for a list
	// operator, its text is a PostgreSQL array literal ({1,2}).
	SessionVariable struct{ Name string }
)

func (Literal) isOperand()         {}
func (Literals) isOperand()        {}
func (SessionVariable) isOperand() {}

// TakesList reports whether o's operand is a list.
func (o Op) TakesList() bool {
	return o == OpIn || o == OpNin || o == OpHasKeysAny || o == OpHasKeysAll
}
