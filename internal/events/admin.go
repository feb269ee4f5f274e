package events

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// metadataError is an error of Hasura's metadata API: HTTP 400 with
// {path, error, code}.
type metadataError struct {
	status int
	Path   string `json:"path"`
	Error  string `json:"error"`
	Code   string `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// MetadataAPI answers the event calls of Hasura's metadata API
// (POST /v1/metadata) for the admin: pg_redeliver_event and
// pg_invoke_event_trigger. isAdmin says whether the request is the
// admin's; s may be nil (a project without triggers).
func MetadataAPI(s *Service, isAdmin func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fail := func(e metadataError) {
			if e.status == 0 {
				e.status = http.StatusBadRequest
			}
			writeJSON(w, e.status, e)
		}
		if !isAdmin(r) {
			fail(metadataError{Path: "$", Error: "restricted access : admin only", Code: "access-denied"})
			return
		}
		var call struct {
			Type string          `json:"type"`
			Args json.RawMessage `json:"args"`
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil || json.Unmarshal(body, &call) != nil {
			fail(metadataError{Path: "$", Error: "the body is not a JSON object {type, args}", Code: "parse-failed"})
			return
		}
		var answer any
		var e *metadataError
		switch call.Type {
		case "pg_redeliver_event":
			answer, e = s.redeliver(r.Context(), call.Args)
		case "pg_invoke_event_trigger":
			answer, e = s.invoke(r.Context(), call.Args)
		default:
			e = &metadataError{Path: "$.type", Error: "freshgraph's metadata API answers pg_redeliver_event and pg_invoke_event_trigger; " +
				"the metadata is read from HASURA_GRAPHQL_METADATA_DIR at start", Code: "not-supported"}
		}
		if e != nil {
			fail(*e)
			return
		}
		writeJSON(w, http.StatusOK, answer)
	})
}

// redeliver makes an event (or cron event) due again with no tries
// counted, whatever its state (Hasura's pg_redeliver_event). An
// asynchronous action's call is not an event: its result stands.
func (s *Service) redeliver(ctx context.Context, raw json.RawMessage) (any, *metadataError) {
	var args struct {
		EventID string `json:"event_id"`
		Source  string `json:"source"`
	}
	if err := json.Unmarshal(raw, &args); err != nil || args.EventID == "" {
		return nil, &metadataError{Path: "$.args", Error: "expected {event_id}", Code: "parse-failed"}
	}
	if _, err := uuid.Parse(args.EventID); err != nil || s == nil {
		return nil, &metadataError{Path: "$.args", Error: "event not found", Code: "not-exists"}
	}
	tag, err := s.cfg.Pool.Exec(ctx, `UPDATE freshgraph_event_log SET status = 'pending', tries = 0, next_attempt_at = now(), finished_at = NULL WHERE id = $1 AND kind <> 'action'`, args.EventID)
	if err != nil {
		return nil, s.unexpected(err)
	}
	if tag.RowsAffected() == 0 {
		return nil, &metadataError{Path: "$.args", Error: "event not found", Code: "not-exists"}
	}
	return map[string]string{"message": "success"}, nil
}

// invoke logs a manual event of a trigger with enable_manual, its row
// the payload given (Hasura's pg_invoke_event_trigger).
func (s *Service) invoke(ctx context.Context, raw json.RawMessage) (any, *metadataError) {
	var args struct {
		Name    string          `json:"name"`
		Source  string          `json:"source"`
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.Unmarshal(raw, &args); err != nil || args.Name == "" {
		return nil, &metadataError{Path: "$.args", Error: "expected {name, payload}", Code: "parse-failed"}
	}
	var t *target
	if s != nil {
		t = s.targets[kindEvent+"/"+args.Name]
	}
	if t == nil {
		return nil, &metadataError{Path: "$.args.name", Error: "event trigger " + args.Name + " does not exist", Code: "not-exists"}
	}
	if !t.definition.EnableManual {
		return nil, &metadataError{Path: "$.args.name", Error: "manual mode is not enabled for event trigger", Code: "not-supported"}
	}
	payload := args.Payload
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	var id string
	err := s.cfg.Pool.QueryRow(ctx, `INSERT INTO freshgraph_event_log (kind, trigger_name, schema_name, table_name, op, data, session_variables)
		VALUES ('event', $1, $2, $3, 'MANUAL', json_build_object('old', NULL, 'new', $4::json), '{"x-hasura-role":"admin"}') RETURNING id`,
		t.name, t.table.Schema, t.table.Name, string(payload)).Scan(&id)
	if err != nil {
		return nil, s.unexpected(err)
	}
	return map[string]string{"event_id": id}, nil
}

func (s *Service) unexpected(err error) *metadataError {
	if !errors.Is(err, context.Canceled) {
		s.cfg.Logger.Error("events: metadata API", "err", err)
	}
	return &metadataError{status: http.StatusInternalServerError, Path: "$", Error: "unexpected error", Code: "unexpected"}
}

// TriggerStats is one trigger's figures in the log.
type TriggerStats struct {
	Kind      string `json:"kind"` // event, cron or action
	Name      string `json:"name"`
	Pending   int64  `json:"pending"` // cron: due ones only, not the times ahead
	Delivered int64  `json:"delivered"`
	Failed    int64  `json:"failed"`
	// OldestPendingSeconds is how long the oldest due event has waited.
	OldestPendingSeconds float64 `json:"oldest_pending_seconds"`
}

// Stats reads each trigger's figures, those in the log for triggers the
// metadata no longer has included. It reads the whole log (delivered rows
// are counted): for the admin, on demand.
func (s *Service) Stats(ctx context.Context) ([]TriggerStats, error) {
	rows, err := s.cfg.Pool.Query(ctx, `SELECT kind, trigger_name,
			count(*) FILTER (WHERE status = 'pending' AND coalesce(scheduled_time, created_at) <= now()),
			count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status = 'failed'),
			coalesce(extract(epoch FROM now() - min(coalesce(scheduled_time, created_at)) FILTER (WHERE status = 'pending' AND coalesce(scheduled_time, created_at) <= now())), 0)::float8
		FROM freshgraph_event_log GROUP BY kind, trigger_name ORDER BY kind DESC, trigger_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TriggerStats, error) {
		var t TriggerStats
		err := r.Scan(&t.Kind, &t.Name, &t.Pending, &t.Delivered, &t.Failed, &t.OldestPendingSeconds)
		return t, err
	})
}

// StatsHandler answers GET /v1/events for the admin: each trigger's
// figures, as JSON.
func StatsHandler(s *Service, isAdmin func(*http.Request) bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isAdmin(r) {
			writeJSON(w, http.StatusForbidden, metadataError{Path: "$", Error: "restricted access : admin only", Code: "access-denied"})
			return
		}
		stats := []TriggerStats{}
		if s != nil {
			var err error
			if stats, err = s.Stats(r.Context()); err != nil {
				writeJSON(w, http.StatusInternalServerError, *s.unexpected(err))
				return
			}
		}
		writeJSON(w, http.StatusOK, stats)
	})
}

// waiting is each trigger's due and failed rows, read through their
// partial indexes only (the delivered rows may be millions).
func (s *Service) waiting(ctx context.Context) ([]TriggerStats, error) {
	rows, err := s.cfg.Pool.Query(ctx, `SELECT kind, trigger_name,
			count(*) FILTER (WHERE status = 'pending'), count(*) FILTER (WHERE status = 'failed'),
			coalesce(extract(epoch FROM now() - min(coalesce(scheduled_time, created_at)) FILTER (WHERE status = 'pending')), 0)::float8
		FROM (SELECT kind, trigger_name, status, scheduled_time, created_at FROM freshgraph_event_log
				WHERE status = 'pending' AND next_attempt_at <= now()
			UNION ALL SELECT kind, trigger_name, status, scheduled_time, created_at FROM freshgraph_event_log WHERE status = 'failed') l
		GROUP BY kind, trigger_name ORDER BY kind DESC, trigger_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TriggerStats, error) {
		var t TriggerStats
		err := r.Scan(&t.Kind, &t.Name, &t.Pending, &t.Failed, &t.OldestPendingSeconds)
		return t, err
	})
}

// statsInterval is how often the triggers' figures are logged while any
// event waits or has failed.
const statsInterval = time.Minute

// logStats logs each trigger's figures every statsInterval while one has
// due events waiting or failed ones.
func (s *Service) logStats(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(statsInterval):
		}
		waiting, err := s.waiting(ctx)
		if err != nil {
			continue
		}
		for _, t := range waiting {
			s.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "events: trigger", slog.String("kind", t.Kind), slog.String("trigger", t.Name),
				slog.Int64("pending", t.Pending), slog.Int64("failed", t.Failed), slog.Float64("oldest_pending_seconds", t.OldestPendingSeconds))
		}
	}
}
