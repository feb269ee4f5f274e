-- An enum table, as Hasura's is_enum wants it: a text primary key "value"
-- and an optional "comment".
CREATE TABLE public.post_status (
    value text PRIMARY KEY,
    comment text
);
INSERT INTO public.post_status (value, comment) VALUES ('draft', 'Not yet published'), ('published', 'Visible to everyone');
ALTER TABLE public.posts ADD COLUMN status text NOT NULL DEFAULT 'draft' REFERENCES public.post_status (value);
