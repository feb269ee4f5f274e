-- Hasura's own test schema of Actions:
-- server/tests-py/queries/actions/sync/schema_setup.yaml
CREATE TABLE "user"(
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  is_admin BOOLEAN NOT NULL DEFAULT false
);
CREATE TABLE "article"(
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  user_id INTEGER
);
INSERT INTO "article" (name, user_id) VALUES
  ('foo', 1),
  ('bar', 1),
  ('bar', 1),
  ('baz', 2);
