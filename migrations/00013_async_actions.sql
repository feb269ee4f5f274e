-- Asynchronous actions go through the durable log of event triggers
-- (internal/events owns it): a mutation writes the call's row, of kind
-- 'action', in its own transaction; a deliverer on any instance calls the
-- handler, at least once, and keeps what it answered (output) or the error
-- (errors), which <action>(id:) reads. The client's forwarded headers wait
-- in request_headers for the call, and are deleted once it is made.

-- +goose Up
ALTER TABLE freshgraph_event_log DROP CONSTRAINT freshgraph_event_log_kind_check,
    ADD CONSTRAINT freshgraph_event_log_kind_check CHECK (kind IN ('event', 'cron', 'action')),
    ADD COLUMN request_headers json,
    ADD COLUMN output json,
    ADD COLUMN errors json;

-- +goose Down
DELETE FROM freshgraph_event_log WHERE kind = 'action';
ALTER TABLE freshgraph_event_log DROP COLUMN request_headers, DROP COLUMN output, DROP COLUMN errors,
    DROP CONSTRAINT freshgraph_event_log_kind_check,
    ADD CONSTRAINT freshgraph_event_log_kind_check CHECK (kind IN ('event', 'cron'));
