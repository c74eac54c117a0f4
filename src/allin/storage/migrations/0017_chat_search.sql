-- Searching one's own chats (the sidebar's search box): full text over what was said, and the
-- chats' titles. One function serves both chat stores (the Postgres one, and Supabase's through
-- `/rest/v1/rpc/allin_search_chats`); `security invoker`, so row-level security (0003) applies.

create index if not exists chat_turns_content_search
    on chat_turns using gin (to_tsvector('english', content));

-- The user's chats that match `p_query` (web-search syntax: words, "phrases", -excluded), best
-- first: each with its best matching turn and an excerpt of it, the matched words between
-- U+0002 and U+0003 (never markup: the excerpt is user text). A chat whose title alone matches
-- comes with no turn.
create or replace function allin_search_chats(p_user_id text, p_query text, p_limit int)
returns table (
    chat_id text, title text, updated_at timestamptz,
    turn_id bigint, role text, turn_created_at timestamptz, excerpt text, rank real
)
language sql
stable
security invoker
set search_path = pg_catalog, public
as $$
    with query as (
        select websearch_to_tsquery('english', p_query) as q
    ),
    turn_hits as (
        select distinct on (t.chat_id)
            t.chat_id, t.id, t.role, t.created_at, t.content,
            ts_rank(to_tsvector('english', t.content), query.q) as rank
        from chat_turns t, query
        where t.user_id = p_user_id and to_tsvector('english', t.content) @@ query.q
        order by t.chat_id, ts_rank(to_tsvector('english', t.content), query.q) desc, t.id desc
    ),
    title_hits as (
        select c.chat_id
        from chats c, query
        where c.user_id = p_user_id and c.title is not null
          and to_tsvector('english', c.title) @@ query.q
    )
    select c.chat_id, c.title, c.updated_at,
           h.id, h.role, h.created_at,
           case when h.id is null then null else ts_headline(
               'english', h.content, (select q from query),
               'StartSel=' || chr(2) || ', StopSel=' || chr(3)
               || ', MaxWords=24, MinWords=8, MaxFragments=1, FragmentDelimiter=" … "'
           ) end,
           (coalesce(h.rank, 0) + case when t.chat_id is null then 0 else 1 end)::real as rank
    from chats c
    left join turn_hits h on h.chat_id = c.chat_id
    left join title_hits t on t.chat_id = c.chat_id
    where c.user_id = p_user_id and (h.chat_id is not null or t.chat_id is not null)
    order by rank desc, c.updated_at desc
    limit p_limit
$$;
