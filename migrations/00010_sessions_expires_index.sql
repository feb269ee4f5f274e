-- The cleanup of expired sessions (and verification tokens) finds them by
-- their expiry, in small batches, without reading the whole table.

-- +goose Up
CREATE INDEX freshgraph_sessions_expires ON sessions (expires);
CREATE INDEX freshgraph_verification_tokens_expires ON verification_tokens (expires);

-- +goose Down
DROP INDEX freshgraph_verification_tokens_expires;
DROP INDEX freshgraph_sessions_expires;
