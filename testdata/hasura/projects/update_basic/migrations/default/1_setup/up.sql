-- hasura/graphql-engine server/tests-py/queries/graphql_mutation/update/basic/schema_setup.yaml, values_setup.yaml
-- (abridged: no PostGIS location column)
create table author(
    id serial primary key,
    name text unique,
    emails text[] not null default '{}'::text[],
    info jsonb);
CREATE TABLE article (id SERIAL PRIMARY KEY, title TEXT, content TEXT,
  author_id INTEGER REFERENCES author(id), is_published BOOLEAN, published_on TIMESTAMP);
CREATE TABLE person (id SERIAL PRIMARY KEY, details JSONB NOT NULL);
INSERT INTO author (name, info) VALUES ('Author 1', '{"age": 23}'), ('Author 2', NULL);
INSERT INTO person (details) VALUES ('{"name": {"first": "foo", "last": "bar"}, "address": "foobar"}');
