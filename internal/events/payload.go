package events

import (
	"encoding/json"
	"time"
)

// eventPayload is the body Hasura POSTs to an event trigger's webhook.
type eventPayload struct {
	Event struct {
		SessionVariables json.RawMessage `json:"session_variables"`
		Op               string          `json:"op"`
		Data             json.RawMessage `json:"data"`
		TraceContext     json.RawMessage `json:"trace_context,omitempty"`
	} `json:"event"`
	CreatedAt    string `json:"created_at"`
	ID           string `json:"id"`
	DeliveryInfo struct {
		MaxRetries   int `json:"max_retries"`
		CurrentRetry int `json:"current_retry"`
	} `json:"delivery_info"`
	Trigger struct {
		Name string `json:"name"`
	} `json:"trigger"`
	Table struct {
		Schema string `json:"schema"`
		Name   string `json:"name"`
	} `json:"table"`
}

// cronPayload is the body Hasura POSTs to a cron trigger's webhook
// (ScheduledEventWebhookPayload: no created_at for a cron event, no
// comment when the trigger has none).
type cronPayload struct {
	ID            string          `json:"id"`
	Name          string          `json:"name"`
	ScheduledTime string          `json:"scheduled_time"`
	Payload       json.RawMessage `json:"payload"`
	Comment       *string         `json:"comment,omitempty"`
}

// payload is the body of r's call.
func payload(r row, t *target) ([]byte, error) {
	if r.kind == kindCron {
		return json.Marshal(cronPayload{ScheduledTime: r.scheduledTime.UTC().Format(time.RFC3339),
			Payload: t.payload, Name: r.trigger, ID: r.id, Comment: t.comment})
	}
	var p eventPayload
	p.Event.SessionVariables = orNull(r.sessionVariables)
	p.Event.Op = deref(r.op)
	p.Event.Data = orNull(r.data)
	p.CreatedAt = r.createdAt.UTC().Format(createdAtLayout)
	p.ID = r.id
	p.DeliveryInfo.MaxRetries = t.numRetries
	p.DeliveryInfo.CurrentRetry = r.tries
	p.Trigger.Name = r.trigger
	p.Table.Schema = deref(r.schema)
	p.Table.Name = deref(r.table)
	return json.Marshal(p)
}

// createdAtLayout is how Hasura writes an event's created_at: UTC, to the
// microsecond, with no zone.
const createdAtLayout = "2006-01-02T15:04:05.999999"

func orNull(v json.RawMessage) json.RawMessage {
	if len(v) == 0 {
		return json.RawMessage("null")
	}
	return v
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
