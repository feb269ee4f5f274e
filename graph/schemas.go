package graph

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"go.opentelemetry.io/otel/trace"

	"github.com/freshgraph/freshgraph/internal/actions"
	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/authjs"
	"github.com/freshgraph/freshgraph/internal/database"
	"github.com/freshgraph/freshgraph/internal/engine"
	"github.com/freshgraph/freshgraph/internal/events"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
	"github.com/freshgraph/freshgraph/internal/sqlbuild"
	"github.com/freshgraph/freshgraph/internal/tables"
	"github.com/freshgraph/freshgraph/internal/tracing"
)

//go:embed live.graphqls
var liveSDL string

// Schemas are the schema of every role and the executor that answers it:
// Hasura's generated API as the role's permissions make it, and, for the
// roles that sign in, the hand-written part (schema.graphqls). Validation
// and introspection see only the role's own schema, input types included.
type Schemas struct {
	byRole map[string]*roleSchema
	// other serves the roles the metadata does not name: no table at all.
	other *roleSchema
	// original is the session API's name of each root field it serves
	// under another (Options.Renames).
	original map[string]string
}

// A Part is a hand-written part of the API beside Hasura's generated one:
// an SDL that extends query_root and mutation_root, and the executable
// schema gqlgen generates from it, whose Go resolvers answer its fields
// (like a Hasura Action, in-process). The session API (schema.graphqls,
// answered by graph's own resolvers) is one; another is made the same way —
// its SDL, a gqlgen.yml, go generate, resolvers — and served by passing it
// to NewSchemas. Its fields are the session roles', checked, validated and
// introspected with the rest of each role's schema.
type Part struct {
	Name string // the SDL's source name, e.g. "schema.graphqls"
	SDL  string
	// New returns the part's executable schema over a role's whole schema:
	// gqlgen's NewExecutableSchema(Config{Resolvers: …, Schema: schema}).
	New func(schema *ast.Schema) graphql.ExecutableSchema
}

// Options are what NewSchemas makes the schemas of.
type Options struct {
	// HandWritten is schema.graphqls, the session API.
	HandWritten string
	// Unauthorized is the role of callers without credentials, which has
	// the session API (to sign in) as admin and user do.
	Unauthorized auth.Role
	// Renames serves root fields of the session API under other names, by
	// name (e.g. "session": "freshgraph_session"), for a project whose
	// tracked table has a root field of that name.
	Renames map[string]string
	// Configure sets up each role's executor (extensions, caches, error
	// presenter).
	Configure func(*executor.Executor)
	// Parts are hand-written parts served beside the session API.
	Parts []Part
}

// NewSchemas makes the schema of every role of r.Tables. A root field of a
// hand-written part that has the name of a table's root field stops it,
// naming both.
func NewSchemas(r *Resolver, cfg Options) (*Schemas, error) {
	handWritten, live, original, err := renamed(cfg.HandWritten, liveSDL, cfg.Renames)
	if err != nil {
		return nil, err
	}
	parts := append([]Part{{Name: "schema.graphqls", SDL: handWritten, New: func(schema *ast.Schema) graphql.ExecutableSchema {
		return NewExecutableSchema(Config{Resolvers: r, Schema: schema})
	}}}, cfg.Parts...)
	// The admin's view has every table's root fields.
	for _, p := range parts {
		if err := distinctRootFields(r.Tables.View(string(auth.RoleAdmin), true), p); err != nil {
			return nil, err
		}
	}
	s := &Schemas{byRole: map[string]*roleSchema{}, original: original}
	sessionRoles := []auth.Role{auth.RoleAdmin, auth.RoleUser, cfg.Unauthorized}
	roles := slices.Clone(r.Tables.Roles)
	for _, role := range sessionRoles {
		if !slices.Contains(roles, string(role)) {
			roles = append(roles, string(role))
		}
	}
	build := func(v *tables.View) (*roleSchema, error) {
		rs, err := newRoleSchema(r, v, parts, live, cfg.Configure)
		if rs != nil {
			rs.original = original
		}
		return rs, err
	}
	for _, role := range roles {
		rs, err := build(r.Tables.View(role, slices.Contains(sessionRoles, auth.Role(role))))
		if err != nil {
			return nil, fmt.Errorf("the schema of role %s: %w", role, err)
		}
		s.byRole[role] = rs
	}
	if s.other, err = build(r.Tables.View("", false)); err != nil {
		return nil, err
	}
	return s, nil
}

// renamed is the session API's SDLs (schema.graphqls, graph/live.graphqls)
// with the root fields renames names served under their new names, and the
// original name of each renamed field by its new one.
func renamed(handWritten, live string, renames map[string]string) (string, string, map[string]string, error) {
	if len(renames) == 0 {
		return handWritten, live, nil, nil
	}
	original := map[string]string{}
	for _, from := range slices.Sorted(maps.Keys(renames)) {
		to := renames[from]
		if !nameRE.MatchString(to) || strings.HasPrefix(to, "__") {
			return "", "", nil, fmt.Errorf("SESSION_API_ROOT_FIELDS: %q is not a GraphQL name for %s", to, from)
		}
		if other, taken := original[to]; taken {
			return "", "", nil, fmt.Errorf("SESSION_API_ROOT_FIELDS: %s and %s are both renamed %s", other, from, to)
		}
		original[to] = from
	}
	found := map[string]bool{}
	rename := func(name, sdl string) (string, error) {
		doc, err := parser.ParseSchema(&ast.Source{Name: name, Input: sdl})
		if err != nil {
			return "", err
		}
		for _, def := range append(doc.Definitions, doc.Extensions...) {
			if def.Name != "query_root" && def.Name != "mutation_root" && def.Name != "subscription_root" {
				continue
			}
			for _, f := range def.Fields {
				if to, ok := renames[f.Name]; ok {
					found[f.Name] = true
					f.Name = to
				}
			}
		}
		var out strings.Builder
		formatter.NewFormatter(&out).FormatSchemaDocument(doc)
		return out.String(), nil
	}
	var err error
	if handWritten, err = rename("schema.graphqls", handWritten); err != nil {
		return "", "", nil, err
	}
	if live, err = rename("graph/live.graphqls", live); err != nil {
		return "", "", nil, err
	}
	for _, from := range slices.Sorted(maps.Keys(renames)) {
		if !found[from] {
			return "", "", nil, fmt.Errorf("SESSION_API_ROOT_FIELDS: the session API has no root field %s", from)
		}
	}
	return handWritten, live, original, nil
}

var nameRE = regexp.MustCompile(`^[_A-Za-z][_0-9A-Za-z]*$`)

// Original is the session API's own name of the root field served as name
// (SESSION_API_ROOT_FIELDS): name itself when it is not renamed.
func (s *Schemas) Original(name string) string { return originalName(s.original, name) }

func originalName(original map[string]string, name string) string {
	if o, ok := original[name]; ok {
		return o
	}
	return name
}

// Executor returns the executor of role's schema.
func (s *Schemas) Executor(role auth.Role) *executor.Executor { return s.of(role).exec }

// View returns what role sees of the tables.
func (s *Schemas) View(role auth.Role) *tables.View { return s.of(role).view }

// Schema returns role's schema.
func (s *Schemas) Schema(role auth.Role) *ast.Schema { return s.of(role).schema }

func (s *Schemas) of(role auth.Role) *roleSchema {
	if rs, ok := s.byRole[string(role)]; ok {
		return rs
	}
	return s.other
}

// roleSchema is one role's graphql.ExecutableSchema. It answers the table
// root fields through the engine and hands the others — the hand-written
// fields and introspection — to gqlgen's generated code of the part that
// declares them, which it gives the role's schema.
type roleSchema struct {
	r      *Resolver
	view   *tables.View
	schema *ast.Schema
	// generated is the session API's generated code, which also answers
	// introspection; parts, by "root type.field", the code of each
	// hand-written root field.
	generated graphql.ExecutableSchema
	parts     map[string]graphql.ExecutableSchema
	exec      *executor.Executor
	plans     *plans
	// original: as Schemas.original.
	original map[string]string
}

func newRoleSchema(r *Resolver, v *tables.View, parts []Part, live string, configure func(*executor.Executor)) (*roleSchema, error) {
	generatedSDL := tables.WriteSDL(v)
	sources := []*ast.Source{{Name: hasura.GeneratedSource + " (role " + v.Role + ")", Input: generatedSDL}}
	if r.Actions != nil {
		if sdl := r.Actions.SDL(v, typeNames(generatedSDL)); sdl != "" {
			sources = append(sources, &ast.Source{Name: "actions.graphql", Input: sdl})
		}
	}
	if v.Session {
		for _, p := range parts {
			sources = append(sources, &ast.Source{Name: p.Name, Input: p.SDL})
		}
		sources = append(sources, &ast.Source{Name: "graph/live.graphqls", Input: live})
	}
	schema, gqlErr := gqlparser.LoadSchema(sources...)
	if gqlErr != nil {
		return nil, gqlErr
	}
	prune(schema)
	handWrittenFirst(schema, parts)
	rs := &roleSchema{r: r, view: v, schema: schema, parts: map[string]graphql.ExecutableSchema{}, plans: newPlans(planDocuments)}
	for i, p := range parts {
		exec := p.New(schema)
		if i == 0 {
			rs.generated = exec
		}
		for _, root := range []*ast.Definition{schema.Query, schema.Mutation} {
			if root == nil {
				continue
			}
			for _, f := range root.Fields {
				if sourceOf(f) == p.Name {
					rs.parts[root.Name+"."+f.Name] = exec
				}
			}
		}
	}
	rs.exec = executor.New(rs)
	configure(rs.exec)
	return rs, nil
}

// typeNames reports whether a type is defined in the SDL sdl (where an
// action's custom scalar, such as uuid, may already be).
func typeNames(sdl string) func(string) bool {
	doc, err := parser.ParseSchema(&ast.Source{Input: sdl})
	names := map[string]bool{}
	if err == nil {
		for _, def := range doc.Definitions {
			names[def.Name] = true
		}
	}
	return func(name string) bool { return names[name] }
}

// distinctRootFields refuses a root field of the part p that has the name
// of one of v's tables' root fields, naming both and how to rename one.
func distinctRootFields(v *tables.View, p Part) error {
	doc, err := parser.ParseSchema(&ast.Source{Name: p.Name, Input: p.SDL})
	if err != nil {
		return err
	}
	for _, def := range append(doc.Definitions, doc.Extensions...) {
		if def.Name != "query_root" && def.Name != "mutation_root" {
			continue
		}
		for _, f := range def.Fields {
			rf, ok := v.RootField(f.Name)
			if !ok {
				continue
			}
			how := "rename it in " + p.Name
			if p.Name == "schema.graphqls" {
				how = "serve the session API's under another name with SESSION_API_ROOT_FIELDS=" + f.Name + ":<name>"
			}
			return fmt.Errorf("the root field %s of %s has the name of a root field of table %s.%s: %s, or give the table's another with custom_root_fields in its metadata",
				f.Name, p.Name, rf.Table.SQL.Schema, rf.Table.SQL.Table, how)
		}
	}
	return nil
}

// part is the generated code that answers the hand-written root field
// name of rootType: its part's, or the session API's (introspection).
func (s *roleSchema) part(rootType, name string) graphql.ExecutableSchema {
	if exec, ok := s.parts[rootType+"."+name]; ok {
		return exec
	}
	return s.generated
}

func sourceOf(f *ast.FieldDefinition) string {
	if f.Position == nil || f.Position.Src == nil {
		return ""
	}
	return f.Position.Src.Name
}

// prune drops the placeholder field of empty root types (and those types),
// and the types no root field reaches, as Hasura's schemas have none.
func prune(s *ast.Schema) {
	for _, root := range []**ast.Definition{&s.Mutation, &s.Subscription, &s.Query} {
		def := *root
		if def == nil {
			continue
		}
		def.Fields = slices.DeleteFunc(def.Fields, func(f *ast.FieldDefinition) bool { return f.Name == "_empty" })
		if len(def.Fields) == 0 && def != s.Query {
			delete(s.Types, def.Name)
			*root = nil
		}
	}
	reach := map[string]bool{}
	var visit func(name string)
	visit = func(name string) {
		def := s.Types[name]
		if def == nil || reach[name] {
			return
		}
		reach[name] = true
		for _, f := range def.Fields {
			visit(f.Type.Name())
			for _, a := range f.Arguments {
				visit(a.Type.Name())
			}
		}
	}
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root != nil {
			visit(root.Name)
		}
	}
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") || def.BuiltIn && def.Kind == ast.Scalar {
			visit(name)
		}
	}
	for name := range s.Types {
		if !reach[name] {
			delete(s.Types, name)
			delete(s.PossibleTypes, name)
		}
	}
}

// handWrittenFirst lists the hand-written root fields before the generated
// ones, as the schema's own document does.
func handWrittenFirst(s *ast.Schema, parts []Part) {
	handWritten := func(f *ast.FieldDefinition) int {
		if slices.ContainsFunc(parts, func(p Part) bool { return p.Name == sourceOf(f) }) {
			return 1
		}
		return 0
	}
	for _, root := range []*ast.Definition{s.Query, s.Mutation, s.Subscription} {
		if root == nil {
			continue
		}
		slices.SortStableFunc(root.Fields, func(a, b *ast.FieldDefinition) int {
			return handWritten(b) - handWritten(a)
		})
	}
}

// Schema is the role's schema.
func (s *roleSchema) Schema() *ast.Schema { return s.schema }

// Complexity is the generated code's, for the hand-written fields.
func (s *roleSchema) Complexity(ctx context.Context, typeName, field string, childComplexity int, args map[string]any) (int, bool) {
	return s.part(typeName, field).Complexity(ctx, typeName, field, childComplexity, args)
}

type viewKey struct{}

// viewFrom is the view of the role whose schema runs the operation.
func viewFrom(ctx context.Context) *tables.View {
	v, _ := ctx.Value(viewKey{}).(*tables.View)
	return v
}

// Exec answers the operation once.
func (s *roleSchema) Exec(ctx context.Context) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	done := false
	return func(ctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		done = true
		ctx = context.WithValue(ctx, viewKey{}, s.view)
		resp := s.run(ctx, op)
		if p := pendingFrom(ctx); p != nil && len(graphql.GetErrors(ctx)) == 0 {
			s.learn(ctx, p, op, graphql.CollectFields(op, op.Operation.SelectionSet, []string{rootTypeName(op.Operation.Operation)}))
		}
		return resp
	}
}

// planDocuments bounds the documents each role's plans are kept for.
const planDocuments = 1000

// run answers the root fields in order. Each answer is JSON, written to the
// response as it is. A mutation that takes more than one statement runs in
// one transaction, committed only if every field succeeded, as Hasura runs
// several mutation fields; so does every mutation of a project with event
// triggers, which first leaves the caller's session variables for them.
func (s *roleSchema) run(ctx context.Context, op *graphql.OperationContext) *graphql.Response {
	rootType := rootTypeName(op.Operation.Operation)
	if op.Operation.Operation == ast.Subscription {
		graphql.AddError(ctx, gqlerror.Errorf("subscriptions are served over a WebSocket"))
		return &graphql.Response{}
	}
	fields := graphql.CollectFields(op, op.Operation.SelectionSet, []string{rootType})
	if op.Operation.Operation == ast.Mutation && (s.needsTransaction(fields) || s.r.EventSessions) {
		tx, err := s.r.DB.Begin(ctx)
		if err != nil {
			graphql.AddError(ctx, err)
			return &graphql.Response{}
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if s.r.EventSessions {
			if err := events.SetSessionVariables(ctx, tx, auth.CallerFrom(ctx)); err != nil {
				graphql.AddError(ctx, err)
				return &graphql.Response{}
			}
		}
		resp := s.answer(database.WithTx(ctx, tx), op, rootType, fields)
		if len(graphql.GetErrors(ctx)) > 0 {
			return resp
		}
		if err := tx.Commit(ctx); err != nil {
			graphql.AddError(ctx, err)
			return &graphql.Response{}
		}
		s.wakeActions(fields)
		return resp
	}
	resp := s.answer(ctx, op, rootType, fields)
	if op.Operation.Operation == ast.Mutation {
		s.wakeActions(fields)
	}
	return resp
}

// wakeActions has the deliverer take the asynchronous actions' calls the
// mutation's fields wrote, now that they are committed.
func (s *roleSchema) wakeActions(fields []graphql.CollectedField) {
	if s.r.Actions.Enqueues(fields) {
		s.r.Actions.Wake()
	}
}

func (s *roleSchema) answer(ctx context.Context, op *graphql.OperationContext, rootType string, fields []graphql.CollectedField) *graphql.Response {
	if whole, ok := s.onePart(rootType, fields); ok {
		// Only one part's generated fields (the session API, introspection):
		// its code answers the operation whole, as gqlgen does.
		if len(fields) == 1 {
			var span trace.Span
			ctx, span = s.r.Tracer.StartRootField(ctx, string(op.Operation.Operation), fields[0].Alias)
			defer span.End()
		}
		resp := whole.Exec(ctx)(ctx)
		if resp != nil {
			if err := limits.Spend(ctx, len(resp.Data)); err != nil {
				graphql.AddError(ctx, err)
				return &graphql.Response{Data: []byte("null")}
			}
		}
		return resp
	}
	var out bytes.Buffer
	out.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			out.WriteByte(',')
		}
		out.WriteString(strconv.Quote(f.Alias))
		out.WriteByte(':')
		fieldCtx, span := s.r.Tracer.StartRootField(ctx, string(op.Operation.Operation), f.Alias)
		value, ok := s.field(fieldCtx, op, rootType, f)
		tracing.EndRootField(span, !ok)
		if !ok {
			// A root field that failed is null, and so, when its type is
			// non-null, is the whole answer.
			if def := s.schema.Types[rootType].Fields.ForName(f.Name); def != nil && def.Type.NonNull {
				return &graphql.Response{Data: []byte("null")}
			}
			value = []byte("null")
		}
		out.Write(value)
	}
	out.WriteByte('}')
	return &graphql.Response{Data: out.Bytes()}
}

// onePart returns the generated code that answers every one of fields,
// if one does: none is the engine's, and all are one part's (or
// introspection, which any part answers).
func (s *roleSchema) onePart(rootType string, fields []graphql.CollectedField) (graphql.ExecutableSchema, bool) {
	var whole graphql.ExecutableSchema
	for _, f := range fields {
		if _, ok := s.view.RootField(f.Name); ok || f.Name == "no_queries_available" || s.r.Actions.Serves(rootType, f.Name, s.view.Role) {
			return nil, false
		}
		if _, renamed := s.original[f.Name]; renamed {
			return nil, false // generatedField gives it its own name
		}
		exec, declared := s.parts[rootType+"."+f.Name]
		switch {
		case !declared: // __typename, __schema, __type
		case whole == nil:
			whole = exec
		case whole != exec:
			return nil, false
		}
	}
	if whole == nil {
		whole = s.generated
	}
	return whole, true
}

// field answers one root field; false when it failed (its errors added).
func (s *roleSchema) field(ctx context.Context, op *graphql.OperationContext, rootType string, f graphql.CollectedField) ([]byte, bool) {
	switch f.Name {
	case "__typename":
		return []byte(strconv.Quote(rootType)), true
	case "no_queries_available":
		return []byte(strconv.Quote(noQueriesAvailable)), true
	}
	if s.r.Actions.Serves(rootType, f.Name, s.view.Role) {
		return s.action(ctx, op, rootType, f)
	}
	rf, isTable := s.view.RootField(f.Name)
	if !isTable {
		return s.generatedField(ctx, op, s.part(rootType, f.Name), f)
	}
	caller := auth.CallerFrom(ctx)
	out, err := engine.Execute(ctx, database.ConnFrom(ctx, s.r.DB), op, rf, f, s.view, caller)
	if err == nil {
		err = limits.Spend(ctx, len(out))
	}
	if err != nil {
		graphql.AddError(ctx, gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, err))
		return nil, false
	}
	return out, true
}

// action answers the action f through its handler.
func (s *roleSchema) action(ctx context.Context, op *graphql.OperationContext, rootType string, f graphql.CollectedField) ([]byte, bool) {
	fail := func(err error) ([]byte, bool) {
		graphql.AddError(ctx, gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, err))
		return nil, false
	}
	vars, err := s.sessionVariables(ctx, auth.CallerFrom(ctx))
	if err != nil {
		return fail(err)
	}
	out, err := s.r.Actions.Run(ctx, op, s.schema, rootType, f, s.actionCall(ctx, vars))
	if err == nil {
		err = limits.Spend(ctx, len(out))
	}
	if err != nil {
		return fail(err)
	}
	return out, true
}

// actionCall is what an action's field of the request in ctx is answered
// with.
func (s *roleSchema) actionCall(ctx context.Context, vars map[string]string) actions.Call {
	return actions.Call{Caller: auth.CallerFrom(ctx), SessionVariables: vars, ClientHeaders: exchangeFrom(ctx).clientHeaders(),
		DB: database.ConnFrom(ctx, s.r.DB), View: s.view}
}

// FollowAction keeps the subscription to an asynchronous action's result
// f for the caller in ctx; send gets each new result.
func (s *Schemas) FollowAction(ctx context.Context, op *graphql.OperationContext, f graphql.CollectedField, send func([]byte, error)) {
	rs := s.of(auth.CallerFrom(ctx).Role)
	vars, err := rs.sessionVariables(ctx, auth.CallerFrom(ctx))
	if err != nil {
		send(nil, err)
		return
	}
	rs.r.Actions.Follow(ctx, op, rs.schema, f, rs.actionCall(ctx, vars), send)
}

// sessionVariables are caller's, as an action's handler receives them: a
// cookie caller's X-Hasura-User-Id is its live session's user.
func (s *roleSchema) sessionVariables(ctx context.Context, caller auth.Caller) (map[string]string, error) {
	vars := caller.SessionVariables()
	if caller.UserID == "" && caller.SessionToken != "" {
		b := &sqlbuild.Builder{}
		b.S("SELECT ")
		authjs.UserOfSession(b, caller.SessionToken)
		b.S("::text")
		var id *string
		if err := database.ConnFrom(ctx, s.r.DB).QueryRow(ctx, b.SQL(), b.Args()...).Scan(&id); err != nil {
			return nil, err
		}
		if id != nil {
			vars["x-hasura-user-id"] = *id
		}
	}
	return vars, nil
}

// generatedField runs one field through gqlgen's generated code: an
// operation of that one field, whose answer's one value it returns.
func (s *roleSchema) generatedField(ctx context.Context, op *graphql.OperationContext, generated graphql.ExecutableSchema, f graphql.CollectedField) ([]byte, bool) {
	field := *f.Field
	field.SelectionSet = f.Selections
	field.Name = originalName(s.original, field.Name) // the name the generated code knows
	def := *op.Operation
	def.SelectionSet = ast.SelectionSet{&field}
	ctx = graphql.WithOperationContext(ctx, operationLike(op, &def, op.Variables))
	resp := generated.Exec(ctx)(ctx)
	if resp == nil {
		return nil, false
	}
	// {"alias":value}: an alias is a GraphQL name, written as it is; a
	// non-null field that failed makes the answer null instead.
	prefix := `{"` + f.Alias + `":`
	if !bytes.HasPrefix(resp.Data, []byte(prefix)) || !bytes.HasSuffix(resp.Data, []byte("}")) {
		return nil, false
	}
	value := resp.Data[len(prefix) : len(resp.Data)-1]
	if err := limits.Spend(ctx, len(value)); err != nil {
		graphql.AddError(ctx, gqlerror.WrapPath(ast.Path{ast.PathName(f.Alias)}, err))
		return nil, false
	}
	return value, true
}

// operationLike is op with another operation definition and variables
// (an OperationContext holds a lock, and is not copied).
func operationLike(op *graphql.OperationContext, def *ast.OperationDefinition, vars map[string]any) *graphql.OperationContext {
	return &graphql.OperationContext{
		RawQuery: op.RawQuery, Variables: vars, OperationName: op.OperationName, Doc: op.Doc,
		Extensions: op.Extensions, Headers: op.Headers, Operation: def, DisableIntrospection: op.DisableIntrospection,
		RecoverFunc: op.RecoverFunc, ResolverMiddleware: op.ResolverMiddleware, RootResolverMiddleware: op.RootResolverMiddleware,
		Stats: op.Stats,
	}
}

// noQueriesAvailable is Hasura's answer to a role with no query fields.
const noQueriesAvailable = "There are no queries available to the current role. Either there are no sources or remote schemas configured, or the current role doesn't have the required permissions."

// needsTransaction: the mutation's fields take more than one statement. A
// single statement is atomic on its own, and skipping BEGIN and COMMIT
// saves two round trips on the common one-field mutations.
func (s *roleSchema) needsTransaction(fields []graphql.CollectedField) bool {
	if len(fields) != 1 {
		return len(fields) > 1
	}
	if originalName(s.original, fields[0].Name) == "signUp" {
		return true
	}
	rf, ok := s.view.RootField(fields[0].Name)
	return ok && rf.Kind == tables.UpdateMany
}

func rootTypeName(op ast.Operation) string {
	switch op {
	case ast.Mutation:
		return "mutation_root"
	case ast.Subscription:
		return "subscription_root"
	}
	return "query_root"
}
