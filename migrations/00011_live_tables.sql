-- Live queries: a write to a tracked table is announced on the channel
-- freshgraph_changes with the table's schema and name, once per table and
-- transaction (PostgreSQL folds equal notifications of one transaction),
-- whoever wrote it. The triggers that call this are put on each tracked
-- table at start (internal/livequery.Capture), since a project's tables come
-- from its own migrations. The payload names only the table: the live query
-- hub re-runs what reads it, and no row's value is ever in a notification,
-- which any role that may LISTEN could read.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION freshgraph_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('freshgraph_changes', json_build_array(TG_TABLE_SCHEMA, TG_TABLE_NAME)::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION freshgraph_notify_change() CASCADE;
