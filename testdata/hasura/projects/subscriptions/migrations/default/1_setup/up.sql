-- Hasura's own subscription fixtures (server/tests-py/queries/subscriptions/
-- live_queries/setup.yaml and streaming/setup.yaml), whose schema the
-- harness creates.
CREATE SCHEMA hge_tests;
CREATE TABLE hge_tests.test_t2 (
    c1 int,
    c2 text,
    created_at timestamptz DEFAULT now()
);
CREATE TABLE hge_tests.articles (
    id serial PRIMARY KEY,
    content text,
    title text,
    is_public bool DEFAULT false
);
CREATE TABLE hge_tests.users (
    id int PRIMARY KEY,
    name text
);
INSERT INTO hge_tests.users (id, name) VALUES (1, 'Name 1'), (2, 'Name 2');
