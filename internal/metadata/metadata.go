// Package metadata reads a Hasura project's metadata directory, in the
// layout `hasura metadata export` writes (metadata version 3): version.yaml,
// databases/databases.yaml whose sources !include their tables.yaml, which
// !includes one file per table, and the project-wide files beside them
// (api_limits.yaml, graphql_schema_introspection.yaml, …).
//
// Load reads all of it or nothing: a file that does not parse, or that holds
// a key freshgraph does not know, stops the load with its path and line.
// What it reads but freshgraph does not serve (remote schemas, actions,
// event triggers, computed fields, other sources, …) is listed in
// Metadata.NotServed, a line each, for the server to log.
package metadata

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Metadata is what a project's metadata directory declares.
type Metadata struct {
	// Source is the name of the database source served (DATABASE_URL).
	Source string
	// Tables are the source's tracked tables and views.
	Tables []Table
	// Functions are the source's tracked functions.
	Functions []Function
	// APILimits is api_limits.yaml, nil when there is none.
	APILimits *APILimits
	// IntrospectionDisabledFor are the roles that may not introspect
	// (graphql_schema_introspection.yaml).
	IntrospectionDisabledFor []string
	// CronTriggers are cron_triggers.yaml's.
	CronTriggers []CronTrigger
	// Actions are actions.yaml's and actions.graphql's, nil without them.
	Actions *Actions
	// AllowList reports whether allow_list.yaml names any collection.
	AllowList bool
	// NotServed names, a line each, what the metadata declares and
	// freshgraph does not serve.
	NotServed []string
}

// Error is a metadata file that cannot be used: its path (in the metadata
// directory) and, where known, the line and column at fault.
type Error struct {
	File         string
	Line, Column int
	Message      string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Message)
	}
	return e.File + ": " + e.Message
}

// Load reads the metadata directory dir.
func Load(dir string) (*Metadata, error) { return LoadFS(os.DirFS(dir), dir) }

// LoadFS reads a metadata directory from fsys; dir names it in messages.
func LoadFS(fsys fs.FS, dir string) (*Metadata, error) {
	l := &loader{fsys: fsys, dir: dir, md: &Metadata{}}
	if err := l.load(); err != nil {
		return nil, err
	}
	return l.md, nil
}

type loader struct {
	fsys fs.FS
	dir  string
	md   *Metadata
}

// projectFiles are the files a v3 export writes beside databases/ and
// version.yaml, with what each holds; those not read here are not served.
var projectFiles = map[string]string{
	"actions.yaml":                      "actions",
	"actions.graphql":                   "actions",
	"allow_list.yaml":                   "",
	"api_limits.yaml":                   "",
	"backend_configs.yaml":              "backend configurations",
	"cron_triggers.yaml":                "cron triggers",
	"graphql_schema_introspection.yaml": "",
	"inherited_roles.yaml":              "inherited roles",
	"metrics_config.yaml":               "metrics configuration",
	"network.yaml":                      "network options",
	"opentelemetry.yaml":                "OpenTelemetry configuration",
	"query_collections.yaml":            "query collections",
	"remote_schemas.yaml":               "remote schemas",
	"rest_endpoints.yaml":               "REST endpoints",
}

func (l *loader) load() error {
	var version struct {
		Version int `yaml:"version"`
	}
	if err := l.decodeFile("version.yaml", &version); err != nil {
		return err
	}
	if version.Version != 3 {
		return &Error{File: l.path("version.yaml"), Message: fmt.Sprintf(
			"metadata version %d is not supported: export it with a config v3 project (hasura scripts update-project-v3)", version.Version)}
	}
	if err := l.sources(); err != nil {
		return err
	}
	entries, err := fs.ReadDir(l.fsys, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		what, known := projectFiles[name]
		switch {
		case strings.HasPrefix(name, ".") || name == "version.yaml" || name == "databases":
		case !known:
			l.notServed("%s is not part of Hasura's metadata layout; it is ignored", name)
		case name == "api_limits.yaml":
			var limits APILimits
			if err := l.decodeFile(name, &limits); err != nil {
				return err
			}
			for _, entry := range []*Limit{limits.DepthLimit, limits.NodeLimit, limits.TimeLimit, limits.BatchLimit} {
				if entry == nil {
					continue
				}
				values := slices.Collect(maps.Values(entry.PerRole))
				if entry.Global != nil {
					values = append(values, *entry.Global)
				}
				if slices.ContainsFunc(values, func(v int) bool { return v <= 0 }) {
					return &Error{File: l.path(name), Message: "every limit must be a positive number"}
				}
			}
			if limits.RateLimit != nil && !limits.Disabled {
				l.notServed("api_limits.yaml: rate_limit is not served (freshgraph limits only sign-in and sign-up attempts)")
			}
			l.md.APILimits = &limits
		case name == "graphql_schema_introspection.yaml":
			var intro struct {
				DisabledForRoles []string `yaml:"disabled_for_roles"`
			}
			if err := l.decodeFile(name, &intro); err != nil {
				return err
			}
			l.md.IntrospectionDisabledFor = intro.DisabledForRoles
		case name == "actions.yaml":
			if err := l.actions(); err != nil {
				return err
			}
		case name == "actions.graphql": // read with actions.yaml
		case name == "cron_triggers.yaml":
			if err := l.cronTriggers(name); err != nil {
				return err
			}
		case name == "allow_list.yaml":
			var list []map[string]any
			if err := l.decodeFile(name, &list); err != nil {
				return err
			}
			l.md.AllowList = len(list) > 0
		default:
			empty, err := l.empty(name)
			if err != nil {
				return err
			}
			if !empty {
				l.notServed("%s: %s are not served", name, what)
			}
		}
	}
	return nil
}

// source is one entry of databases.yaml.
type source struct {
	Name             string         `yaml:"name"`
	Kind             string         `yaml:"kind"`
	Configuration    map[string]any `yaml:"configuration"`
	Tables           rawNode        `yaml:"tables"`
	Functions        rawNode        `yaml:"functions"`
	Customization    map[string]any `yaml:"customization"`
	HealthCheck      map[string]any `yaml:"health_check"`
	LogicalModels    []any          `yaml:"logical_models"`
	NativeQueries    []any          `yaml:"native_queries"`
	StoredProcedures []any          `yaml:"stored_procedures"`
}

// rawNode keeps a part of a file undecoded: an !include or a list.
type rawNode struct{ ast.Node }

func (r *rawNode) UnmarshalYAML(n ast.Node) error {
	r.Node = n
	return nil
}

// sources reads databases.yaml: the one PostgreSQL source freshgraph serves
// (the one named default, or the only one), with its tables.
func (l *loader) sources() error {
	const file = "databases/databases.yaml"
	var sources []source
	if err := l.decodeFile(file, &sources); err != nil {
		return err
	}
	served := -1
	for i, s := range sources {
		if s.Kind == "postgres" && (served < 0 || s.Name == "default") {
			served = i
		}
	}
	for i, s := range sources {
		if i != served {
			l.notServed("%s: source %q (%s) is not served: freshgraph serves one PostgreSQL database", file, s.Name, s.Kind)
		}
	}
	if served < 0 {
		return nil
	}
	s := sources[served]
	l.md.Source = s.Name
	if len(s.Customization) > 0 {
		l.notServed("%s: source %q: customization (root field namespace, prefixes, suffixes) is not served", file, s.Name)
	}
	for _, c := range []counted{{"logical models", len(s.LogicalModels)}, {"native queries", len(s.NativeQueries)},
		{"stored procedures", len(s.StoredProcedures)}} {
		if c.n > 0 {
			l.notServed("%s: source %q: %s are not served", file, s.Name, c.what)
		}
	}
	functions, err := l.list(file, s.Functions.Node)
	if err != nil {
		return err
	}
	if err := l.functions(functions); err != nil {
		return err
	}
	tables, err := l.list(file, s.Tables.Node)
	if err != nil {
		return err
	}
	seen := map[QualifiedTable]string{}
	triggers := map[string]string{}
	for _, item := range tables {
		var t Table
		if err := l.decode(item.file, item.node, &t); err != nil {
			return err
		}
		t.File = l.path(item.file)
		if t.Table.Name == "" {
			return &Error{File: t.File, Message: "the table has no name (table: {schema, name})"}
		}
		if other, dup := seen[t.Table]; dup {
			return &Error{File: t.File, Message: fmt.Sprintf("table %s is tracked twice (also in %s)", t.Table, other)}
		}
		seen[t.Table] = t.File
		if err := l.checkTable(&t, triggers); err != nil {
			return err
		}
		l.md.Tables = append(l.md.Tables, t)
	}
	return nil
}

// checkTable refuses what the decoder cannot: names given twice, and
// relationships that say neither or both ways of joining.
func (l *loader) checkTable(t *Table, triggers map[string]string) error {
	bad := func(format string, args ...any) error {
		return &Error{File: t.File, Message: fmt.Sprintf(format, args...)}
	}
	names := map[string]bool{}
	for _, r := range slices.Concat(t.ObjectRelationships, t.ArrayRelationships) {
		if r.Name == "" || names[r.Name] {
			return bad("relationship %q is unnamed or named twice", r.Name)
		}
		names[r.Name] = true
		if (r.Using.ForeignKeyConstraintOn == nil) == (r.Using.ManualConfiguration == nil) {
			return bad("relationship %q needs using.foreign_key_constraint_on or using.manual_configuration, not both", r.Name)
		}
	}
	for _, p := range []struct {
		kind  string
		roles []string
	}{
		{"select_permissions", rolesOf(t.SelectPermissions, func(p SelectPermission) string { return p.Role })},
		{"insert_permissions", rolesOf(t.InsertPermissions, func(p InsertPermission) string { return p.Role })},
		{"update_permissions", rolesOf(t.UpdatePermissions, func(p UpdatePermission) string { return p.Role })},
		{"delete_permissions", rolesOf(t.DeletePermissions, func(p DeletePermission) string { return p.Role })},
	} {
		seen := map[string]bool{}
		for _, role := range p.roles {
			if role == "" || seen[role] {
				return bad("%s: role %q is missing or given twice", p.kind, role)
			}
			seen[role] = true
		}
	}
	computed := map[string]bool{}
	for _, cf := range t.ComputedFields {
		if cf.Name == "" || computed[cf.Name] {
			return bad("computed field %q is unnamed or defined twice", cf.Name)
		}
		if cf.Definition.Function.Name == "" {
			return bad("computed field %q has no definition.function", cf.Name)
		}
		computed[cf.Name] = true
	}
	for _, p := range t.SelectPermissions {
		for _, name := range p.Permission.ComputedFields {
			if !computed[name] {
				return bad("select_permissions of role %s: computed field %q is not one of the table's", p.Role, name)
			}
		}
	}
	if err := checkEventTriggers(t, triggers, bad); err != nil {
		return err
	}
	for _, et := range t.EventTriggers {
		for _, c := range []counted{{"request_transform", len(et.RequestTransform)}, {"response_transform", len(et.ResponseTransform)},
			{"cleanup_config", len(et.CleanupConfig)}} {
			if c.n > 0 {
				l.notServed("%s: the %s of event trigger %s is not served", l.rel(t.File), c.what, et.Name)
			}
		}
	}
	for _, c := range []counted{{"remote relationships", len(t.RemoteRelationships)}} {
		if c.n > 0 {
			l.notServed("%s: the %s of %s are not served", l.rel(t.File), c.what, t.Table)
		}
	}
	if len(t.ApolloFederation) > 0 || t.LogicalModel != "" {
		l.notServed("%s: the Apollo federation and logical model settings of %s are not served", l.rel(t.File), t.Table)
	}
	return nil
}

// cronTriggers reads cron_triggers.yaml, whose entries may be !includes.
func (l *loader) cronTriggers(file string) error {
	n, err := l.parse(file)
	if err != nil || n == nil {
		return err
	}
	items, err := l.list(file, n)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, item := range items {
		var c CronTrigger
		if err := l.decode(item.file, item.node, &c); err != nil {
			return err
		}
		c.File = l.path(item.file)
		if err := checkCronTrigger(&c); err != nil {
			return l.errorAt(item.file, item.node, err.Error())
		}
		if seen[c.Name] {
			return l.errorAt(item.file, item.node, fmt.Sprintf("cron trigger %q is defined twice", c.Name))
		}
		seen[c.Name] = true
		for _, t := range []counted{{"request_transform", len(c.RequestTransform)}, {"response_transform", len(c.ResponseTransform)}} {
			if t.n > 0 {
				l.notServed("%s: the %s of cron trigger %s is not served", item.file, t.what, c.Name)
			}
		}
		l.md.CronTriggers = append(l.md.CronTriggers, c)
	}
	return nil
}

// counted is how many of what a file declares.
type counted struct {
	what string
	n    int
}

func rolesOf[P any](ps []P, role func(P) string) []string {
	roles := make([]string, len(ps))
	for i, p := range ps {
		roles[i] = role(p)
	}
	return roles
}

// item is one entry of a list, with the file it was written in.
type item struct {
	file string
	node ast.Node
}

// list resolves a list that may be an !include of a file holding it, and
// whose entries may each be an !include of a file holding the entry. An
// include's path is relative to the file that names it.
func (l *loader) list(file string, n ast.Node) ([]item, error) {
	if n == nil || n.Type() == ast.NullType {
		return nil, nil
	}
	if target, ok := include(n); ok {
		if file, ok = l.resolve(file, target); !ok {
			return nil, l.errorAt(file, n, "!include "+target+" leaves the metadata directory")
		}
		var err error
		if n, err = l.parse(file); err != nil || n == nil {
			return nil, err
		}
	}
	seq, ok := n.(*ast.SequenceNode)
	if !ok {
		return nil, l.errorAt(file, n, "expected a list, or \"!include file.yaml\"")
	}
	var items []item
	for _, v := range seq.Values {
		if target, ok := include(v); ok {
			entry, ok := l.resolve(file, target)
			if !ok {
				return nil, l.errorAt(file, v, "!include "+target+" leaves the metadata directory")
			}
			node, err := l.parse(entry)
			if err != nil {
				return nil, err
			}
			if node == nil {
				return nil, &Error{File: l.path(entry), Message: "the file is empty"}
			}
			items = append(items, item{file: entry, node: node})
			continue
		}
		items = append(items, item{file: file, node: v})
	}
	return items, nil
}

// resolve is the path of the file an !include of target in file names; it
// reports false if that is outside the directory, and then returns file.
func (l *loader) resolve(file, target string) (string, bool) {
	p := path.Join(path.Dir(file), target)
	if p == ".." || strings.HasPrefix(p, "../") || path.IsAbs(target) {
		return file, false
	}
	return p, true
}

// include reads a string "!include path", as the CLI writes it.
func include(n ast.Node) (string, bool) {
	s, ok := n.(*ast.StringNode)
	if !ok {
		return "", false
	}
	target, ok := strings.CutPrefix(strings.TrimSpace(s.Value), "!include ")
	return strings.TrimSpace(target), ok
}

// parse reads the file at rel (a slash path in the directory) and returns
// its document's body, nil for an empty file.
func (l *loader) parse(rel string) (ast.Node, error) {
	data, err := fs.ReadFile(l.fsys, rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &Error{File: l.path(rel), Message: "the file does not exist"}
	}
	if err != nil {
		return nil, err
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, l.wrap(rel, err)
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return nil, nil
	}
	if len(f.Docs) > 1 {
		return nil, &Error{File: l.path(rel), Message: "the file holds more than one YAML document"}
	}
	return f.Docs[0].Body, nil
}

// decodeFile decodes the file at rel into v; an empty file leaves v as it
// is, a missing one is an error (the optional files are read only when the
// directory lists them).
func (l *loader) decodeFile(rel string, v any) error {
	n, err := l.parse(rel)
	if err != nil || n == nil {
		return err
	}
	return l.decode(rel, n, v)
}

func (l *loader) decode(rel string, n ast.Node, v any) error {
	if err := strict(n, v); err != nil {
		if ne, ok := errors.AsType[*nodeError](err); ok {
			return l.errorAt(rel, ne.node, ne.msg)
		}
		var ye yaml.Error
		if errors.As(err, &ye) {
			return l.wrap(rel, err)
		}
		return l.errorAt(rel, n, err.Error())
	}
	return nil
}

// empty reports whether the file at rel declares nothing: no file, or only
// empty lists and maps, as an export writes for unused features.
func (l *loader) empty(rel string) (bool, error) {
	if strings.HasSuffix(rel, ".graphql") {
		data, err := fs.ReadFile(l.fsys, rel)
		return len(strings.TrimSpace(string(data))) == 0, err
	}
	n, err := l.parse(rel)
	if err != nil || n == nil {
		return n == nil, err
	}
	var v any
	if err := yaml.NodeToValue(n, &v); err != nil {
		return false, l.wrap(rel, err)
	}
	return holdsNothing(v), nil
}

func holdsNothing(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		for _, e := range v {
			if !holdsNothing(e) {
				return false
			}
		}
		return true
	}
	return false
}

func (l *loader) wrap(rel string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		pos := ye.GetToken().Position
		return &Error{File: l.path(rel), Line: pos.Line, Column: pos.Column, Message: ye.GetMessage()}
	}
	return &Error{File: l.path(rel), Message: err.Error()}
}

func (l *loader) errorAt(rel string, n ast.Node, message string) error {
	pos := n.GetToken().Position
	return &Error{File: l.path(rel), Line: pos.Line, Column: pos.Column, Message: message}
}

func (l *loader) path(rel string) string { return filepath.Join(l.dir, filepath.FromSlash(rel)) }

func (l *loader) rel(file string) string {
	r, err := filepath.Rel(l.dir, file)
	if err != nil {
		return file
	}
	return filepath.ToSlash(r)
}

func (l *loader) notServed(format string, args ...any) {
	l.md.NotServed = append(l.md.NotServed, fmt.Sprintf(format, args...))
}

// Over returns the tables of base and, over them, those of project: where
// project tracks a table base tracks too, project's version is the one
// kept. The rest of project's metadata comes with it.
func Over(base, project *Metadata) *Metadata {
	if project == nil {
		return base
	}
	out := *project
	out.Tables = nil
	tracked := map[QualifiedTable]bool{}
	for _, t := range project.Tables {
		tracked[t.Table] = true
	}
	for _, t := range base.Tables {
		if !tracked[t.Table] {
			out.Tables = append(out.Tables, t)
		}
	}
	out.Tables = append(out.Tables, project.Tables...)
	return &out
}
