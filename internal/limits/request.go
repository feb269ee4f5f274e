package limits

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/freshgraph/freshgraph/internal/auth"
	"github.com/freshgraph/freshgraph/internal/hasura"
)

// request is the limits of one running request: its time limit and what is
// left of its response size budget.
type request struct {
	role      string
	timeLimit time.Duration
	maxBytes  int64
	used      atomic.Int64
}

type requestKey struct{}

// Start begins a request of role under c: it ends by the role's time limit,
// and its answers may add up to c.ResponseBytes.
func (c Config) Start(ctx context.Context, role auth.Role) (context.Context, context.CancelFunc) {
	r := &request{role: string(role), timeLimit: c.Time.For(string(role)), maxBytes: c.ResponseBytes}
	ctx = context.WithValue(ctx, requestKey{}, r)
	if r.timeLimit > 0 {
		return context.WithTimeout(ctx, r.timeLimit)
	}
	return context.WithCancel(ctx)
}

func requestFrom(ctx context.Context) *request {
	r, _ := ctx.Value(requestKey{}).(*request)
	return r
}

// Remaining is how many bytes the answers of ctx's request may still have.
func Remaining(ctx context.Context) int64 {
	r := requestFrom(ctx)
	if r == nil || r.maxBytes <= 0 {
		return math.MaxInt64
	}
	return max(r.maxBytes-r.used.Load(), 0)
}

// Spend counts n bytes of answer against ctx's request, and refuses them
// if they take it over its response size limit.
func Spend(ctx context.Context, n int) error {
	r := requestFrom(ctx)
	if r == nil || r.maxBytes <= 0 {
		return nil
	}
	if used := r.used.Add(int64(n)); used > r.maxBytes {
		return ResponseSizeError(r.maxBytes, used)
	}
	return nil
}

// The SQL function that migration 00005 defines raises this code, with
// this hint, for an answer over the cap it is given.
const (
	sqlLimitCode = "54000" // program_limit_exceeded
	sqlLimitHint = "freshgraph-response-size"
)

// Explain says which limit err is the result of, if any: the request's
// deadline (seen as context.DeadlineExceeded or as PostgreSQL cancelling
// the statement), or an answer over the response size cap.
func Explain(ctx context.Context, err error) (*hasura.Error, bool) {
	r := requestFrom(ctx)
	if r == nil {
		return nil, false
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch {
		case pgErr.Code == sqlLimitCode && pgErr.Hint == sqlLimitHint:
			// The whole answer's size: this field's and those already made.
			size, _ := strconv.ParseInt(strings.TrimSpace(pgErr.Detail), 10, 64)
			return ResponseSizeError(r.maxBytes, size+r.used.Load()), true
		case pgErr.Code == "57014" && r.timeLimit > 0: // query_canceled: by the deadline or statement_timeout
			return TimeError(r.role, r.timeLimit), true
		}
	}
	if _, ok := errors.AsType[*pgproto3.ExceededMaxBodyLenErr](err); ok {
		return ResponseSizeError(r.maxBytes, 0), true
	}
	if r.timeLimit > 0 && (errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)) {
		return TimeError(r.role, r.timeLimit), true
	}
	return nil, false
}
