// Package document reads a request's GraphQL document the way Hasura does,
// once, before gqlgen's executor sees it: parsed within the parser's limits,
// measured against the role's depth and node limits, the operation chosen
// by operationName, and that operation alone — with the fragments it uses —
// validated against the role's schema, the first finding worded as Hasura
// words it (hasura.ValidationError). What passes is cached under its
// operation name and text, as the executor's query cache: the executor then
// neither parses nor validates it again.
package document

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/hasura"
	"github.com/freshgraph/freshgraph/internal/limits"
)

// Extension is the gqlgen extension that reads documents for one
// executor (one role's schema). Use one per executor, and its Cache as the
// executor's query cache.
type Extension struct {
	limits limits.Config
	docs   *lru.LRU[*ast.QueryDocument]
	schema *ast.Schema
}

var (
	_ graphql.HandlerExtension          = (*Extension)(nil)
	_ graphql.OperationParameterMutator = (*Extension)(nil)
)

// New returns an Extension keeping up to size valid documents.
func New(l limits.Config, size int) *Extension {
	return &Extension{limits: l, docs: lru.New[*ast.QueryDocument](size)}
}

// ExtensionName names the extension for gqlgen.
func (*Extension) ExtensionName() string { return "Document" }

// Validate takes the schema documents are validated against.
func (e *Extension) Validate(es graphql.ExecutableSchema) error {
	e.schema = es.Schema()
	return nil
}

// Cache is the executor's query cache: the documents this extension has
// read, by operation name and text.
func (e *Extension) Cache() graphql.Cache[*ast.QueryDocument] { return cache{e} }

type cache struct{ e *Extension }

// Get finds the document of the request in ctx: the executor sets the
// operation's name before it looks its text up.
func (c cache) Get(ctx context.Context, query string) (*ast.QueryDocument, bool) {
	return c.e.docs.Get(ctx, key(operationName(ctx), query))
}

// Add keeps a document the executor parsed itself, which happens only when
// this extension's copy was evicted in between.
func (c cache) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	c.e.docs.Add(ctx, key(operationName(ctx), query), doc)
}

func operationName(ctx context.Context) string {
	if !graphql.HasOperationContext(ctx) {
		return ""
	}
	return graphql.GetOperationContext(ctx).OperationName
}

// key names a document: a NUL never appears in a GraphQL name.
func key(operation, query string) string { return operation + "\x00" + query }

// MutateOperationParameters reads the document of params, or refuses it
// with Hasura's error.
func (e *Extension) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	role := auth.CallerFrom(ctx).Role
	k := key(params.OperationName, params.Query)
	if doc, ok := e.docs.Get(ctx, k); ok {
		// Limits are per role, and roles the metadata does not name share
		// one schema: check again, which is cheap.
		if err := e.limits.CheckDocument(doc, role); err != nil {
			return refusal(err)
		}
		return e.checkVariables(doc, params.Variables)
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, e.limits.Tokens)
	if err != nil {
		if ge, ok := errors.AsType[*gqlerror.Error](err); ok && strings.HasPrefix(ge.Message, "exceeded token limit") {
			return refusal(limits.TokenError(e.limits.Tokens))
		}
		return refusal(hasura.ParseError(err))
	}
	// Limits first, over the whole document: they bound the work of
	// validation, whatever operation is chosen.
	if err := e.limits.CheckDocument(doc, role); err != nil {
		return refusal(err)
	}
	op, herr := hasura.ChooseOperation(doc, params.OperationName)
	if herr != nil {
		return refusal(herr)
	}
	chosen := only(doc, op)
	hasura.DropInapplicable(e.schema, chosen)
	withoutUnusedVariables(chosen)
	if errs := validator.ValidateWithRules(e.schema, chosen, hasura.Rules()); len(errs) > 0 {
		return refusal(hasura.ValidationError(chosen, hasura.First(errs)))
	}
	if err := e.checkVariables(chosen, params.Variables); err != nil {
		return err
	}
	e.docs.Add(ctx, k, chosen)
	return nil
}

// checkVariables refuses values for variables the operation does not use,
// and values that do not fit their variable's type, in Hasura's words.
// (The executor coerces them again; the second time finds nothing.)
func (e *Extension) checkVariables(doc *ast.QueryDocument, vars map[string]any) *gqlerror.Error {
	if err := unexpectedVariables(doc, vars); err != nil {
		return refusal(err)
	}
	for _, v := range doc.Operations[0].VariableDefinitions {
		// The rules have refused any used variable of a type the schema
		// lacks; gqlparser's coercion would not survive one.
		if v.Definition == nil {
			return refusal(&hasura.Error{Code: hasura.CodeValidationFailed, Message: fmt.Sprintf("variable '%s' is declared as '%s', a type the schema does not have", v.Variable, v.Type.String())})
		}
	}
	if err := hasura.IntegralInts(e.schema, doc, vars); err != nil {
		return refusal(err)
	}
	if _, err := validator.VariableValues(e.schema, doc.Operations[0], vars); err != nil {
		if ge, ok := errors.AsType[*gqlerror.Error](err); ok {
			return refusal(hasura.VariableError(e.schema, doc, ge))
		}
		return refusal(&hasura.Error{Code: hasura.CodeValidationFailed, Message: err.Error()})
	}
	return nil
}

// unexpectedVariables is Hasura's refusal of values for variables the
// operation does not use (Resolve.hs), declared or not.
func unexpectedVariables(doc *ast.QueryDocument, vars map[string]any) *hasura.Error {
	var unused []string
	for name := range vars {
		if !slices.ContainsFunc(doc.Operations[0].VariableDefinitions, func(v *ast.VariableDefinition) bool { return v.Variable == name }) {
			unused = append(unused, name)
		}
	}
	if len(unused) == 0 {
		return nil
	}
	slices.Sort(unused)
	return &hasura.Error{Code: hasura.CodeValidationFailed, Message: "unexpected variables in variableValues: " + strings.Join(unused, ", ")}
}

// refusal is err as the executor reports a parameter mutator's error; nil
// for no error.
func refusal(err *hasura.Error) *gqlerror.Error {
	if err == nil {
		return nil
	}
	return gqlerror.WrapPath(nil, err)
}

// only is doc with op as its one operation and only the fragments op uses,
// however deep: Hasura validates the operation it runs, so neither another
// operation nor a fragment nobody spreads can make it fail.
func only(doc *ast.QueryDocument, op *ast.OperationDefinition) *ast.QueryDocument {
	out := &ast.QueryDocument{Position: doc.Position, Comment: doc.Comment}
	seen := map[string]bool{}
	var visit func(set ast.SelectionSet)
	visit = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				visit(sel.SelectionSet)
			case *ast.InlineFragment:
				visit(sel.SelectionSet)
			case *ast.FragmentSpread:
				if seen[sel.Name] {
					continue
				}
				seen[sel.Name] = true
				for _, f := range doc.Fragments { // two of one name are an error, kept for it
					if f.Name == sel.Name {
						out.Fragments = append(out.Fragments, f)
						visit(f.SelectionSet)
					}
				}
			}
		}
	}
	visit(op.SelectionSet)
	out.Operations = ast.OperationList{op}
	return out
}

// withoutUnusedVariables leaves out of doc's operation the variables it
// declares but does not use, as Hasura ignores them: their types need not
// even exist. Run it last, once nothing more is taken out of the
// operation.
func withoutUnusedVariables(doc *ast.QueryDocument) {
	used := hasura.UsedVariables(doc)
	op := *doc.Operations[0]
	op.VariableDefinitions = slices.DeleteFunc(slices.Clone(op.VariableDefinitions), func(v *ast.VariableDefinition) bool { return !used[v.Variable] })
	doc.Operations[0] = &op
}
