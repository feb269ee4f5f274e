DROP FUNCTION public.post_comment_count(public.posts);
