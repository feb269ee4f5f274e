-- public.users is freshgraph's own (the Auth.js users table).
CREATE TABLE public.posts (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    author_id uuid NOT NULL REFERENCES public.users (id) ON DELETE CASCADE,
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'draft' REFERENCES public.post_status (value) ON UPDATE RESTRICT ON DELETE RESTRICT,
    tags jsonb NOT NULL DEFAULT '[]',
    likes integer NOT NULL DEFAULT 0,
    rating numeric,
    views bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX posts_author_id ON public.posts (author_id);
CREATE INDEX posts_status_created_at ON public.posts (status, created_at DESC);
CREATE INDEX posts_tags ON public.posts USING gin (tags jsonb_path_ops);
