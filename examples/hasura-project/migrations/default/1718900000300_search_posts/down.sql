DROP FUNCTION public.search_posts(text);
