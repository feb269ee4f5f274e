ALTER TABLE public.posts DROP COLUMN status;
DROP TABLE public.post_status;
