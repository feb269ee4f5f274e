// Package hasura speaks Hasura's GraphQL wire protocol: its error shape and
// codes, the mapping of PostgreSQL errors onto them, and an HTTP transport that
// answers as /v1/graphql does (always HTTP 200, batched requests, no partial
// data next to errors).
package hasura

import (
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Code is a Hasura error code, sent as extensions.code.
type Code string

// Every code this server sends, in one table. Most are Hasura's
// (server/src-lib/Hasura/Base/Error.hs); the last block is freshgraph's own,
// for what Hasura's open-source edition has no answer to.
const (
	CodeAccessDenied         Code = "access-denied"
	CodeBadRequest           Code = "bad-request"
	CodeConstraintError      Code = "constraint-error"
	CodeConstraintViolation  Code = "constraint-violation"
	CodeDataException        Code = "data-exception"
	CodeInvalidHeaders       Code = "invalid-headers"
	CodeInvalidJSON          Code = "invalid-json"
	CodeInvalidJWT           Code = "invalid-jwt"
	CodeJWTInvalidClaims     Code = "jwt-invalid-claims"
	CodeJWTMissingRoleClaims Code = "jwt-missing-role-claims"
	CodeMethodNotAllowed     Code = "method-not-allowed"
	CodeNotFound             Code = "not-found"
	CodeNotSupported         Code = "not-supported"
	CodeParseFailed          Code = "parse-failed"
	CodePermissionError      Code = "permission-error"
	CodeUnexpected           Code = "unexpected"
	CodeUnexpectedPayload    Code = "unexpected-payload"
	CodeValidationFailed     Code = "validation-failed"

	// An attempt refused because there were too many (sign-in, sign-up).
	CodeRateLimited Code = "rate-limited"
	// A request stopped by its time_limit.
	CodeTimeLimit Code = "time-limit-exceeded"
	// An answer over the response size limit.
	CodeResponseSize Code = "response-size-limit-exceeded"
)

// knownCodes are the codes above: the values a metric may label an error
// with (a handler's own code counts as "other").
var knownCodes = map[Code]bool{
	CodeAccessDenied: true, CodeBadRequest: true, CodeConstraintError: true, CodeConstraintViolation: true,
	CodeDataException: true, CodeInvalidHeaders: true, CodeInvalidJSON: true, CodeInvalidJWT: true,
	CodeJWTInvalidClaims: true, CodeJWTMissingRoleClaims: true, CodeMethodNotAllowed: true, CodeNotFound: true,
	CodeNotSupported: true, CodeParseFailed: true, CodePermissionError: true, CodeUnexpected: true,
	CodeUnexpectedPayload: true, CodeValidationFailed: true, CodeRateLimited: true, CodeTimeLimit: true,
	CodeResponseSize: true,
}

// ErrorCode is the code of an answered error, if it is one of this
// server's, else "other".
func ErrorCode(e *gqlerror.Error) string {
	if code, _ := e.Extensions["code"].(string); knownCodes[Code(code)] {
		return code
	}
	return "other"
}

// Error is an error a client may see: its Message and Code are sent verbatim,
// so they must never carry SQL text, stack traces or secrets.
type Error struct {
	Code    Code
	Message string
	// Path is Hasura's JSON path of the offending part of the request,
	// e.g. "$.selectionSet.users_by_pk"; empty means "$".
	Path string
	// Limit names the limit that refused the request (depth_limit, …), for
	// the metrics; it is not sent.
	Limit string
}

// limitRule marks an answered error as a limit's refusal, in gqlerror's
// Rule, which is never sent.
const limitRule = "limit:"

// RefusedBy names the limit an answered error is the refusal of, or "".
func RefusedBy(e *gqlerror.Error) string {
	if limit, ok := strings.CutPrefix(e.Rule, limitRule); ok {
		return limit
	}
	return ""
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
