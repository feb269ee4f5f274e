package metadata

import "fmt"

// Function is a tracked SQL function (databases/<source>/functions/…), as
// `hasura metadata export` writes it.
type Function struct {
	Function      QualifiedTable        `yaml:"function"` // its schema and name
	Configuration FunctionConfiguration `yaml:"configuration"`
	Permissions   []FunctionPermission  `yaml:"permissions"`
	Comment       *string               `yaml:"comment"`
	// File names the file the function is tracked in, for messages.
	File string `yaml:"-"`
}

// FunctionConfiguration is how a function is served.
type FunctionConfiguration struct {
	CustomName       string `yaml:"custom_name"`
	CustomRootFields struct {
		Function          string `yaml:"function"`
		FunctionAggregate string `yaml:"function_aggregate"`
	} `yaml:"custom_root_fields"`
	// SessionArgument names the json argument that receives the caller's
	// session variables.
	SessionArgument string `yaml:"session_argument"`
	// ExposedAs is query or mutation; by default a VOLATILE function is a
	// mutation, others queries.
	ExposedAs string `yaml:"exposed_as"`
}

// FunctionPermission lets a role run a function.
type FunctionPermission struct {
	Role    string `yaml:"role"`
	Comment string `yaml:"comment"`
}

// functions reads the source's tracked functions, checking what needs no
// database: a name, each once, exposed_as, custom root fields that differ
// and each role once.
func (l *loader) functions(items []item) error {
	seen := map[QualifiedTable]string{}
	for _, item := range items {
		var f Function
		if err := l.decode(item.file, item.node, &f); err != nil {
			return err
		}
		f.File = l.path(item.file)
		bad := func(format string, args ...any) error {
			return &Error{File: f.File, Message: fmt.Sprintf(format, args...)}
		}
		if f.Function.Name == "" {
			return bad("the function has no name (function: {schema, name})")
		}
		if other, dup := seen[f.Function]; dup {
			return bad("function %s is tracked twice (also in %s)", f.Function, l.rel(other))
		}
		seen[f.Function] = f.File
		c := f.Configuration
		if c.ExposedAs != "" && c.ExposedAs != "query" && c.ExposedAs != "mutation" {
			return bad("function %s: exposed_as %q is not query or mutation", f.Function, c.ExposedAs)
		}
		if r := c.CustomRootFields; r.Function != "" && r.Function == r.FunctionAggregate {
			return bad("function %s: the following custom root field names are duplicated: %q and %q", f.Function, r.Function, r.FunctionAggregate)
		}
		roles := map[string]bool{}
		for _, p := range f.Permissions {
			if p.Role == "" || roles[p.Role] {
				return bad("function %s: permissions: role %q is missing or given twice", f.Function, p.Role)
			}
			roles[p.Role] = true
		}
		l.md.Functions = append(l.md.Functions, f)
	}
	return nil
}
