-- A text search over posts, tracked as the root field search_posts: its
-- rows are posts, read under the caller's select permission on posts.
CREATE FUNCTION public.search_posts(search text) RETURNS SETOF public.posts AS $$
    SELECT * FROM public.posts
    WHERE title ILIKE '%' || search || '%' OR body ILIKE '%' || search || '%'
$$ LANGUAGE sql STABLE;
