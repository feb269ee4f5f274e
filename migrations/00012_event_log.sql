-- Event and cron triggers' durable log (internal/events owns it). A table's
-- event trigger writes its row here in the writer's own transaction, so a
-- committed change always has its event and a rolled-back one never does,
-- whoever writes; a cron trigger's scheduled times are rows too, one per
-- trigger and time. Deliverers on every instance take due rows with
-- FOR UPDATE SKIP LOCKED; a take moves next_attempt_at past the call's
-- timeout, so the rows of an instance that dies mid-call come due again.

-- +goose Up
CREATE TABLE freshgraph_event_log (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind text NOT NULL CHECK (kind IN ('event', 'cron')),
    trigger_name text NOT NULL,
    -- An event's table, operation, {old, new} rows and the writer's
    -- session variables (hasura.user, as Hasura's triggers read them).
    schema_name text,
    table_name text,
    op text,
    data json,
    session_variables json,
    -- A cron trigger's time.
    scheduled_time timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    tries integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
CREATE INDEX freshgraph_event_log_due ON freshgraph_event_log (next_attempt_at) WHERE status = 'pending';
CREATE INDEX freshgraph_event_log_finished ON freshgraph_event_log (finished_at) WHERE status <> 'pending';
CREATE INDEX freshgraph_event_log_failed ON freshgraph_event_log (trigger_name) WHERE status = 'failed';
CREATE UNIQUE INDEX freshgraph_event_log_cron_time ON freshgraph_event_log (trigger_name, scheduled_time) WHERE kind = 'cron';

-- Every call of a webhook: its HTTP status (NULL: no answer), the start of
-- the answer's body or the error, and how long it took.
CREATE TABLE freshgraph_event_attempts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL REFERENCES freshgraph_event_log ON DELETE CASCADE,
    status integer,
    response text NOT NULL,
    duration_ms integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX freshgraph_event_attempts_event ON freshgraph_event_attempts (event_id);

-- The function every event trigger calls: TG_ARGV[0] is the trigger's
-- name, TG_ARGV[1] the columns the event carries ('*' or a text[] literal).
-- SECURITY DEFINER, so that any role that may write a table can log its
-- events without a grant on the log; EXECUTE is revoked from PUBLIC, so
-- that no other role can put it on a table of its own and forge events
-- (PostgreSQL checks EXECUTE when a trigger is created).
-- +goose StatementBegin
CREATE FUNCTION freshgraph_record_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
DECLARE
    old_row json;
    new_row json;
    carried text[];
BEGIN
    IF TG_OP <> 'INSERT' THEN
        old_row := row_to_json(OLD);
    END IF;
    IF TG_OP <> 'DELETE' THEN
        new_row := row_to_json(NEW);
    END IF;
    IF TG_ARGV[1] <> '*' THEN
        carried := TG_ARGV[1]::text[];
        IF old_row IS NOT NULL THEN
            old_row := coalesce((SELECT json_object_agg(key, value) FROM json_each(old_row) WHERE key = ANY (carried)), '{}');
        END IF;
        IF new_row IS NOT NULL THEN
            new_row := coalesce((SELECT json_object_agg(key, value) FROM json_each(new_row) WHERE key = ANY (carried)), '{}');
        END IF;
    END IF;
    INSERT INTO freshgraph_event_log (kind, trigger_name, schema_name, table_name, op, data, session_variables)
    VALUES ('event', TG_ARGV[0], TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP,
            json_build_object('old', old_row, 'new', new_row),
            nullif(current_setting('hasura.user', true), '')::json);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
REVOKE EXECUTE ON FUNCTION freshgraph_record_event() FROM PUBLIC;

-- +goose Down
DROP FUNCTION freshgraph_record_event() CASCADE;
DROP TABLE freshgraph_event_attempts;
DROP TABLE freshgraph_event_log;
