-- hasura/graphql-engine server/tests-py/queries/graphql_query/boolexp/basic/setup.yaml (abridged)
create table author(
    id serial primary key,
    name text unique,
    is_registered boolean not null default false
);
INSERT INTO author(name, is_registered) VALUES ('Author 1', true), ('Author 2', true), ('Author 3', false);
CREATE TABLE article (
  id SERIAL PRIMARY KEY, title TEXT, content TEXT,
  author_id INTEGER REFERENCES author(id),
  is_published BOOLEAN, published_on TIMESTAMP);
insert into article (title,content,author_id,is_published) values
  ('Article 1','Sample article content 1',1,false),
  ('Article 2','Sample article content 2',1,true),
  ('Article 3','Sample article content 3',2,false),
  ('Article 4','Sample article content 4',3,true);
CREATE TABLE uuid_test (id serial primary key, uuid_col UUID NOT NULL);
INSERT INTO uuid_test (uuid_col) VALUES ('28d6d683-1317-49f7-b1cf-7d195242e4e5'), ('28d6d683-1317-49f7-b1cf-7d195242e4e6'), ('28d6d683-1317-49f7-b1cf-7d195242e4e7');
CREATE TABLE table_with_sql_identifier (id serial PRIMARY KEY, sql_id information_schema.sql_identifier);
INSERT INTO table_with_sql_identifier (sql_id) VALUES ('one'),('one'),('two'),('three'),('four'),('one'),('two');
