package hasura

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// ErrorPresenter turns every error gqlgen reports into Hasura's shape:
// {"message": …, "extensions": {"code": …, "path": "$…"}}. Errors that are
// not meant for clients are logged and answered with a bare "unexpected"
// error. explain names the limit an error comes from, if any (limits.Explain).
func ErrorPresenter(logger *slog.Logger, explain func(context.Context, error) (*Error, bool)) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		if _, ours := errors.AsType[*Error](err); !ours {
			if he, ok := explain(ctx, err); ok {
				return he.gqlError()
			}
		}
		return present(ctx, logger, err).gqlError()
	}
}

// RecoverFunc logs a panic in a resolver and answers it like any other
// internal failure, so a bug never takes the process down or shows a stack.
func RecoverFunc(logger *slog.Logger) graphql.RecoverFunc {
	return func(ctx context.Context, v any) error {
		logger.ErrorContext(ctx, "panic in resolver", "panic", v, "stack", string(debug.Stack()))
		return internalError
	}
}

var internalError = &Error{Code: CodeUnexpected, Message: "unexpected error; see the server log"}

func (e *Error) gqlError() *gqlerror.Error {
	path := e.Path
	if path == "" {
		path = "$"
	}
	return &gqlerror.Error{
		Message:    e.Message,
		Extensions: map[string]any{"code": string(e.Code), "path": path},
	}
}

func present(ctx context.Context, logger *slog.Logger, err error) *Error {
	if he, ok := errors.AsType[*Error](err); ok {
		return he
	}
	if he, ok := FromPostgres(err); ok {
		return he
	}
	if ge, ok := errors.AsType[*gqlerror.Error](err); ok && ge.Err == nil {
		switch ge.Extensions["code"] {
		case errcode.ParseFailed:
			return &Error{Code: CodeValidationFailed, Message: "not a valid graphql query", Path: "$.query"}
		case errcode.ValidationFailed:
			return validationError(ctx, ge)
		}
	}
	logger.ErrorContext(ctx, "unexpected error", "err", err)
	return internalError
}

var (
	unknownField      = regexp.MustCompile(`^Cannot query field "([^"]+)" on type "([^"]+)"`)
	unknownInputField = regexp.MustCompile(`^Field "([^"]+)" is not defined by type "([^"]+)"`)
)

// validationError rewords gqlparser's validation errors the way Hasura words
// them where clients are known to match the text, and points at the field.
func validationError(ctx context.Context, ge *gqlerror.Error) *Error {
	e := &Error{Code: CodeValidationFailed, Message: ge.Message}
	if m := unknownField.FindStringSubmatch(ge.Message); m != nil {
		e.Message = "field '" + m[1] + "' not found in type: '" + m[2] + "'"
	}
	if m := unknownInputField.FindStringSubmatch(ge.Message); m != nil {
		e.Message = "field '" + m[1] + "' not found in type: '" + m[2] + "'"
	}
	if len(ge.Locations) > 0 && graphql.HasOperationContext(ctx) {
		e.Path = fieldPathAt(graphql.GetOperationContext(ctx).RawQuery, ge.Locations[0])
	}
	return e
}

// fieldPathAt finds the field that starts at loc in query and returns its
// Hasura path ("$.selectionSet.a.selectionSet.b"), or "$" if there is none.
// It runs only for invalid queries, so re-parsing is cheap enough.
func fieldPathAt(query string, loc gqlerror.Location) string {
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		return "$"
	}
	var walk func(set ast.SelectionSet, prefix string) (string, bool)
	walk = func(set ast.SelectionSet, prefix string) (string, bool) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				path := prefix + ".selectionSet." + sel.Name
				if at(sel.Position, loc) {
					return path, true
				}
				for _, a := range sel.Arguments {
					if p, ok := valuePathAt(a.Value, path+".args."+a.Name, loc); ok {
						return p, true
					}
				}
				if p, ok := walk(sel.SelectionSet, path); ok {
					return p, true
				}
			case *ast.InlineFragment:
				if p, ok := walk(sel.SelectionSet, prefix); ok {
					return p, true
				}
			}
		}
		return "", false
	}
	for _, op := range doc.Operations {
		if p, ok := walk(op.SelectionSet, "$"); ok {
			return p
		}
	}
	return "$"
}

func at(pos *ast.Position, loc gqlerror.Location) bool {
	return pos != nil && pos.Line == loc.Line && pos.Column == loc.Column
}

// valuePathAt finds the input object field that starts at loc in v.
func valuePathAt(v *ast.Value, prefix string, loc gqlerror.Location) (string, bool) {
	if v == nil {
		return "", false
	}
	for i, child := range v.Children {
		path := prefix + "." + child.Name
		if v.Kind == ast.ListValue {
			path = fmt.Sprintf("%s[%d]", prefix, i)
		}
		if at(child.Position, loc) || v.Kind == ast.ObjectValue && child.Value != nil && at(child.Value.Position, loc) {
			return path, true
		}
		if p, ok := valuePathAt(child.Value, path, loc); ok {
			return p, true
		}
	}
	return "", false
}
