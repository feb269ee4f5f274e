-- hasura/graphql-engine server/tests-py/queries/graphql_query/permissions/setup.yaml (abridged)
CREATE TABLE "Artist" (id serial PRIMARY KEY, name text NOT NULL);
INSERT INTO "Artist" (id, name) VALUES (1, 'Camilla'), (2, 'DSP'), (3, 'Akon');
CREATE TABLE "Track" (id serial PRIMARY KEY, name text NOT NULL, artist_id integer REFERENCES "Artist"("id"));
INSERT INTO "Track" (id, name, artist_id) VALUES (1, 'Keepup', 1), (2, 'Keepdown', 1), (3, 'Happy', 2);
CREATE TABLE jsonb_table (id INTEGER NOT NULL PRIMARY KEY, jsonb_col jsonb NOT NULL);
INSERT INTO jsonb_table (id, jsonb_col) VALUES (1, '{"name": "Hasura", "age": 7}'), (2, '{"name": "Cross"}');
CREATE TABLE auction (id serial primary key, price integer not null DEFAULT 250, bid_price integer);
INSERT INTO auction (bid_price) VALUES (100), (120), (300), (260);
