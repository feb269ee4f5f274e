// Package hasura speaks Hasura's GraphQL wire protocol: its error shape and
// codes, the mapping of PostgreSQL errors onto them, and an HTTP transport that
// answers as /v1/graphql does (always HTTP 200, batched requests, no partial
// data next to errors).
package hasura

import "fmt"

// Code is a Hasura error code, sent as extensions.code.
type Code string

// The codes this server sends; the names are Hasura's (HGE Base/Error.hs).
const (
	CodeAccessDenied        Code = "access-denied"
	CodeBadRequest          Code = "bad-request"
	CodeConstraintError     Code = "constraint-error"
	CodeConstraintViolation Code = "constraint-violation"
	CodeDataException       Code = "data-exception"
	CodeInvalidHeaders      Code = "invalid-headers"
	CodeInvalidJSON         Code = "invalid-json"
	CodeInvalidJWT          Code = "invalid-jwt"
	CodeNotFound            Code = "not-found"
	CodeNotSupported        Code = "not-supported"
	CodePermissionError     Code = "permission-error"
	CodeUnexpected          Code = "unexpected"
	CodeValidationFailed    Code = "validation-failed"
)

// Error is an error a client may see: its Message and Code are sent verbatim,
// so they must never carry SQL text, stack traces or secrets.
type Error struct {
	Code    Code
	Message string
	// Path is Hasura's JSON path of the offending part of the request,
	// e.g. "$.selectionSet.users_by_pk"; empty means "$".
	Path string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with a formatted message and the root path.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// AtPath returns a copy of e that points at path.
func (e *Error) AtPath(path string) *Error {
	c := *e
	c.Path = path
	return &c
}

// FieldPath is Hasura's path of a root field of the operation.
func FieldPath(field string) string { return "$.selectionSet." + field }

// CodeParseFailed and CodeUnexpectedPayload answer requests whose envelope,
// not their GraphQL, is wrong.
const (
	CodeParseFailed       Code = "parse-failed"
	CodeUnexpectedPayload Code = "unexpected-payload"
)

// CodeRateLimited is freshgraph's own code for an attempt refused because
// there were too many (sign-in, sign-up); Hasura has none for this.
const CodeRateLimited Code = "rate-limited"
