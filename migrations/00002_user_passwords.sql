-- Password hashes for signUp/signIn. They live beside the Auth.js tables, in a
-- table that the GraphQL schema never exposes, so the Auth.js schema stays as
-- the adapter expects it.

-- +goose Up
CREATE TABLE user_passwords (
    "userId" uuid PRIMARY KEY REFERENCES users(id) ON UPDATE RESTRICT ON DELETE CASCADE,
    hash text NOT NULL,
    "updatedAt" timestamptz NOT NULL DEFAULT now()
);
-- Deleting a user cascades to its sessions; sign-out of all devices and the
-- live session look sessions up by user.
CREATE INDEX "sessions_userId_idx" ON sessions ("userId");

-- +goose Down
DROP INDEX "sessions_userId_idx";
DROP TABLE user_passwords;
