-- What a person sees of their signed-in devices, beside Auth.js's sessions
-- table (which the adapter writes and this table leaves alone): when and
-- from where a session was started, and when it was last used. A session
-- Auth.js started has no row here until it is used through freshgraph. The
-- row goes with its session.

-- +goose Up
CREATE TABLE freshgraph_session_devices (
    "sessionToken" text PRIMARY KEY REFERENCES sessions ("sessionToken") ON DELETE CASCADE,
    created_at timestamptz,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    user_agent text,
    address text
);

-- +goose Down
DROP TABLE freshgraph_session_devices;
