-- A post's comment count, served as the computed field posts.comment_count.
CREATE FUNCTION public.post_comment_count(post public.posts) RETURNS integer AS $$
    SELECT count(*)::integer FROM public.comments c WHERE c.post_id = post.id
$$ LANGUAGE sql STABLE;
