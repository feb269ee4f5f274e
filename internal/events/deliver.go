package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// leaseMargin is how long past its call's timeout a taken row stays taken:
// time enough to record the outcome. A deliverer that died mid-call frees
// its rows that much after their timeout.
const leaseMargin = 10 * time.Second

// Webhooks' answers are read up to readLimit bytes; the first
// excerptLimit are kept with the attempt.
const (
	readLimit    = 64 << 10
	excerptLimit = 4 << 10
)

// row is a taken row of the log.
type row struct {
	id, kind, trigger        string
	schema, table, op        *string
	data, sessionVariables   json.RawMessage
	requestHeaders           json.RawMessage
	scheduledTime, createdAt *time.Time
	tries                    int
}

// Run delivers due rows until ctx ends; meanwhile it writes the cron
// triggers' times and deletes rows finished longer than Retention ago.
func (s *Service) Run(ctx context.Context) {
	go s.clean(ctx)
	go s.schedule(ctx)
	go s.logStats(ctx)
	s.deliver(ctx)
}

// deliver takes due rows, as many as there are free calls, and calls
// their webhooks; it waits FetchInterval when none is due.
func (s *Service) deliver(ctx context.Context) {
	var keys []string
	var leases []float64
	for key, t := range s.targets {
		keys = append(keys, key)
		leases = append(leases, (t.timeout + leaseMargin).Seconds())
	}
	slots := make(chan struct{}, s.cfg.HTTPPoolSize)
	var calls sync.WaitGroup
	defer calls.Wait()
	for ctx.Err() == nil {
		want := min(cap(slots)-len(slots), s.cfg.FetchBatchSize)
		taken := 0
		if want > 0 {
			rows, err := s.take(ctx, keys, leases, want)
			if err != nil && ctx.Err() == nil {
				s.cfg.Logger.Error("events: taking due events", "err", err)
			}
			for _, r := range rows {
				slots <- struct{}{}
				calls.Go(func() {
					defer func() { <-slots }()
					s.attempt(ctx, r)
				})
			}
			taken = len(rows)
		}
		if taken > 0 && taken == want {
			continue // more may be due
		}
		select {
		case <-ctx.Done():
		case <-s.wake:
		case <-time.After(s.cfg.FetchInterval):
		}
	}
}

// take moves up to limit due rows of the known triggers past their
// lease, and returns them.
func (s *Service) take(ctx context.Context, keys []string, leases []float64, limit int) ([]row, error) {
	rows, err := s.cfg.Pool.Query(ctx, `UPDATE freshgraph_event_log e SET next_attempt_at = now() + make_interval(secs => d.lease)
		FROM (SELECT l.id, k.lease FROM freshgraph_event_log l
			JOIN unnest($1::text[], $2::float8[]) AS k(key, lease) ON l.kind || '/' || l.trigger_name = k.key
			WHERE l.status = 'pending' AND l.next_attempt_at <= now()
			ORDER BY l.next_attempt_at LIMIT $3 FOR UPDATE OF l SKIP LOCKED) d
		WHERE e.id = d.id
		RETURNING e.id, e.kind, e.trigger_name, e.schema_name, e.table_name, e.op, e.data, e.session_variables,
			e.scheduled_time, e.created_at, e.tries, e.request_headers`, keys, leases, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.id, &x.kind, &x.trigger, &x.schema, &x.table, &x.op, &x.data, &x.sessionVariables,
			&x.scheduledTime, &x.createdAt, &x.tries, &x.requestHeaders)
		return x, err
	})
}

// outcome is what one call came to.
type outcome struct {
	status     int // HTTP status; 0: no answer
	response   string
	duration   time.Duration
	retryAfter time.Duration // the answer's Retry-After; -1: none
}

// attempt calls r's webhook once and records the outcome: delivered on a
// 2xx answer, else due again after the trigger's interval (or the answer's
// Retry-After) while it has retries left, else failed.
func (s *Service) attempt(ctx context.Context, r row) {
	t := s.targets[r.kind+"/"+r.trigger]
	record := context.WithoutCancel(ctx)
	if r.kind == kindAction {
		s.runAction(ctx, record, r)
		return
	}
	if r.kind == kindCron && r.scheduledTime != nil && time.Since(*r.scheduledTime) > t.tolerance {
		s.finish(record, r, "failed", outcome{response: fmt.Sprintf("not delivered: its time passed more than tolerance_seconds (%s) ago", t.tolerance)}, false)
		return
	}
	body, err := payload(r, t)
	if err != nil {
		s.finish(record, r, "failed", outcome{response: "not delivered: " + err.Error()}, false)
		return
	}
	event := r.kind == kindEvent && r.createdAt != nil
	if event && r.tries == 0 {
		s.cfg.Metrics.EventTaken(r.trigger, time.Since(*r.createdAt))
	}
	o := s.call(ctx, t, body)
	if ctx.Err() != nil && o.status == 0 {
		// Shutting down: the call was cut, not refused. The row is due at
		// once for another instance, and this try is not counted.
		s.release(record, r)
		return
	}
	delivered := o.status >= 200 && o.status < 300
	finished := delivered || r.tries >= t.numRetries
	if event {
		s.cfg.Metrics.EventCalled(r.trigger, o.duration, finished, time.Since(*r.createdAt))
	}
	switch {
	case delivered:
		s.finish(record, r, "delivered", o, true)
		s.cfg.Metrics.Delivered(r.kind, r.trigger, true, true)
	case !finished:
		wait := t.interval
		if o.retryAfter >= 0 {
			wait = o.retryAfter
		}
		s.retry(record, r, o, wait)
		s.cfg.Metrics.Delivered(r.kind, r.trigger, false, false)
	default:
		s.finish(record, r, "failed", o, true)
		s.cfg.Metrics.Delivered(r.kind, r.trigger, false, true)
		s.cfg.Logger.Warn("events: delivery failed after its last try", "kind", r.kind, "trigger", r.trigger, "id", r.id, "tries", r.tries+1, "status", o.status)
	}
}

// runAction makes an asynchronous action's call, once: its answer or its
// error is the action's result, kept with the row and announced on
// ActionsChannel; the forwarded headers are deleted with the call made.
func (s *Service) runAction(ctx, record context.Context, r row) {
	res := s.cfg.Actions.RunAsync(ctx, r.trigger, r.data, r.sessionVariables, r.requestHeaders)
	if res.Cut && ctx.Err() != nil {
		s.release(record, r) // shutting down: another instance calls it
		return
	}
	status := "delivered"
	if res.Errors != nil {
		status = "failed"
	}
	s.cfg.Metrics.Delivered(r.kind, r.trigger, res.Errors == nil, true)
	s.record(record, r, outcome{status: res.Status, response: excerpt([]byte(res.Response)), duration: res.Duration}, true,
		`WITH done AS (UPDATE freshgraph_event_log SET status = $2, output = $3, errors = $4, request_headers = NULL,
			finished_at = now(), tries = tries + 1 WHERE id = $1 RETURNING id)
		SELECT pg_notify('`+ActionsChannel+`', id::text) FROM done`, r.id, status, jsonOrNull(res.Output), jsonOrNull(res.Errors))
}

// jsonOrNull is raw as a parameter: NULL when empty.
func jsonOrNull(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	return string(raw)
}

// call POSTs body to t's webhook within t's timeout.
func (s *Service) call(ctx context.Context, t *target, body []byte) outcome {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	start := time.Now()
	o := outcome{retryAfter: -1}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(string(body)))
	if err != nil {
		o.response = "the webhook's URL is not valid"
		return o
	}
	for name, values := range t.headers {
		req.Header[name] = values
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := s.client.Do(req)
	if err != nil {
		o.duration = time.Since(start)
		o.response = callError(err)
		return o
	}
	defer resp.Body.Close()
	read, _ := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	o.duration = time.Since(start)
	o.status = resp.StatusCode
	o.response = excerpt(read)
	if v := resp.Header.Get("Retry-After"); v != "" {
		// Whole seconds above zero, as Hasura reads it; dates, fractions
		// and 0 leave the trigger's interval.
		if secs, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && secs > 0 {
			o.retryAfter = time.Duration(secs) * time.Second
		}
	}
	return o
}

// userAgent names freshgraph to the webhooks.
const userAgent = "freshgraph"

// callError says why a call got no answer, without the URL (which may
// hold a secret).
func callError(err error) string {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return "no answer within timeout"
	case errors.Is(err, context.Canceled):
		return "the call was cancelled"
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) {
		return "connection failed: " + opErr.Op + ": " + opErr.Err.Error()
	}
	var urlErr interface{ Unwrap() error }
	if errors.As(err, &urlErr) && urlErr.Unwrap() != nil {
		return "the call failed: " + urlErr.Unwrap().Error()
	}
	return "the call failed"
}

// excerpt is the start of an answer's body as text PostgreSQL takes.
func excerpt(b []byte) string {
	if len(b) > excerptLimit {
		b = b[:excerptLimit] // a rune cut in two becomes U+FFFD
	}
	return strings.ReplaceAll(strings.ToValidUTF8(string(b), "\uFFFD"), "\x00", "")
}

// finish records the outcome and marks r delivered or failed; attempted
// says whether a call was made (and so is recorded).
func (s *Service) finish(ctx context.Context, r row, status string, o outcome, attempted bool) {
	s.record(ctx, r, o, attempted, `UPDATE freshgraph_event_log SET status = $2, finished_at = now(), tries = tries + $3 WHERE id = $1`,
		r.id, status, tries(attempted))
}

// retry records the outcome and makes r due again after wait.
func (s *Service) retry(ctx context.Context, r row, o outcome, wait time.Duration) {
	s.record(ctx, r, o, true, `UPDATE freshgraph_event_log SET next_attempt_at = now() + make_interval(secs => $2), tries = tries + 1 WHERE id = $1`,
		r.id, wait.Seconds())
}

// release makes r due at once, its try not counted.
func (s *Service) release(ctx context.Context, r row) {
	s.record(ctx, r, outcome{}, false, `UPDATE freshgraph_event_log SET next_attempt_at = now() WHERE id = $1 AND status = 'pending'`, r.id)
}

func tries(attempted bool) int {
	if attempted {
		return 1
	}
	return 0
}

// record runs update, and with it the attempt's row if attempted. If it
// cannot, r stays taken until its lease ends, and is then delivered again.
func (s *Service) record(ctx context.Context, r row, o outcome, attempted bool, update string, args ...any) {
	ctx, cancel := context.WithTimeout(ctx, leaseMargin/2)
	defer cancel()
	err := pgx.BeginFunc(ctx, s.cfg.Pool, func(tx pgx.Tx) error {
		if attempted {
			var status *int
			if o.status != 0 {
				status = &o.status
			}
			if _, err := tx.Exec(ctx, `INSERT INTO freshgraph_event_attempts (event_id, status, response, duration_ms) VALUES ($1, $2, $3, $4)`,
				r.id, status, o.response, o.duration.Milliseconds()); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, update, args...)
		return err
	})
	if err != nil {
		s.cfg.Logger.Error("events: recording a delivery", "kind", r.kind, "trigger", r.trigger, "id", r.id, "err", err)
	}
}
