-- The versions of a Hasura project's migrations (HASURA_GRAPHQL_MIGRATIONS_DIR)
-- that have been applied, so that each runs once.

-- +goose Up
CREATE TABLE freshgraph_app_migrations (
    version bigint PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE freshgraph_app_migrations;
