CREATE TABLE public.authors (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL
);
CREATE TABLE public.posts (
    id bigserial PRIMARY KEY,
    author_id uuid NOT NULL REFERENCES public.authors (id) ON DELETE CASCADE,
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    tags jsonb NOT NULL DEFAULT '[]',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posts_author_id ON public.posts (author_id);
CREATE FUNCTION public.search_posts(search text) RETURNS SETOF public.posts
    LANGUAGE sql STABLE AS $$ SELECT * FROM public.posts WHERE title ILIKE '%' || search || '%' $$;
