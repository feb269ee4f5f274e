package hasura

import (
	"context"
	"errors"
	"log/slog"
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
		if he, ok := errors.AsType[*HandlerError](err); ok {
			return he.gqlError()
		}
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

// HandlerError is an error an Action's handler answered (a 4xx with
// {message, extensions}): passed on as it came, as Hasura passes it; without
// extensions, Hasura's unexpected code at the root path.
type HandlerError struct {
	Message    string
	Extensions map[string]any
}

func (e *HandlerError) Error() string { return e.Message }

func (e *HandlerError) gqlError() *gqlerror.Error {
	ext := e.Extensions
	if ext == nil {
		ext = map[string]any{"code": string(CodeUnexpected), "path": "$"}
	}
	return &gqlerror.Error{Message: e.Message, Extensions: ext}
}

var internalError = &Error{Code: CodeUnexpected, Message: "unexpected error; see the server log"}

func (e *Error) gqlError() *gqlerror.Error {
	path := e.Path
	if path == "" {
		path = "$"
	}
	ge := &gqlerror.Error{
		Message:    e.Message,
		Extensions: map[string]any{"code": string(e.Code), "path": path},
	}
	if e.Limit != "" {
		ge.Rule = limitRule + e.Limit
	}
	return ge
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

// validationError words a finding of gqlgen's own validation as Hasura
// does: only when the document's own reading (document.Extension) was
// bypassed, e.g. its cached copy evicted in between.
func validationError(ctx context.Context, ge *gqlerror.Error) *Error {
	if !graphql.HasOperationContext(ctx) {
		return &Error{Code: CodeValidationFailed, Message: ge.Message}
	}
	op := graphql.GetOperationContext(ctx)
	doc := op.Doc
	if doc == nil {
		var err error
		if doc, err = parser.ParseQuery(&ast.Source{Input: op.RawQuery}); err != nil {
			return ParseError(err)
		}
	}
	return ValidationError(doc, ge)
}
