// Package metrics keeps freshgraph's Prometheus metrics and serves them at
// /v1/metrics, under Hasura's names where Hasura has one (its EE and Cloud
// metrics, which dashboards already use), so that an operator's graphs keep
// working. No label comes from a request: operation types, outcomes and
// subscription kinds are fixed sets, so the series are bounded.
package metrics

import (
	"crypto/subtle"
	"net"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/freshgraph/freshgraph/internal/hasura"
)

// Metrics are one server's metrics. A nil *Metrics records nothing.
type Metrics struct {
	registry      *prometheus.Registry
	requests      *prometheus.CounterVec
	executionTime *prometheus.HistogramVec
	websockets    prometheus.Gauge
	httpConns     prometheus.Gauge
	subscriptions *prometheus.GaugeVec
	// byType are each operation type's series, looked up once: a request
	// then costs two atomic adds, not a hash of its labels.
	byType map[string]*typeSeries
	// plans counts the requests answered from a query plan, by result.
	plans [planResults]prometheus.Counter
	// Deliveries of the event log: each call, and each row finished.
	eventCalls, eventsDone *prometheus.CounterVec
	// Event triggers' times, by trigger: waiting to be taken, the webhook's
	// answer, and from the write to the event finished.
	eventQueue, eventWebhook, eventProcessing *prometheus.HistogramVec
	cronCalls, cronDone                       *prometheus.CounterVec
	actionsDone                               *prometheus.CounterVec
	livePush                                  prometheus.Histogram
	// Errors answered, by Hasura's code; limits' refusals, by limit.
	errors, refusals *prometheus.CounterVec
	// The session API: sessions read (with a user or none) and ended.
	sessionsRead  [2]prometheus.Counter // none, user
	sessionsEnded *prometheus.CounterVec
}

// typeSeries are one operation type's series.
type typeSeries struct {
	success, failed prometheus.Counter
	took            prometheus.Observer // nil: not timed
}

// Subscription kinds, Hasura's label values.
const (
	LiveQuery = "live-query"
	Streaming = "streaming"
)

// New makes the metrics of a server whose database pool is pool.
func New(pool *pgxpool.Pool) *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hasura_graphql_requests_total",
			Help: "Number of GraphQL requests received, by operation type and outcome",
		}, []string{"operation_type", "response_status"}),
		executionTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "hasura_graphql_execution_time_seconds",
			Help:    "Execution time of successful GraphQL queries and mutations (excluding subscriptions)",
			Buckets: []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10},
		}, []string{"operation_type"}),
		websockets: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hasura_websocket_connections",
			Help: "Current number of active WebSocket connections",
		}),
		httpConns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hasura_http_connections",
			Help: "Current number of active HTTP connections (excluding WebSocket connections)",
		}),
		subscriptions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "hasura_active_subscriptions",
			Help: "Current number of active subscriptions, by kind",
		}, []string{"subscription_kind"}),
	}
	// Every label value exists from the start, at zero: a dashboard's
	// rate() sees the first request.
	m.byType = map[string]*typeSeries{}
	for _, op := range []string{"query", "mutation", "subscription", "unknown"} {
		ts := &typeSeries{failed: m.requests.WithLabelValues(op, "failed")}
		if op != "unknown" {
			ts.success = m.requests.WithLabelValues(op, "success")
		}
		if op == "query" || op == "mutation" {
			ts.took = m.executionTime.WithLabelValues(op)
		}
		m.byType[op] = ts
	}
	m.subscriptions.WithLabelValues(LiveQuery)
	m.subscriptions.WithLabelValues(Streaming)
	plans := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "freshgraph_query_plans_total",
		Help: "Queries by what their plan did: hit (answered from a plan), miss (a plan is made from the answer), unplannable (answered without one)",
	}, []string{"result"})
	for r, label := range planLabels {
		m.plans[r] = plans.WithLabelValues(label)
	}
	status := []string{"status"}
	m.eventCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hasura_event_invocations_total",
		Help: "Calls of event triggers' webhooks, by outcome (success: a 2xx answer) and trigger"}, []string{"status", "trigger_name"})
	m.eventsDone = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hasura_event_processed_total",
		Help: "Events finished, delivered (success) or failed after their last try, by trigger"}, []string{"status", "trigger_name"})
	trigger := []string{"trigger_name"}
	m.eventQueue = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hasura_event_queue_time_seconds",
		Help:    "Time an event waited from its write to being taken for its first call, by trigger",
		Buckets: []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100}}, trigger)
	m.eventWebhook = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hasura_event_webhook_processing_time_seconds",
		Help:    "Time an event trigger's webhook took to answer a call, by trigger",
		Buckets: []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10}}, trigger)
	m.eventProcessing = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hasura_event_processing_time_seconds",
		Help:    "Time from an event's write to its delivery or last failed try, by trigger",
		Buckets: []float64{0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100}}, trigger)
	m.cronCalls = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hasura_cron_events_invocation_total",
		Help: "Calls of cron triggers' webhooks, by outcome"}, status)
	m.cronDone = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hasura_cron_events_processed_total",
		Help: "Cron events finished, delivered (success) or failed"}, status)
	m.actionsDone = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "freshgraph_async_actions_total",
		Help: "Asynchronous actions' calls done, by outcome (failed: the result is an error)"}, status)
	for _, st := range []string{"success", "failed"} {
		m.cronCalls.WithLabelValues(st)
		m.cronDone.WithLabelValues(st)
		m.actionsDone.WithLabelValues(st)
	}
	m.livePush = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "freshgraph_live_push_latency_seconds",
		Help:    "Time from a write learnt (by a trigger's notification or logical decoding) to the live queries' answers it changed being pushed",
		Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	})
	m.errors = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "freshgraph_graphql_errors_total",
		Help: "Errors answered, by extensions.code (a code this server does not send, such as an action handler's own, is other)"}, []string{"code"})
	m.refusals = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "freshgraph_limit_refusals_total",
		Help: "Requests refused or stopped by a limit, by limit (depth_limit, node_limit, time_limit, …)"}, []string{"limit"})
	read := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "freshgraph_sessions_read_total",
		Help: "Sessions read from the database for the session API, by result (user: a live session; none: no live session)"}, []string{"result"})
	m.sessionsRead = [2]prometheus.Counter{read.WithLabelValues("none"), read.WithLabelValues("user")}
	m.sessionsEnded = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "freshgraph_sessions_ended_total",
		Help: "Sessions the session API ended, by reason"}, []string{"reason"})
	for _, r := range SessionEndReasons {
		m.sessionsEnded.WithLabelValues(r)
	}
	m.registry.MustRegister(m.errors, m.refusals, read, m.sessionsEnded)
	m.registry.MustRegister(m.eventQueue, m.eventWebhook, m.eventProcessing)
	m.registry.MustRegister(plans, m.eventCalls, m.eventsDone, m.cronCalls, m.cronDone, m.actionsDone, m.livePush)
	m.registry.MustRegister(m.requests, m.executionTime, m.websockets, m.httpConns, m.subscriptions,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if pool != nil {
		m.registry.MustRegister(poolCollector{pool})
	}
	return m
}

// ObserveRequest counts a GraphQL operation: its type (query, mutation,
// subscription, or unknown when it failed before its type was known),
// its errors, and how long a successful query or mutation took.
func (m *Metrics) ObserveRequest(operationType string, resp *graphql.Response, took time.Duration) {
	if m == nil {
		return
	}
	failed := resp == nil || len(resp.Errors) > 0
	if resp != nil {
		for _, e := range resp.Errors {
			m.errors.WithLabelValues(hasura.ErrorCode(e)).Inc()
			if limit := hasura.RefusedBy(e); limit != "" {
				m.refusals.WithLabelValues(limit).Inc()
			}
		}
	}
	ts := m.byType[operationType]
	switch {
	case ts == nil:
		return
	case failed || ts.success == nil:
		ts.failed.Inc()
	default:
		ts.success.Inc()
		if ts.took != nil {
			ts.took.Observe(took.Seconds())
		}
	}
}

// PlanResult is what a query plan did for a request (Plan).
type PlanResult int

const (
	PlanHit PlanResult = iota
	PlanMiss
	PlanNone
	planResults
)

// planLabels are the results' label values.
var planLabels = [planResults]string{PlanHit: "hit", PlanMiss: "miss", PlanNone: "unplannable"}

// Plan counts a query by what its plan did.
func (m *Metrics) Plan(result PlanResult) {
	if m != nil {
		m.plans[result].Inc()
	}
}

// The kinds of the event log's rows (Delivered).
const (
	KindEvent  = "event"
	KindCron   = "cron"
	KindAction = "action"
)

// Delivered counts a call of the event log's row of kind and trigger
// (an event trigger's, a cron trigger's or an action's name), and with
// finished that the row is done: delivered when ok, else failed.
func (m *Metrics) Delivered(kind, trigger string, ok, finished bool) {
	if m == nil {
		return
	}
	status := "success"
	if !ok {
		status = "failed"
	}
	switch kind {
	case KindEvent:
		m.eventCalls.WithLabelValues(status, trigger).Inc()
		if finished {
			m.eventsDone.WithLabelValues(status, trigger).Inc()
		}
	case KindCron:
		m.cronCalls.WithLabelValues(status).Inc()
		if finished {
			m.cronDone.WithLabelValues(status).Inc()
		}
	case KindAction:
		m.actionsDone.WithLabelValues(status).Inc()
	}
}

// Why the session API ended sessions (SessionsEnded).
const (
	EndedSignOut           = "sign_out"
	EndedRevoked           = "revoked"
	EndedSignOutEverywhere = "sign_out_everywhere"
	EndedPasswordChanged   = "password_changed"
	EndedPasswordReset     = "password_reset"
	EndedExpired           = "expired"
)

// SessionEndReasons are every reason, each a series from the start.
var SessionEndReasons = []string{EndedSignOut, EndedRevoked, EndedSignOutEverywhere, EndedPasswordChanged, EndedPasswordReset, EndedExpired}

// SessionRead counts a session read for the session API: found when it
// was live and had a user.
func (m *Metrics) SessionRead(found bool) {
	if m == nil {
		return
	}
	if found {
		m.sessionsRead[1].Inc()
	} else {
		m.sessionsRead[0].Inc()
	}
}

// SessionsEnded counts n sessions ended for reason.
func (m *Metrics) SessionsEnded(reason string, n int) {
	if m != nil && n > 0 {
		m.sessionsEnded.WithLabelValues(reason).Add(float64(n))
	}
}

// EventTaken records how long an event trigger's event waited to be taken
// for its first call.
func (m *Metrics) EventTaken(trigger string, waited time.Duration) {
	if m != nil {
		m.eventQueue.WithLabelValues(trigger).Observe(waited.Seconds())
	}
}

// EventCalled records how long an event trigger's webhook took to answer,
// and, when the event is finished, how long it took from its write.
func (m *Metrics) EventCalled(trigger string, took time.Duration, finished bool, sinceWrite time.Duration) {
	if m == nil {
		return
	}
	m.eventWebhook.WithLabelValues(trigger).Observe(took.Seconds())
	if finished {
		m.eventProcessing.WithLabelValues(trigger).Observe(sinceWrite.Seconds())
	}
}

// LivePushed records how long after the write they answer a live query
// run's changed answers were pushed.
func (m *Metrics) LivePushed(latency time.Duration) {
	if m != nil {
		m.livePush.Observe(latency.Seconds())
	}
}

// ConnState counts the server's HTTP connections, from their start until
// they close or become a WebSocket (counted by WebSocketOpened): an
// http.Server's ConnState.
func (m *Metrics) ConnState(_ net.Conn, state http.ConnState) {
	if m == nil {
		return
	}
	switch state {
	case http.StateNew:
		m.httpConns.Inc()
	case http.StateHijacked, http.StateClosed:
		m.httpConns.Dec()
	}
}

// WebSocketOpened counts a WebSocket connection until closed is called.
func (m *Metrics) WebSocketOpened() (closed func()) {
	if m == nil {
		return func() {}
	}
	m.websockets.Inc()
	return m.websockets.Dec
}

// SubscriptionStarted counts an active subscription of kind until ended is
// called.
func (m *Metrics) SubscriptionStarted(kind string) (ended func()) {
	if m == nil {
		return func() {}
	}
	g := m.subscriptions.WithLabelValues(kind)
	g.Inc()
	return g.Dec
}

// Handler serves the metrics in Prometheus's text format. With a secret,
// only to a scraper that sends it as Authorization: Bearer <secret> (as
// Hasura's HASURA_GRAPHQL_METRICS_SECRET); without one, only when open
// (the embedded mode on a developer's machine), else it is no endpoint.
func (m *Metrics) Handler(secret string, open bool) http.Handler {
	serve := promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch {
		case secret == "" && !open:
			writeError(w, http.StatusNotFound, "resource does not exist", "not-found")
			return
		case secret != "":
			want := "Bearer " + secret
			if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
				writeError(w, http.StatusUnauthorized, "the metrics need Authorization: Bearer <HASURA_GRAPHQL_METRICS_SECRET>", "access-denied")
				return
			}
		}
		serve.ServeHTTP(w, r)
	})
}

func writeError(w http.ResponseWriter, status int, message, code string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"path":"$","error":"` + message + `","code":"` + code + `"}`))
}

// poolCollector reads the database pool's figures when scraped.
type poolCollector struct{ pool *pgxpool.Pool }

var (
	// Hasura's, for its one source; conn_info names the setting, never
	// the URL (which holds a password).
	poolConnections = prometheus.NewDesc("hasura_postgres_connections", "Number of connections open to PostgreSQL",
		nil, prometheus.Labels{"source_name": "default", "conn_info": "DATABASE_URL", "role": "primary"})
	poolMax = prometheus.NewDesc("hasura_postgres_max_connections", "Most connections the pool opens to PostgreSQL",
		nil, prometheus.Labels{"source_name": "default", "conn_info": "DATABASE_URL", "role": "primary"})
	poolAcquired = prometheus.NewDesc("freshgraph_postgres_pool_acquired_connections", "Connections of the pool in use",
		nil, nil)
	poolIdle  = prometheus.NewDesc("freshgraph_postgres_pool_idle_connections", "Connections of the pool idle", nil, nil)
	poolWaits = prometheus.NewDesc("freshgraph_postgres_pool_empty_acquires_total",
		"Acquires that waited because the pool had no idle connection: the pool is saturated when this grows", nil, nil)
	poolWaitTime = prometheus.NewDesc("freshgraph_postgres_pool_acquire_seconds_total",
		"Time spent acquiring connections from the pool", nil, nil)
)

func (c poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{poolConnections, poolMax, poolAcquired, poolIdle, poolWaits, poolWaitTime} {
		ch <- d
	}
}

func (c poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(poolConnections, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(poolAcquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(poolIdle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
	ch <- prometheus.MustNewConstMetric(poolWaitTime, prometheus.CounterValue, s.AcquireDuration().Seconds())
}
