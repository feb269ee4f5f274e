-- An enum table (is_enum in the metadata): a text primary key "value" and
-- one text column for its description.
CREATE TABLE public.post_status (
    value text PRIMARY KEY,
    comment text
);
INSERT INTO public.post_status (value, comment) VALUES
    ('draft', 'Visible to its author only'),
    ('published', 'Visible to everyone'),
    ('archived', 'Kept, no longer listed as new');
