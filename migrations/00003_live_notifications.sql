-- Live sessions: every change to a users row, and every change to or removal
-- of a sessions row, is announced on the channel freshgraph_live, whoever made
-- it (this server, another instance, Hasura, plain SQL). Each instance LISTENs
-- once and re-reads what changed. A session is named by the SHA-256 of its
-- token: the token itself is a credential, and any role that may LISTEN could
-- read the payloads.

-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION freshgraph_notify_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('freshgraph_live', json_build_object('user', OLD.id)::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION freshgraph_notify_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('freshgraph_live', json_build_object(
        'session', encode(sha256(convert_to(OLD."sessionToken", 'UTF8')), 'hex'))::text);
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER freshgraph_users_live AFTER UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION freshgraph_notify_user();
CREATE TRIGGER freshgraph_sessions_live AFTER UPDATE OR DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION freshgraph_notify_session();

-- +goose Down
DROP TRIGGER freshgraph_sessions_live ON sessions;
DROP TRIGGER freshgraph_users_live ON users;
DROP FUNCTION freshgraph_notify_session();
DROP FUNCTION freshgraph_notify_user();
