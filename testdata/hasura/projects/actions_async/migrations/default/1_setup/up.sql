-- Hasura's own test schema of asynchronous Actions:
-- server/tests-py/queries/actions/async/schema_setup.yaml
CREATE TABLE "user"(
  id SERIAL PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  is_admin BOOLEAN NOT NULL DEFAULT false
);
