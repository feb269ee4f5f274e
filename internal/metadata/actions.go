package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Actions are actions.yaml with the SDL of actions.graphql: custom queries
// and mutations answered by the app's HTTP handlers.
type Actions struct {
	Actions     []Action    `yaml:"actions"`
	CustomTypes CustomTypes `yaml:"custom_types"`
	// SDL is actions.graphql: the actions' fields (in type Query and type
	// Mutation) and their custom types; File names it in messages.
	SDL  *ast.SchemaDocument `yaml:"-"`
	File string              `yaml:"-"`
}

// Action is one of actions.yaml's actions.
type Action struct {
	Name        string             `yaml:"name"`
	Definition  ActionDefinition   `yaml:"definition"`
	Permissions []ActionPermission `yaml:"permissions"`
	Comment     string             `yaml:"comment"`
}

// ActionDefinition is how an action is answered.
type ActionDefinition struct {
	Kind                 string         `yaml:"kind"` // synchronous (default) or asynchronous
	Type                 string         `yaml:"type"` // mutation (default) or query
	Handler              string         `yaml:"handler"`
	ForwardClientHeaders bool           `yaml:"forward_client_headers"`
	Headers              []Header       `yaml:"headers"`
	Timeout              *int           `yaml:"timeout"` // seconds; Hasura's default is 30
	RequestTransform     map[string]any `yaml:"request_transform"`
	ResponseTransform    map[string]any `yaml:"response_transform"`
}

// ActionPermission lets a role run an action.
type ActionPermission struct {
	Role    string `yaml:"role"`
	Comment string `yaml:"comment"`
}

// CustomTypes are the names actions.yaml gives the custom types of
// actions.graphql, with the objects' relationships to tables.
type CustomTypes struct {
	Enums        []CustomType   `yaml:"enums"`
	InputObjects []CustomType   `yaml:"input_objects"`
	Objects      []CustomObject `yaml:"objects"`
	Scalars      []CustomType   `yaml:"scalars"`
}

// CustomType names a type of actions.graphql.
type CustomType struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
}

// CustomObject is an output object type, with its relationships.
type CustomObject struct {
	Name          string           `yaml:"name"`
	Description   string           `yaml:"description"`
	Relationships []map[string]any `yaml:"relationships"`
}

// actions reads actions.yaml and actions.graphql (both or neither) and
// checks that each action has its field in actions.graphql's type Query
// or type Mutation, as its definition's type says.
func (l *loader) actions() error {
	var a Actions
	if err := l.decodeFile("actions.yaml", &a); err != nil {
		return err
	}
	source, err := fs.ReadFile(l.fsys, "actions.graphql")
	if err != nil && len(a.Actions) > 0 {
		return &Error{File: l.path("actions.graphql"), Message: "actions.yaml names actions, and this file, which holds their fields and types, cannot be read"}
	}
	a.File = l.path("actions.graphql")
	doc, err := parser.ParseSchema(&ast.Source{Name: a.File, Input: string(source)})
	if err != nil {
		e := &Error{File: a.File, Message: err.Error()}
		if gqlErr, ok := errors.AsType[*gqlerror.Error](err); ok {
			e.Message = gqlErr.Message
			if len(gqlErr.Locations) > 0 {
				e.Line, e.Column = gqlErr.Locations[0].Line, gqlErr.Locations[0].Column
			}
		}
		return e
	}
	a.SDL = doc
	bad := func(format string, args ...any) error {
		return &Error{File: l.path("actions.yaml"), Message: fmt.Sprintf(format, args...)}
	}
	seen := map[string]bool{}
	for _, act := range a.Actions {
		if act.Name == "" || seen[act.Name] {
			return bad("action %q is unnamed or defined twice", act.Name)
		}
		seen[act.Name] = true
		d := act.Definition
		if d.Kind != "" && d.Kind != "synchronous" && d.Kind != "asynchronous" {
			return bad("action %s: kind %q is not synchronous or asynchronous", act.Name, d.Kind)
		}
		root := "Mutation"
		switch d.Type {
		case "", "mutation":
		case "query":
			root = "Query"
			if d.Kind == "asynchronous" {
				return bad("action %s: a query action cannot be asynchronous", act.Name)
			}
		default:
			return bad("action %s: type %q is not mutation or query", act.Name, d.Type)
		}
		if d.Handler == "" {
			return bad("action %s has no handler", act.Name)
		}
		if err := checkHeaders(d.Headers); err != nil {
			return bad("action %s: %s", act.Name, err)
		}
		if d.Timeout != nil && *d.Timeout <= 0 {
			return bad("action %s: timeout must be a positive number of seconds", act.Name)
		}
		if ActionField(doc, root, act.Name) == nil {
			return bad("action %s: actions.graphql has no field %s in type %s", act.Name, act.Name, root)
		}
		if d.Kind == "asynchronous" {
			l.notServed("actions.yaml: asynchronous action %s is not served (yet)", act.Name)
		}
		for _, c := range []counted{{"request_transform", len(d.RequestTransform)}, {"response_transform", len(d.ResponseTransform)}} {
			if c.n > 0 {
				l.notServed("actions.yaml: the %s of action %s is not served", c.what, act.Name)
			}
		}
		roles := map[string]bool{}
		for _, p := range act.Permissions {
			if p.Role == "" || roles[p.Role] {
				return bad("action %s: permissions: role %q is missing or given twice", act.Name, p.Role)
			}
			roles[p.Role] = true
		}
	}
	for _, o := range a.CustomTypes.Objects {
		if len(o.Relationships) > 0 {
			l.notServed("actions.yaml: the relationships of custom type %s are not served (yet)", o.Name)
		}
	}
	l.md.Actions = &a
	return nil
}

// ActionField is the field name of root ("Query" or "Mutation") in doc,
// declared by a type or an extension of it.
func ActionField(doc *ast.SchemaDocument, root, name string) *ast.FieldDefinition {
	for _, def := range slices.Concat(doc.Definitions, doc.Extensions) {
		if def.Name != root {
			continue
		}
		if f := def.Fields.ForName(name); f != nil {
			return f
		}
	}
	return nil
}
