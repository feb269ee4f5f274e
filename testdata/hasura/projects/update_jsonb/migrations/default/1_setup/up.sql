-- hasura/graphql-engine server/tests-py/queries/graphql_mutation/update/jsonb/schema_setup.yaml, values_setup.yaml
CREATE TABLE person (id SERIAL PRIMARY KEY, details JSONB NOT NULL);
INSERT INTO person (details) VALUES
  ('{"name": {"first": "John", "last": "Taylor"}}'),
  ('[{"address": {"city": "Copenhagen", "country": "Denmark"}}, {"address": {"city": "Canterbury", "country": "United Kingdom"}}]'),
  ('{"address": {"city": "Copenhagen", "country": "Denmark"}, "name": {"first": "Robert", "last": "Wilson"}}');
