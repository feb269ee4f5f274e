// Package events serves a Hasura project's event triggers and cron triggers:
// it owns the durable log (migration 00012, freshgraph_event_log and
// freshgraph_event_attempts), puts each event trigger on its table, writes
// each cron trigger's scheduled times, and delivers the log's rows to their
// webhooks with Hasura's payloads, at least once, from any instance.
//
// An event is written by a trigger in the writer's own transaction, so it
// exists exactly when its change committed, whoever wrote it. Deliverers
// take due rows with FOR UPDATE SKIP LOCKED and, in the same statement,
// move them past the call's timeout: the rows of an instance that dies
// mid-call come due again on their own, and are delivered once more.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/robfig/cron/v3"

	"github.com/freshgraph/freshgraph/internal/metadata"
	"github.com/freshgraph/freshgraph/internal/metrics"
	"github.com/freshgraph/freshgraph/internal/tracing"
	"github.com/freshgraph/freshgraph/internal/webhook"
)

// The kinds of rows in the log.
const (
	kindEvent  = "event"
	kindCron   = "cron"
	kindAction = "action"
)

// ActionsChannel is where the log announces, with its id, each
// asynchronous action whose call is done, for its subscribers.
const ActionsChannel = "freshgraph_actions"

// ActionRunner calls the handlers of a project's asynchronous actions
// (internal/actions), whose calls the log keeps.
type ActionRunner interface {
	// AsyncActions are the asynchronous actions' names and the timeouts
	// of their handlers.
	AsyncActions() map[string]time.Duration
	// RunAsync calls the handler of the action name with a logged call's
	// input, session variables and forwarded client headers (a JSON
	// object of header names to values).
	RunAsync(ctx context.Context, name string, input, sessionVariables, headers json.RawMessage) ActionResult
}

// ActionResult is what a call of an asynchronous action came to.
type ActionResult struct {
	// Output is the handler's answer, checked against the action's output
	// type; Errors, when it did not give one, Hasura's {path, error, code}.
	Output, Errors json.RawMessage
	Status         int // the answer's HTTP status; 0: none
	Response       string
	Duration       time.Duration
	// Cut: the call was cut short by ctx's end, not answered.
	Cut bool
}

// Config is what the service needs; zero values take Hasura's defaults.
type Config struct {
	Pool   *pgxpool.Pool
	Logger *slog.Logger
	// Getenv resolves webhook_from_env, value_from_env and {{VAR}}
	// templates.
	Getenv func(string) string
	// HTTPPoolSize is how many webhook calls run at once
	// (HASURA_GRAPHQL_EVENTS_HTTP_POOL_SIZE, 100).
	HTTPPoolSize int
	// FetchInterval is how often due rows are looked for while there are
	// none (HASURA_GRAPHQL_EVENTS_FETCH_INTERVAL, 1 s).
	FetchInterval time.Duration
	// FetchBatchSize is how many rows one look takes at most
	// (HASURA_GRAPHQL_EVENTS_FETCH_BATCH_SIZE, 100).
	FetchBatchSize int
	// Retention is how long delivered and failed rows are kept
	// (EVENTS_RETENTION, 7 days).
	Retention time.Duration
	// Actions calls the asynchronous actions' handlers (nil: none).
	Actions ActionRunner
	// Metrics count the calls and the rows finished.
	Metrics *metrics.Metrics
	// Tracer traces the webhooks' calls (nil: not traced).
	Tracer *tracing.Tracer
}

func (c *Config) defaults() {
	if c.HTTPPoolSize <= 0 {
		c.HTTPPoolSize = 100
	}
	if c.FetchInterval <= 0 {
		c.FetchInterval = time.Second
	}
	if c.FetchBatchSize <= 0 {
		c.FetchBatchSize = 100
	}
	if c.Retention <= 0 {
		c.Retention = 7 * 24 * time.Hour
	}
}

// target is one trigger, resolved: where and how its rows are delivered.
type target struct {
	kind, name string
	url        string
	headers    http.Header
	numRetries int
	interval   time.Duration
	timeout    time.Duration

	// An event trigger's table and operations.
	table      metadata.QualifiedTable
	definition metadata.TriggerDefinition

	// A cron trigger's schedule, payload, comment and tolerance of lateness.
	schedule  cron.Schedule
	payload   json.RawMessage
	comment   *string
	tolerance time.Duration
}

// key names a target in the log: its kind and name.
func (t *target) key() string { return t.kind + "/" + t.name }

// Service delivers a project's events and cron events.
type Service struct {
	cfg     Config
	targets map[string]*target // by key
	client  *http.Client
	wake    chan struct{}
}

// New resolves the triggers of md (their URLs and headers from the
// environment); it fails, naming the file, on a variable that is not set.
// A project without triggers gets a nil Service.
func New(cfg Config, md *metadata.Metadata) (*Service, error) {
	cfg.defaults()
	s := &Service{cfg: cfg, targets: map[string]*target{}, wake: make(chan struct{}, 1)}
	if cfg.Actions != nil {
		for name, timeout := range cfg.Actions.AsyncActions() {
			tg := &target{kind: kindAction, name: name, timeout: timeout}
			s.targets[tg.key()] = tg
		}
	}
	for _, t := range md.Tables {
		for _, et := range t.EventTriggers {
			url := et.Webhook
			if et.WebhookFromEnv != "" {
				if url = cfg.Getenv(et.WebhookFromEnv); url == "" {
					return nil, fmt.Errorf("%s: event trigger %s: webhook_from_env: environment variable %s is not set", t.File, et.Name, et.WebhookFromEnv)
				}
			}
			tg := &target{kind: kindEvent, name: et.Name, table: t.Table, definition: et.Definition,
				numRetries: orDefault(et.RetryConf.NumRetries, 0),
				interval:   time.Duration(orDefault(et.RetryConf.IntervalSec, 10)) * time.Second,
				timeout:    time.Duration(orDefault(et.RetryConf.TimeoutSec, 60)) * time.Second}
			if err := tg.resolve(url, et.Headers, cfg.Getenv); err != nil {
				return nil, fmt.Errorf("%s: event trigger %s: %w", t.File, et.Name, err)
			}
			s.targets[tg.key()] = tg
		}
	}
	for _, ct := range md.CronTriggers {
		schedule, err := metadata.CronSchedule(ct.Schedule)
		if err != nil {
			return nil, fmt.Errorf("%s: cron trigger %s: %w", ct.File, ct.Name, err)
		}
		payload, err := json.Marshal(ct.Payload)
		if err != nil {
			return nil, fmt.Errorf("%s: cron trigger %s: payload: %w", ct.File, ct.Name, err)
		}
		r := ct.RetryConf
		tg := &target{kind: kindCron, name: ct.Name, schedule: schedule, payload: payload,
			numRetries: orDefault(r.NumRetries, 0),
			interval:   time.Duration(orDefault(r.RetryIntervalSeconds, 10)) * time.Second,
			timeout:    time.Duration(orDefault(r.TimeoutSeconds, 60)) * time.Second,
			tolerance:  time.Duration(orDefault(r.ToleranceSeconds, 21600)) * time.Second}
		if ct.Comment != "" {
			tg.comment = &ct.Comment
		}
		if err := tg.resolve(ct.Webhook, ct.Headers, cfg.Getenv); err != nil {
			return nil, fmt.Errorf("%s: cron trigger %s: %w", ct.File, ct.Name, err)
		}
		s.targets[tg.key()] = tg
	}
	if len(s.targets) == 0 {
		return nil, nil
	}
	s.client = webhook.NewClient(cfg.HTTPPoolSize, cfg.Tracer)
	return s, nil
}

// Wake has the deliverer look for due rows now, not at its next fetch: a
// row was just written (an asynchronous action's call).
func (s *Service) Wake() {
	if s == nil {
		return
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// HasEventTriggers reports whether any table has an event trigger, so
// that mutations must leave their session variables for the events.
func HasEventTriggers(md *metadata.Metadata) bool {
	for _, t := range md.Tables {
		if len(t.EventTriggers) > 0 {
			return true
		}
	}
	return false
}

func orDefault(v *int, def int) int {
	if v == nil {
		return def
	}
	return *v
}

// resolve sets the target's URL and headers from the environment.
func (t *target) resolve(url string, headers []metadata.Header, getenv func(string) string) (err error) {
	t.url, t.headers, err = webhook.Resolve(url, headers, getenv)
	return err
}
