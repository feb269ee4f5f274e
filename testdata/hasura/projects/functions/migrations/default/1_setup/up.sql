-- Hasura's own test schemas of tracked functions:
-- server/tests-py/queries/graphql_query/functions/setup.yaml (post,
-- search_posts, integer_column, my_add; get_session_var from an earlier
-- version of it) and …/functions/permissions/setup.yaml (author, article,
-- get_articles).
create table post (id serial PRIMARY KEY, title TEXT, content TEXT);
create function search_posts(search text) returns setof post as $$
  select * from post where title ilike ('%'||search||'%') or content ilike ('%'||search||'%')
$$ language sql stable;
insert into post (title, content) values ('post by hasura','content for post'),('post by another','content for another post');
CREATE TABLE integer_column (result integer);
CREATE FUNCTION my_add (first integer, second integer DEFAULT 10) RETURNS SETOF integer_column as $$
  SELECT q.* FROM (VALUES (first + second)) as q $$ LANGUAGE SQL STABLE;
CREATE TABLE text_result(result text);
CREATE FUNCTION get_session_var(hasura_session json, session_var text) RETURNS SETOF text_result AS $$
  SELECT q.* FROM (VALUES (hasura_session ->> session_var)) q $$ LANGUAGE sql STABLE;

CREATE TABLE author (id SERIAL PRIMARY KEY, name TEXT UNIQUE);
CREATE TABLE article (
  id SERIAL PRIMARY KEY,
  title TEXT,
  content TEXT,
  author_id INTEGER REFERENCES author(id),
  is_published BOOLEAN
);
INSERT INTO author (name) VALUES ('Author 1'), ('Author 2');
INSERT INTO article (title, content, author_id, is_published) VALUES
  ('Article 1', 'Sample article content 1', 1, false),
  ('Article 2', 'Sample article content 2', 1, true),
  ('Article 3', 'Sample article content 3', 2, true),
  ('Article 4', 'Sample article content 4', 2, false);
CREATE FUNCTION get_articles(search text) RETURNS SETOF article AS $$
  SELECT * FROM article WHERE title ilike ('%' || search || '%') OR content ilike ('%' || search || '%')
$$ LANGUAGE sql STABLE;

-- freshgraph's own: a volatile function (a mutation), one that returns one
-- row, and one with a custom name.
CREATE FUNCTION publish_article(article_id integer) RETURNS SETOF article AS $$
  UPDATE article SET is_published = true WHERE id = article_id RETURNING *
$$ LANGUAGE sql VOLATILE;
CREATE FUNCTION first_article() RETURNS article AS $$
  SELECT * FROM article ORDER BY id LIMIT 1
$$ LANGUAGE sql STABLE;
CREATE FUNCTION unaliased_function(search text) RETURNS SETOF post AS $$
  select * from post where title ilike ('%'||search||'%')
$$ LANGUAGE sql STABLE;

-- Not tracked: functions the refusal tests track.
CREATE FUNCTION overloaded(a integer) RETURNS SETOF post AS $$ SELECT * FROM post $$ LANGUAGE sql STABLE;
CREATE FUNCTION overloaded(a text) RETURNS SETOF post AS $$ SELECT * FROM post $$ LANGUAGE sql STABLE;
CREATE FUNCTION returns_int() RETURNS integer AS $$ SELECT 1 $$ LANGUAGE sql STABLE;
