package hasura

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// Rules are the checks a document passes before it runs, as Hasura's own
// parser makes them (server/lib/schema-parsers/…/Internal/{Parser,Input,
// Scalars,TypeChecking}.hs, Collect.hs, Directives.hs; Execute/Inline.hs and
// Resolve.hs for fragments and variables): gqlparser's walker, which also
// annotates the document for gqlgen, with Hasura's checks and words. Checks
// Hasura does not make are left out: unused fragments and variables, and
// type conditions that cannot apply (such a fragment adds no field).
func Rules() *rules.Rules {
	return rules.NewRules(
		core.Rule{Name: "KnownRootType", RuleFunc: knownRootType},
		core.Rule{Name: "UniqueNames", RuleFunc: uniqueNames},
		core.Rule{Name: "Fragments", RuleFunc: fragments},
		core.Rule{Name: "Variables", RuleFunc: variables},
		core.Rule{Name: "Directives", RuleFunc: directives},
		core.Rule{Name: "Fields", RuleFunc: fields},
		core.Rule{Name: "Values", RuleFunc: values},
		core.Rule{Name: "Merge", RuleFunc: merge},
		// gqlparser's own, in its words: bounds on introspection, and
		// faults Hasura's parser has no words for.
		rules.MaxIntrospectionDepth,
		rules.UniqueArgumentNamesRule,
		rules.UniqueInputFieldNamesRule,
		rules.VariablesAreInputTypesRule,
	)
}

// How a finding is placed and coded: its path from the site at its
// location (see locate), and its code where it is not validation-failed.
const (
	extPath = "freshgraph.path"
	extCode = "freshgraph.code"
)

// pathFrom sets how the finding's path follows from its site's.
func pathFrom(f func(s site) string) core.ErrorOption {
	return func(err *gqlerror.Error) {
		if err.Extensions == nil {
			err.Extensions = map[string]any{}
		}
		err.Extensions[extPath] = f
	}
}

// suffixed is the site's path followed by suffix.
func suffixed(suffix string) core.ErrorOption {
	return pathFrom(func(s site) string { return s.path + suffix })
}

// rootPath places a finding at "$".
var rootPath = pathFrom(func(site) string { return "$" })

func coded(c Code) core.ErrorOption {
	return func(err *gqlerror.Error) {
		if err.Extensions == nil {
			err.Extensions = map[string]any{}
		}
		err.Extensions[extCode] = c
	}
}

// enclosing is the path of the selection set a site is in: what Hasura
// names for faults of a selection set as a whole (a spread, a directive,
// two fields of one response name).
func enclosing(s site) string {
	if s.selectionSet != "" {
		return s.selectionSet
	}
	return s.path
}

func knownRootType(observers *core.Events, addError core.AddErrFunc) {
	observers.OnOperation(func(w *core.Walker, op *ast.OperationDefinition) {
		switch {
		case op.Operation == ast.Mutation && w.Schema.Mutation == nil:
			addError(core.Message("no mutations exist"), rootPath)
		case op.Operation == ast.Subscription && w.Schema.Subscription == nil:
			addError(core.Message("no subscriptions exist"), rootPath)
		}
	})
}

// uniqueNames: two definitions of one fragment or variable are
// parse-failed in Hasura (Inline.hs, Resolve.hs).
func uniqueNames(observers *core.Events, addError core.AddErrFunc) {
	observers.OnOperation(func(w *core.Walker, op *ast.OperationDefinition) {
		seen := map[string]bool{}
		for _, f := range w.Document.Fragments {
			if seen[f.Name] {
				addError(core.Message("multiple definitions for fragment %q", f.Name), rootPath, coded(CodeParseFailed))
			}
			seen[f.Name] = true
		}
		seen = map[string]bool{}
		for _, v := range op.VariableDefinitions {
			if seen[v.Variable] {
				addError(core.Message("multiple definitions for variable %q", v.Variable), rootPath, coded(CodeParseFailed))
			}
			seen[v.Variable] = true
		}
	})
}

// fragments: a spread of a fragment the document does not define, and
// fragments that spread one another in a cycle (Inline.hs). Hasura's path
// of a cycle runs through the fragments' names.
func fragments(observers *core.Events, addError core.AddErrFunc) {
	observers.OnFragmentSpread(func(_ *core.Walker, spread *ast.FragmentSpread) {
		if spread.Definition == nil {
			addError(core.Message("reference to undefined fragment %q", spread.Name), core.At(spread.Position), pathFrom(enclosing))
		}
	})
	observers.OnOperation(func(w *core.Walker, op *ast.OperationDefinition) {
		byName := map[string]*ast.FragmentDefinition{}
		for _, f := range w.Document.Fragments {
			if _, ok := byName[f.Name]; !ok {
				byName[f.Name] = f
			}
		}
		done := map[string]bool{}
		var stack []string
		var visit func(set ast.SelectionSet, path string) bool
		visit = func(set ast.SelectionSet, path string) bool {
			path += ".selectionSet"
			for _, sel := range set {
				switch sel := sel.(type) {
				case *ast.Field:
					if visit(sel.SelectionSet, path+"."+sel.Name) {
						return true
					}
				case *ast.InlineFragment:
					if visit(sel.SelectionSet, strings.TrimSuffix(path, ".selectionSet")) {
						return true
					}
				case *ast.FragmentSpread:
					if i := slices.Index(stack, sel.Name); i >= 0 {
						names := append([]string{sel.Name}, stack[i+1:]...)
						full := path
						addError(core.Message("the fragment definition(s) %s form a cycle", englishList(names)),
							pathFrom(func(site) string { return full }))
						return true
					}
					f := byName[sel.Name]
					if f == nil || done[sel.Name] {
						continue
					}
					stack = append(stack, sel.Name)
					if visit(f.SelectionSet, path+"."+sel.Name) {
						return true
					}
					stack = stack[:len(stack)-1]
					done[sel.Name] = true
				}
			}
			return false
		}
		visit(op.SelectionSet, "$")
	})
}

// englishList is Hasura's: "a", "a and b", "a, b, and c".
func englishList(items []string) string {
	switch len(items) {
	case 1:
		return items[0]
	case 2:
		return items[0] + " and " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + ", and " + items[len(items)-1]
}

// variables: a variable used but not declared, and one declared with a
// type that cannot stand where it is used (TypeChecking.hs typeCheck).
func variables(observers *core.Events, addError core.AddErrFunc) {
	observers.OnValue(func(_ *core.Walker, v *ast.Value) {
		if v.Kind != ast.Variable {
			return
		}
		if v.VariableDefinition == nil {
			addError(core.Message("unbound variable %q", v.Raw), rootPath)
			return
		}
		if v.ExpectedType == nil {
			return // where nothing is expected, another finding says why
		}
		def := v.VariableDefinition
		if !fits(def.Type, def.DefaultValue != nil && def.DefaultValue.Kind != ast.NullValue, v.ExpectedType, v.ExpectedTypeHasDefault) {
			addError(core.Message("variable '%s' is declared as '%s', but used where '%s' is expected", def.Variable, def.Type.String(), v.ExpectedType.String()),
				core.At(v.Position))
		}
	})
}

// fits reports whether a variable of type have may stand where want is
// expected: the same named type and list shape; a nullable variable only
// where the position or the variable has a default.
func fits(have *ast.Type, haveDefault bool, want *ast.Type, wantDefault bool) bool {
	if want.NonNull && !have.NonNull && !haveDefault && !wantDefault {
		return false
	}
	for {
		if want.NonNull && !have.NonNull {
			return false
		}
		if (have.Elem == nil) != (want.Elem == nil) {
			return false
		}
		if have.Elem == nil {
			return have.NamedType == want.NamedType
		}
		have, want = have.Elem, want.Elem
		haveDefault, wantDefault = false, false
	}
}

// directiveLocations are Hasura's words for where a directive stands.
var directiveLocations = map[ast.DirectiveLocation]string{
	ast.LocationQuery: "a query", ast.LocationMutation: "a mutation", ast.LocationSubscription: "a subscription",
	ast.LocationField: "a field", ast.LocationFragmentDefinition: "a fragment definition",
	ast.LocationFragmentSpread: "a fragment spread", ast.LocationInlineFragment: "an inline fragment",
	ast.LocationVariableDefinition: "a variable definition",
}

// directives: unknown ones, misplaced ones, one used twice in a place, and
// their arguments (Directives.hs). A directive's path is its selection
// set's, then its name.
func directives(observers *core.Events, addError core.AddErrFunc) {
	observers.OnDirective(func(_ *core.Walker, d *ast.Directive) {
		if d.Definition == nil {
			addError(core.Message("directive '%s' is not defined in the schema", d.Name), core.At(d.Position), pathFrom(enclosing))
			return
		}
		if !slices.Contains(d.Definition.Locations, d.Location) {
			addError(core.Message("directive '%s' is not allowed on %s", d.Name, directiveLocations[d.Location]), core.At(d.Position), pathFrom(enclosing))
			return
		}
		for _, a := range d.Arguments {
			if d.Definition.Arguments.ForName(a.Name) == nil {
				addError(core.Message("'%s' has no argument named '%s'", d.Name, a.Name), core.At(d.Position))
			}
		}
		for _, a := range d.Definition.Arguments {
			if a.Type.NonNull && a.DefaultValue == nil && d.Arguments.ForName(a.Name) == nil {
				addError(core.Message("missing required field '%s'", a.Name), core.At(d.Position), suffixed(".args."+a.Name))
			}
		}
	})
	observers.OnDirectiveList(func(_ *core.Walker, list []*ast.Directive) {
		var twice []string
		for i, d := range list {
			if !slices.ContainsFunc(list[:i], func(o *ast.Directive) bool { return o.Name == d.Name }) &&
				slices.ContainsFunc(list[i+1:], func(o *ast.Directive) bool { return o.Name == d.Name }) {
				twice = append(twice, "'"+d.Name+"'")
			}
		}
		if len(twice) > 0 {
			addError(core.Message("the following directives are used more than once: [%s]", strings.Join(twice, ", ")),
				core.At(list[0].Position), pathFrom(enclosing))
		}
	})
}

// fields: a field its type does not have, selection sets missing or out of
// place, unknown and missing arguments (Parser.hs).
func fields(observers *core.Events, addError core.AddErrFunc) {
	observers.OnField(func(w *core.Walker, f *ast.Field) {
		if f.Definition == nil {
			if f.ObjectDefinition != nil {
				addError(core.Message("field '%s' not found in type: '%s'", f.Name, f.ObjectDefinition.Name), core.At(f.Position))
			}
			return
		}
		if typ := w.Schema.Types[f.Definition.Type.Name()]; typ != nil {
			switch composite := typ.Kind == ast.Object || typ.Kind == ast.Interface || typ.Kind == ast.Union; {
			case composite && len(f.SelectionSet) == 0:
				addError(core.Message("missing selection set for '%s'", typ.Name), core.At(f.Position), suffixed(".selectionSet"))
				return
			case !composite && len(f.SelectionSet) > 0:
				addError(core.Message("unexpected subselection set for non-object field"), core.At(f.Position))
				return
			}
		}
		for _, a := range f.Arguments {
			if f.Definition.Arguments.ForName(a.Name) == nil {
				addError(core.Message("'%s' has no argument named '%s'", f.Name, a.Name), core.At(f.Position))
				return
			}
		}
		for _, a := range f.Definition.Arguments {
			if a.Type.NonNull && a.DefaultValue == nil && f.Arguments.ForName(a.Name) == nil {
				addError(core.Message("missing required field '%s'", a.Name), core.At(f.Position), suffixed(".args."+a.Name))
			}
		}
	})
}

// expected are Hasura's words for what a built-in scalar takes
// (Internal/Scalars.hs).
var expected = map[string]string{
	"Int": "a 32-bit integer", "Float": "a float", "String": "a string", "Boolean": "a boolean",
	"ID": "a String or a 32-bit integer",
}

// literal describes a GraphQL literal as Hasura's typeMismatch does.
func literal(v *ast.Value) string {
	switch v.Kind {
	case ast.IntValue:
		return "an integer"
	case ast.FloatValue:
		return "a float"
	case ast.StringValue, ast.BlockValue:
		return "a string"
	case ast.BooleanValue:
		return "a boolean"
	case ast.NullValue:
		return "null"
	case ast.EnumValue:
		return "an enum value"
	case ast.ListValue:
		return "a list"
	case ast.ObjectValue:
		return "an object"
	}
	return "a variable"
}

// TypeMismatch is Hasura's typeMismatch (Internal/TypeChecking.hs):
// "expected <what> for type '<type>', but found <what was found>".
func TypeMismatch(what, typ, found string) string {
	return fmt.Sprintf("expected %s for type '%s', but found %s", what, typ, found)
}

func mismatch(what, typ, found string) core.ErrorOption {
	return core.Message("%s", TypeMismatch(what, typ, found))
}

// values: literals of the wrong kind, unknown and missing input fields, and
// enum values the enum does not have (Internal/Input.hs, Scalars.hs).
// Values of the API's own scalars (uuid, timestamptz, …) and columns'
// values are checked where they are used, as their columns' types.
func values(observers *core.Events, addError core.AddErrFunc) {
	var doc *ast.QueryDocument
	var limits map[*ast.Value]string
	var columns map[*ast.Value]bool
	observers.OnValue(func(w *core.Walker, v *ast.Value) {
		if v.Definition == nil || v.ExpectedType == nil || v.Kind == ast.Variable {
			return
		}
		if doc != w.Document {
			doc, limits, columns = w.Document, limitValues(w.Document), columnValues(w.Schema, w.Document)
		}
		if limits[v] == "limit" && v.Kind != ast.NullValue {
			if n, err := strconv.ParseInt(v.Raw, 10, 32); v.Kind != ast.IntValue || err == nil && n < 0 {
				addError(mismatch("a non-negative 32-bit integer", "Int", literal(v)), core.At(v.Position))
				return
			}
		}
		if limits[v] == "offset" && v.Kind != ast.NullValue {
			// Hasura's bigInt: an integer, or one of 64 bits written as a
			// string (Schema/Select.hs tableOffsetArg).
			if _, err := strconv.ParseInt(v.Raw, 10, 64); v.Kind != ast.IntValue && v.Kind != ast.StringValue || err != nil {
				addError(mismatch("a 32-bit integer, or a 64-bit integer represented as a string", "Int", literal(v)), core.At(v.Position))
			}
			return
		}
		if _, builtIn := expected[v.Definition.Name]; !columns[v] && limits[v] == "" && v.Definition.Kind == ast.Scalar &&
			(!builtIn || v.Definition.Name == "Int" || v.Definition.Name == "Float" || v.Definition.Name == "ID") {
			// A number outside a column value is read by the GraphQL
			// executor (gqlparser's ArgumentMap) for a hand-written field,
			// into an int64 or a float64: one that does not fit would
			// panic there.
			if _, err := strconv.ParseInt(v.Raw, 10, 64); v.Kind == ast.IntValue && err != nil {
				addError(core.Message("The value %s lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?", Scientific(v.Raw)),
					core.At(v.Position), coded(CodeParseFailed))
				return
			}
			if _, err := strconv.ParseFloat(v.Raw, 64); v.Kind == ast.FloatValue && err != nil {
				addError(core.Message("The value %s lies outside the bounds. Is it overflowing the float bounds?", Scientific(v.Raw)),
					core.At(v.Position), coded(CodeParseFailed))
				return
			}
		}
		def := v.Definition
		if _, builtIn := expected[def.Name]; def.Kind == ast.Scalar && (!builtIn || columns[v]) {
			return // the API's own scalars (jsonb takes lists and objects), and column values (columnValues)
		}
		if v.Kind == ast.NullValue {
			if v.ExpectedType.NonNull {
				addError(core.Message("unexpected null value for type '%s'", def.Name), core.At(v.Position))
			}
			return
		}
		if v.Kind == ast.ListValue && v.ExpectedType.Elem == nil {
			addError(mismatch(expectation(def), def.Name, "a list"), core.At(v.Position))
			return
		}
		if v.Kind == ast.ListValue {
			return // its items are values of their own
		}
		switch def.Kind {
		case ast.Scalar:
			what := expected[def.Name]
			ok := false
			switch def.Name {
			case "Int":
				ok = v.Kind == ast.IntValue
				if ok {
					if n, err := strconv.ParseInt(v.Raw, 10, 64); err != nil || n < math.MinInt32 || n > math.MaxInt32 {
						addError(core.Message("The value %s lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?", Scientific(v.Raw)),
							core.At(v.Position), coded(CodeParseFailed))
						return
					}
				}
			case "Float":
				ok = v.Kind == ast.IntValue || v.Kind == ast.FloatValue
			case "String":
				ok = v.Kind == ast.StringValue || v.Kind == ast.BlockValue
			case "Boolean":
				ok = v.Kind == ast.BooleanValue
			case "ID":
				ok = v.Kind == ast.StringValue || v.Kind == ast.BlockValue || v.Kind == ast.IntValue
			}
			if !ok {
				addError(mismatch(what, def.Name, literal(v)), core.At(v.Position))
			}
		case ast.Enum:
			if v.Kind != ast.EnumValue {
				addError(mismatch("an enum value", def.Name, literal(v)), core.At(v.Position))
				return
			}
			if def.EnumValues.ForName(v.Raw) == nil {
				addError(core.Message("%s", NotInEnum(enumValues(def), def.Name, v.Raw)), core.At(v.Position))
			}
		case ast.InputObject:
			if v.Kind != ast.ObjectValue {
				addError(mismatch("an object", def.Name, literal(v)), core.At(v.Position))
				return
			}
			// Unknown keys first, as Hasura checks them.
			for _, child := range v.Children {
				if def.Fields.ForName(child.Name) == nil {
					addError(core.Message("field '%s' not found in type: '%s'", child.Name, def.Name), core.At(child.Position))
					return
				}
			}
			for _, field := range def.Fields {
				if field.Type.NonNull && field.DefaultValue == nil && v.Children.ForName(field.Name) == nil {
					addError(core.Message("missing required field '%s'", field.Name), core.At(v.Position), suffixed("."+field.Name))
					return
				}
			}
		}
	})
}

// limitValues are the values of the limit and offset arguments of doc's
// fields, by argument: a limit takes a non-negative Int, an offset
// Hasura's bigInt (Schema/Select.hs tableLimitArg, tableOffsetArg).
func limitValues(doc *ast.QueryDocument) map[*ast.Value]string {
	out := map[*ast.Value]string{}
	var visit func(set ast.SelectionSet)
	visit = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				for _, name := range []string{"limit", "offset"} {
					if a := sel.Arguments.ForName(name); a != nil && a.Value != nil {
						out[a.Value] = name
					}
				}
				visit(sel.SelectionSet)
			case *ast.InlineFragment:
				visit(sel.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		visit(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		visit(f.SelectionSet)
	}
	return out
}

// NotInEnum is Hasura's refusal of a value found that the enum typ, of
// values, does not have (Internal/Input.hs enum).
func NotInEnum(values []string, typ, found string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = "'" + v + "'"
	}
	return fmt.Sprintf("expected one of the values [%s] for type '%s', but found '%s'", strings.Join(quoted, ", "), typ, found)
}

func enumValues(def *ast.Definition) []string {
	names := make([]string, len(def.EnumValues))
	for i, e := range def.EnumValues {
		names[i] = e.Name
	}
	return names
}

// expectation is what a value of def's type takes, in Hasura's words.
func expectation(def *ast.Definition) string {
	switch def.Kind {
	case ast.Enum:
		return "an enum value"
	case ast.InputObject:
		return "an object"
	}
	if what, ok := expected[def.Name]; ok {
		return what
	}
	return "a value"
}

// merge: fields of one response name must be the same field with the same
// arguments, wherever they come from (Collect.hs mergeFields); their
// selection sets merge, and are checked merged. Only fragments whose type
// condition applies count, as only they add fields.
func merge(observers *core.Events, addError core.AddErrFunc) {
	observers.OnOperation(func(w *core.Walker, op *ast.OperationDefinition) {
		var root *ast.Definition
		switch op.Operation {
		case ast.Mutation:
			root = w.Schema.Mutation
		case ast.Subscription:
			root = w.Schema.Subscription
		default:
			root = w.Schema.Query
		}
		if root == nil || cyclic(w.Document) {
			return // a cycle is the fragments rule's finding, and would not end here
		}
		var check func(sets []ast.SelectionSet, typ *ast.Definition, path string) bool
		check = func(sets []ast.SelectionSet, typ *ast.Definition, path string) bool {
			var order []string
			byAlias := map[string][]*ast.Field{}
			seen := map[string]bool{}
			var collect func(set ast.SelectionSet)
			collect = func(set ast.SelectionSet) {
				for _, sel := range set {
					switch sel := sel.(type) {
					case *ast.Field:
						alias := sel.Alias
						if alias == "" {
							alias = sel.Name
						}
						if _, ok := byAlias[alias]; !ok {
							order = append(order, alias)
						}
						byAlias[alias] = append(byAlias[alias], sel)
					case *ast.InlineFragment:
						if applies(w.Schema, sel.TypeCondition, typ) {
							collect(sel.SelectionSet)
						}
					case *ast.FragmentSpread:
						if sel.Definition != nil && !seen[sel.Name] && applies(w.Schema, sel.Definition.TypeCondition, typ) {
							seen[sel.Name] = true
							collect(sel.Definition.SelectionSet)
						}
					}
				}
			}
			for _, set := range sets {
				collect(set)
			}
			for _, alias := range order {
				group := byAlias[alias]
				first := group[0]
				var children []ast.SelectionSet
				for _, f := range group {
					if f.Name != first.Name {
						addError(core.Message("selection of both '%s' and '%s' specify the same response name, '%s'", first.Name, f.Name, alias),
							pathFrom(func(site) string { return path }))
						return true
					}
					if !sameArguments(first.Arguments, f.Arguments) {
						addError(core.Message("inconsistent arguments between multiple selections of field '%s'", first.Name),
							pathFrom(func(site) string { return path }))
						return true
					}
					children = append(children, f.SelectionSet)
				}
				if first.Definition == nil {
					continue
				}
				if next := w.Schema.Types[first.Definition.Type.Name()]; next != nil && check(children, next, path+"."+first.Name+".selectionSet") {
					return true
				}
			}
			return false
		}
		check([]ast.SelectionSet{op.SelectionSet}, root, "$.selectionSet")
	})
}

// DropInapplicable takes out of doc's operations the fragments whose type
// condition cannot apply where they stand, a type the schema does not have
// included: Hasura's parser drops them without a word (Collect.hs
// flattenSelectionSet), so their fields are neither validated nor run.
// doc must be the request's own copy: its selection sets are changed.
func DropInapplicable(schema *ast.Schema, doc *ast.QueryDocument) {
	done := map[string]bool{}
	var visit func(set ast.SelectionSet, typ *ast.Definition) ast.SelectionSet
	visit = func(set ast.SelectionSet, typ *ast.Definition) ast.SelectionSet {
		if typ == nil {
			return set // below an unknown field: its own finding
		}
		kept := set[:0:0]
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if def := typ.Fields.ForName(sel.Name); def != nil {
					sel.SelectionSet = visit(sel.SelectionSet, schema.Types[def.Type.Name()])
				}
			case *ast.InlineFragment:
				if !applies(schema, sel.TypeCondition, typ) {
					continue
				}
				next := typ
				if sel.TypeCondition != "" {
					next = schema.Types[sel.TypeCondition]
				}
				sel.SelectionSet = visit(sel.SelectionSet, next)
			case *ast.FragmentSpread:
				var def *ast.FragmentDefinition
				for _, f := range doc.Fragments {
					if f.Name == sel.Name {
						def = f
						break
					}
				}
				if def != nil && !applies(schema, def.TypeCondition, typ) {
					continue
				}
				if def != nil && !done[def.Name] {
					done[def.Name] = true
					def.SelectionSet = visit(def.SelectionSet, schema.Types[def.TypeCondition])
				}
			}
			kept = append(kept, sel)
		}
		return kept
	}
	for _, op := range doc.Operations {
		op.SelectionSet = visit(op.SelectionSet, rootType(schema, op))
	}
}

// rootType is the root type of schema that op's selection set is on.
func rootType(schema *ast.Schema, op *ast.OperationDefinition) *ast.Definition {
	switch op.Operation {
	case ast.Mutation:
		return schema.Mutation
	case ast.Subscription:
		return schema.Subscription
	}
	return schema.Query
}

// cyclic reports whether fragments of doc spread one another in a cycle.
func cyclic(doc *ast.QueryDocument) bool {
	const (
		unvisited = iota
		visiting
		visited
	)
	state := map[string]int{}
	var spreads func(set ast.SelectionSet, found func(name string) bool) bool
	spreads = func(set ast.SelectionSet, found func(name string) bool) bool {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				if spreads(sel.SelectionSet, found) {
					return true
				}
			case *ast.InlineFragment:
				if spreads(sel.SelectionSet, found) {
					return true
				}
			case *ast.FragmentSpread:
				if found(sel.Name) {
					return true
				}
			}
		}
		return false
	}
	var visit func(name string) bool
	visit = func(name string) bool {
		switch state[name] {
		case visiting:
			return true
		case visited:
			return false
		}
		state[name] = visiting
		for _, f := range doc.Fragments {
			if f.Name == name && spreads(f.SelectionSet, visit) {
				return true
			}
		}
		state[name] = visited
		return false
	}
	for _, f := range doc.Fragments {
		if visit(f.Name) {
			return true
		}
	}
	return false
}

// applies reports whether a fragment on condition adds fields to a
// selection of typ: no condition, typ itself, or an interface or union
// typ belongs to.
func applies(schema *ast.Schema, condition string, typ *ast.Definition) bool {
	if condition == "" || typ == nil || condition == typ.Name {
		return true
	}
	def := schema.Types[condition]
	if def == nil {
		return false
	}
	for _, t := range schema.GetPossibleTypes(def) {
		if t.Name == typ.Name {
			return true
		}
	}
	return false
}

// sameArguments compares arguments as written, in any order.
func sameArguments(a, b ast.ArgumentList) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		y := b.ForName(x.Name)
		if y == nil || x.Value.String() != y.Value.String() {
			return false
		}
	}
	return true
}
