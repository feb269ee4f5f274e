package hasura

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// This file words a document's faults as Hasura's own GraphQL parser does
// (hasura/graphql-engine server/src-lib/Hasura/GraphQL/Parser/…): one place
// that turns gqlparser's findings into Hasura's message and code, with the
// path built from the operation's AST. The texts' sources are named beside
// the cases of testdata/hasura.

// ParseError is Hasura's answer to a document that does not parse.
func ParseError(error) *Error {
	return &Error{Code: CodeValidationFailed, Message: "not a valid graphql query", Path: "$.query"}
}

// ChooseOperation picks the operation of doc that a request runs, as Hasura
// does (Hasura.GraphQL.Execute getSingleOperation).
func ChooseOperation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *Error) {
	if name != "" {
		if slices.ContainsFunc(doc.Operations, func(op *ast.OperationDefinition) bool { return op.Name == "" }) {
			return nil, &Error{Code: CodeValidationFailed, Message: "operationName cannot be used when an anonymous operation exists in the document"}
		}
		for _, op := range doc.Operations {
			if op.Name == name {
				return op, nil
			}
		}
		return nil, &Error{Code: CodeValidationFailed, Message: fmt.Sprintf("no such operation found in the document: %q", name)}
	}
	if len(doc.Operations) != 1 {
		return nil, &Error{Code: CodeValidationFailed, Message: "exactly one operation has to be present in the document when operationName is not specified"}
	}
	return doc.Operations[0], nil
}

// ValidationError is Hasura's error for the finding ge of the rules
// (Rules) about doc: its message as the rule wrote it, its path from the
// operation's AST at the finding's location, as the rule asks.
func ValidationError(doc *ast.QueryDocument, ge *gqlerror.Error) *Error {
	e := &Error{Code: CodeValidationFailed, Message: ge.Message, Path: "$"}
	s := site{path: "$"}
	if len(ge.Locations) > 0 {
		s = locate(doc, ge.Locations[0])
		e.Path = s.path
	}
	if f, ok := ge.Extensions[extPath].(func(site) string); ok {
		e.Path = f(s)
	}
	if c, ok := ge.Extensions[extCode].(Code); ok {
		e.Code = c
	}
	return e
}

// First is the finding Hasura would report of errs: its parser stops at
// the first fault, going through the document from the top, after the
// faults of the document as a whole (fragments, variables), which have no
// location of their own here.
func First(errs gqlerror.List) *gqlerror.Error {
	var first *gqlerror.Error
	for _, e := range errs {
		if len(e.Locations) == 0 {
			return e
		}
		if first == nil || before(e.Locations[0], first.Locations[0]) {
			first = e
		}
	}
	return first
}

func before(a, b gqlerror.Location) bool {
	return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
}

// site is what a finding points at in the operation, and Hasura's path to
// it: $.selectionSet.<field>…, .args.<argument>, then .<input field> and
// [<index>] into the argument's value; a directive's is its selection
// set's, then its name. Fragments are inlined, as Hasura inlines them, so
// a field inside one has the path of where it is spread. selectionSet is
// the path of the selection set the site is in.
type site struct {
	path, selectionSet string
}

func at(pos *ast.Position, loc gqlerror.Location) bool {
	return pos != nil && pos.Line == loc.Line && pos.Column == loc.Column
}

// locate finds what starts at loc in doc's operation: "$" if nothing does.
func locate(doc *ast.QueryDocument, loc gqlerror.Location) site {
	var found site
	var walkValue func(v *ast.Value, path string) bool
	walkValue = func(v *ast.Value, path string) bool {
		if v == nil {
			return false
		}
		if at(v.Position, loc) {
			found = site{path: path}
			return true
		}
		for i, child := range v.Children {
			p := path + "." + child.Name
			if v.Kind == ast.ListValue {
				p = fmt.Sprintf("%s[%d]", path, i)
			}
			if v.Kind == ast.ObjectValue && at(child.Position, loc) || walkValue(child.Value, p) {
				if found.path == "" {
					found = site{path: p}
				}
				return true
			}
		}
		return false
	}
	directive := func(list ast.DirectiveList, set string) bool {
		for _, d := range list {
			path := set + "." + d.Name
			if at(d.Position, loc) {
				found = site{path: path, selectionSet: set}
				return true
			}
			for _, a := range d.Arguments {
				if walkValue(a.Value, path+".args."+a.Name) {
					found.selectionSet = set
					return true
				}
			}
		}
		return false
	}
	inFragment := map[string]bool{}
	var walk func(set ast.SelectionSet, prefix string) bool
	walk = func(set ast.SelectionSet, prefix string) bool {
		setPath := prefix + ".selectionSet"
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				path := setPath + "." + sel.Name
				if at(sel.Position, loc) {
					found = site{path: path, selectionSet: setPath}
					return true
				}
				if directive(sel.Directives, setPath) {
					return true
				}
				for _, a := range sel.Arguments {
					if walkValue(a.Value, path+".args."+a.Name) {
						found.selectionSet = setPath
						return true
					}
				}
				if walk(sel.SelectionSet, path) {
					return true
				}
			case *ast.InlineFragment:
				if at(sel.Position, loc) {
					found = site{path: setPath, selectionSet: setPath}
					return true
				}
				if directive(sel.Directives, setPath) || walk(sel.SelectionSet, prefix) {
					return true
				}
			case *ast.FragmentSpread:
				if at(sel.Position, loc) {
					found = site{path: setPath, selectionSet: setPath}
					return true
				}
				if directive(sel.Directives, setPath) || inFragment[sel.Name] {
					continue // a cycle is reported by its own rule
				}
				inFragment[sel.Name] = true
				for _, f := range doc.Fragments {
					if f.Name == sel.Name && (directive(f.Directives, setPath) || walk(f.SelectionSet, prefix)) {
						return true
					}
				}
				inFragment[sel.Name] = false
			}
		}
		return false
	}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			if at(v.Position, loc) || walkValue(v.DefaultValue, "$") {
				return site{path: "$", selectionSet: "$"}
			}
		}
		if directive(op.Directives, "$") {
			found.path = "$" // an operation's directives are the operation's
			return found
		}
		if walk(op.SelectionSet, "$") {
			return found
		}
	}
	return site{path: "$", selectionSet: "$"}
}

// VariableError is Hasura's error for a fault ge of a variable's value, as
// gqlparser's VariableValues finds it (its path: variable.<name>, then the
// fields and indexes into the value) in the one operation of doc, whose
// types are schema's (Resolve.hs for the variable as a whole; beyond, the
// parser of the place the variable is used, with that place's path).
func VariableError(schema *ast.Schema, doc *ast.QueryDocument, ge *gqlerror.Error) *Error {
	e := &Error{Code: CodeValidationFailed, Message: ge.Message, Path: "$"}
	if len(ge.Path) < 2 || len(doc.Operations) != 1 {
		return e
	}
	name, _ := ge.Path[1].(ast.PathName)
	def := doc.Operations[0].VariableDefinitions.ForName(string(name))
	if def == nil {
		return e
	}
	if len(ge.Path) == 2 {
		switch ge.Message {
		case "must be defined":
			e.Message = fmt.Sprintf("expecting a value for non-nullable variable: %q", def.Variable)
			return e
		case "cannot be null":
			e.Message = fmt.Sprintf("null value found for non-nullable type: %q", def.Type.String())
			return e
		}
	}
	// The place of the first use, and the type there, step by step.
	e.Path = usePath(doc, def.Variable)
	typ, parent := def.Type, (*ast.Definition)(nil)
	var last string
	for _, step := range ge.Path[2:] {
		switch step := step.(type) {
		case ast.PathIndex:
			e.Path += fmt.Sprintf("[%d]", step)
			if typ.Elem != nil {
				typ = typ.Elem
			}
		case ast.PathName:
			e.Path += "." + string(step)
			last = string(step)
			parent = schema.Types[typ.Name()]
			if parent == nil {
				return e
			}
			f := parent.Fields.ForName(last)
			if f == nil {
				e.Message = fmt.Sprintf("field '%s' not found in type: '%s'", last, parent.Name)
				return e
			}
			typ = f.Type
		}
	}
	if typ.Elem != nil && ge.Message != "cannot be null" {
		typ = typ.Elem // a single value stands for a list of one
	}
	here := schema.Types[typ.Name()]
	if here == nil {
		return e
	}
	switch msg := ge.Message; {
	case msg == "must be defined" && last != "":
		e.Message = fmt.Sprintf("missing required field '%s'", last)
	case msg == "cannot be null":
		e.Message = fmt.Sprintf("unexpected null value for type '%s'", here.Name)
	case strings.HasPrefix(msg, "cannot use value "):
		e.Code = CodeParseFailed
		e.Message = fmt.Sprintf("The value %s lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?", strings.Fields(msg)[3])
	case strings.HasPrefix(msg, "cannot use ") || strings.HasPrefix(msg, "must be a ") || msg == "enums must be ints or strings":
		words := strings.Fields(msg)
		kind := words[len(words)-1]
		if strings.HasPrefix(msg, "cannot use ") {
			kind = words[2]
		}
		e.Message = TypeMismatch(expectation(here), here.Name, jsonKind(kind))
	case strings.Contains(msg, " is not a valid "):
		found, _, _ := strings.Cut(msg, " is not a valid ")
		e.Message = NotInEnum(enumValues(here), here.Name, found)
	}
	return e
}

// jsonKind describes a JSON value by the kind Go decoded it into, as
// Hasura describes JSON values.
func jsonKind(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map":
		return "an object"
	case "slice":
		return "a list"
	case "invalid":
		return "null"
	}
	return "a number"
}

// usePath is the path of the first place doc's operation uses variable.
func usePath(doc *ast.QueryDocument, variable string) string {
	var pos *ast.Position
	eachValue(doc, func(v *ast.Value) bool {
		if v.Kind == ast.Variable && v.Raw == variable {
			pos = v.Position
			return false
		}
		return true
	})
	if pos == nil {
		return "$"
	}
	return locate(doc, gqlerror.Location{Line: pos.Line, Column: pos.Column}).path
}

// UsedVariables are the variables doc's operations use, in arguments and
// directives, their fragments' included.
func UsedVariables(doc *ast.QueryDocument) map[string]bool {
	used := map[string]bool{}
	eachValue(doc, func(v *ast.Value) bool {
		if v.Kind == ast.Variable {
			used[v.Raw] = true
		}
		return true
	})
	return used
}

// eachValue calls visit on every value of doc's operations — arguments and
// directives, nested values, the fragments they spread (once each) — in
// document order, until visit returns false.
func eachValue(doc *ast.QueryDocument, visit func(v *ast.Value) bool) {
	stopped := false
	var inValue func(v *ast.Value)
	inValue = func(v *ast.Value) {
		if v == nil || stopped {
			return
		}
		if !visit(v) {
			stopped = true
			return
		}
		for _, c := range v.Children {
			inValue(c.Value)
		}
	}
	inDirectives := func(list ast.DirectiveList) {
		for _, d := range list {
			for _, a := range d.Arguments {
				inValue(a.Value)
			}
		}
	}
	seen := map[string]bool{}
	var inSet func(set ast.SelectionSet)
	inSet = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				for _, a := range sel.Arguments {
					inValue(a.Value)
				}
				inDirectives(sel.Directives)
				inSet(sel.SelectionSet)
			case *ast.InlineFragment:
				inDirectives(sel.Directives)
				inSet(sel.SelectionSet)
			case *ast.FragmentSpread:
				inDirectives(sel.Directives)
				if seen[sel.Name] {
					continue
				}
				seen[sel.Name] = true
				for _, f := range doc.Fragments {
					if f.Name == sel.Name {
						inDirectives(f.Directives)
						inSet(f.SelectionSet)
					}
				}
			}
		}
	}
	for _, op := range doc.Operations {
		inDirectives(op.Directives)
		inSet(op.SelectionSet)
	}
}

// IntegralInts rewrites in vars, the values of doc's one operation's
// variables, each number in a place of type Int as Hasura's Int reads it
// (Internal/Scalars.hs, and a column's, SQL/Value.hs): a number that is an
// integer however written (1e3, 42.0) as that integer, which the GraphQL
// executor's coercion would refuse; a number that is not an integer in 32
// bits is refused in Hasura's words, at the place the variable is used.
func IntegralInts(schema *ast.Schema, doc *ast.QueryDocument, vars map[string]any) *Error {
	if len(doc.Operations) != 1 {
		return nil
	}
	var walk func(v any, typ *ast.Type, path string) (any, *Error)
	walk = func(v any, typ *ast.Type, path string) (any, *Error) {
		if typ.Elem != nil {
			items, ok := v.([]any)
			if !ok {
				return walk(v, typ.Elem, path) // a single value stands for a list of one
			}
			for i, item := range items {
				var err *Error
				if items[i], err = walk(item, typ.Elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return nil, err
				}
			}
			return items, nil
		}
		switch x := v.(type) {
		case json.Number:
			if typ.NamedType != "Int" {
				return v, nil
			}
			n, ok := Integral(string(x), 32)
			if !ok {
				return nil, &Error{Code: CodeParseFailed, Path: path,
					Message: fmt.Sprintf("The value %s lies outside the bounds or is not an integer. Maybe it is a float, or is there integer overflow?", Scientific(string(x)))}
			}
			return json.Number(n), nil
		case map[string]any:
			def := schema.Types[typ.NamedType]
			if def == nil || def.Kind != ast.InputObject {
				return v, nil
			}
			for k, field := range x {
				f := def.Fields.ForName(k)
				if f == nil {
					continue // the executor's coercion refuses it
				}
				var err *Error
				if x[k], err = walk(field, f.Type, path+"."+k); err != nil {
					return nil, err
				}
			}
		}
		return v, nil
	}
	for _, def := range doc.Operations[0].VariableDefinitions {
		v, ok := vars[def.Variable]
		if !ok {
			continue
		}
		var err *Error
		if vars[def.Variable], err = walk(v, def.Type, usePath(doc, def.Variable)); err != nil {
			return err
		}
	}
	return nil
}
