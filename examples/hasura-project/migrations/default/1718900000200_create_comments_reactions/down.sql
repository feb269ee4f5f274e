DROP TABLE public.reactions;
DROP TABLE public.comments;
