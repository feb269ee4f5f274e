DROP TABLE public.posts;
