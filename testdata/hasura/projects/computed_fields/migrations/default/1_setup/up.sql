-- Hasura's own test schema of computed fields (the author and article part
-- of server/tests-py/queries/graphql_query/computed_fields/setup.yaml).
CREATE TABLE author(id SERIAL PRIMARY KEY, first_name TEXT NOT NULL, last_name TEXT);
INSERT INTO author (first_name, last_name) VALUES ('Roger', 'Chris'), ('Daniel', NULL);
CREATE TABLE article(id SERIAL PRIMARY KEY, title TEXT NOT NULL, content TEXT, author_id INTEGER NOT NULL REFERENCES author(id));
INSERT INTO article (title, content, author_id) VALUES
  ('Article 1', 'Content for Article 1', 1), ('Article 2', 'Content for Article 2', 2), ('Article 3', 'Content for Article 3', 2);
CREATE FUNCTION fetch_articles(search text, author_row author) RETURNS SETOF article AS $$
  SELECT * FROM article WHERE (title ilike ('%' || search || '%') OR content ilike ('%' || search || '%')) AND author_id = author_row.id
$$ LANGUAGE sql STABLE;
CREATE FUNCTION full_name(author) RETURNS TEXT AS $$
DECLARE first_name text; last_name text; full_name text;
BEGIN
  first_name := $1.first_name; last_name := $1.last_name;
  IF last_name IS NULL THEN full_name := first_name; ELSE full_name := first_name || ' ' || last_name; END IF;
  RETURN full_name;
END; $$ LANGUAGE plpgsql STABLE;

-- freshgraph's own: one that takes the session, one of a big number, one
-- of jsonb, and a count of rows.
CREATE FUNCTION greeting(author_row author, hasura_session json) RETURNS TEXT AS $$
  SELECT 'Hello ' || author_row.first_name || ', says ' || (hasura_session ->> 'x-hasura-role')
$$ LANGUAGE sql STABLE;
CREATE FUNCTION article_count(author) RETURNS bigint AS $$
  SELECT count(*) FROM article WHERE author_id = $1.id
$$ LANGUAGE sql STABLE;
CREATE FUNCTION profile(author) RETURNS jsonb AS $$
  SELECT jsonb_build_object('name', $1.first_name, 'tags', jsonb_build_array('a', 'b'))
$$ LANGUAGE sql STABLE;

-- Not used as computed fields: the refusal tests try them.
CREATE FUNCTION touch(author) RETURNS text AS $$ SELECT 'touched' $$ LANGUAGE sql VOLATILE;
CREATE TABLE secret (id integer);
CREATE FUNCTION secrets(author) RETURNS SETOF secret AS $$ SELECT * FROM secret $$ LANGUAGE sql STABLE;
CREATE FUNCTION not_row(n integer) RETURNS text AS $$ SELECT n::text $$ LANGUAGE sql STABLE;
CREATE FUNCTION article_title(article) RETURNS text AS $$ SELECT $1.title $$ LANGUAGE sql STABLE;
CREATE FUNCTION author_row(author) RETURNS author AS $$ SELECT $1 $$ LANGUAGE sql STABLE;
CREATE FUNCTION author_articles(author) RETURNS SETOF article AS $$
  SELECT * FROM article WHERE author_id = $1.id
$$ LANGUAGE sql STABLE;
