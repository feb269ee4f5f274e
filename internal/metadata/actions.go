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
	Name          string               `yaml:"name"`
	Description   string               `yaml:"description"`
	Relationships []ActionRelationship `yaml:"relationships"`
}

// ActionRelationship joins an action's output object to a tracked table:
// each pair of FieldMapping is an output field equal to a column.
type ActionRelationship struct {
	Name         string            `yaml:"name"`
	Type         string            `yaml:"type"` // object or array
	RemoteTable  QualifiedTable    `yaml:"remote_table"`
	FieldMapping map[string]string `yaml:"field_mapping"`
	Source       string            `yaml:"source"`
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
		if d.Kind == "asynchronous" && !isObjectOutput(doc, ActionField(doc, root, act.Name).Type) {
			return bad("action %s: an asynchronous action's output type must be an object type (or a list of one)", act.Name)
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
		if err := checkRelationships(doc, o); err != nil {
			return bad("custom type %s: %s", o.Name, err)
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

// isObjectOutput reports whether typ is (a list of) an object type of doc.
func isObjectOutput(doc *ast.SchemaDocument, typ *ast.Type) bool {
	for typ.Elem != nil {
		typ = typ.Elem
	}
	def := doc.Definitions.ForName(typ.NamedType)
	return def != nil && def.Kind == ast.Object
}

// checkRelationships checks o's relationships against its type in doc: a
// name no field has, object or array, a remote table, and a mapping from
// fields of o of scalar types. The tables and columns are checked when the
// catalogue is read.
func checkRelationships(doc *ast.SchemaDocument, o CustomObject) error {
	if len(o.Relationships) == 0 {
		return nil
	}
	def := doc.Definitions.ForName(o.Name)
	if def == nil || def.Kind != ast.Object {
		return fmt.Errorf("actions.graphql has no object type %s for its relationships", o.Name)
	}
	seen := map[string]bool{}
	for _, r := range o.Relationships {
		switch {
		case r.Name == "" || seen[r.Name]:
			return fmt.Errorf("relationship %q is unnamed or given twice", r.Name)
		case def.Fields.ForName(r.Name) != nil:
			return fmt.Errorf("relationship %s has the name of a field of the type", r.Name)
		case r.Type != "object" && r.Type != "array":
			return fmt.Errorf("relationship %s: type %q is not object or array", r.Name, r.Type)
		case r.RemoteTable.Name == "":
			return fmt.Errorf("relationship %s has no remote_table", r.Name)
		case r.Source != "" && r.Source != "default":
			return fmt.Errorf("relationship %s: source %q is not served (only the default database is)", r.Name, r.Source)
		case len(r.FieldMapping) == 0:
			return fmt.Errorf("relationship %s has no field_mapping", r.Name)
		}
		seen[r.Name] = true
		for field := range r.FieldMapping {
			f := def.Fields.ForName(field)
			if f == nil {
				return fmt.Errorf("relationship %s: the type has no field %s", r.Name, field)
			}
			if f.Type.Elem != nil {
				return fmt.Errorf("relationship %s: field %s is a list, and cannot be mapped to a column", r.Name, field)
			}
			if named := doc.Definitions.ForName(f.Type.NamedType); named != nil && (named.Kind == ast.Object || named.Kind == ast.InputObject) {
				return fmt.Errorf("relationship %s: field %s is an object, and cannot be mapped to a column", r.Name, field)
			}
		}
	}
	return nil
}
