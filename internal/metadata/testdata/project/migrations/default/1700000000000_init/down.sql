DROP FUNCTION public.search_posts(text);
DROP TABLE public.posts;
DROP TABLE public.authors;
