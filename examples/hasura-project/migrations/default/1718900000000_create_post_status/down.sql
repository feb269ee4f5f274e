DROP TABLE public.post_status;
