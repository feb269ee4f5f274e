-- signUp refuses an email that any user has in another letter case, and
-- signIn finds a user whatever the case of the stored email: both look users
-- up by lower(email). Not unique: rows written by the Auth.js adapter may
-- already differ only in case.

-- +goose Up
CREATE INDEX users_email_lower_idx ON users (lower(email));

-- +goose Down
DROP INDEX users_email_lower_idx;
