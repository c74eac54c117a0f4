-- The chat store's steps that must be atomic, as functions: a client that reaches the database
-- only through Supabase's REST API (`SupabaseChatStore`, calling `/rest/v1/rpc/<name>`) gets the
-- same guarantees as the Postgres store's own transactions. Each call is one transaction.
--
-- `security invoker`: they run with the caller's rights, so row-level security (0003) applies to
-- anyone but the table owner and Supabase's service role. Results are jsonb so the REST API
-- returns them as one JSON value; turns come back in `chat_turns`' own column names.

-- Store a user message, creating its chat titled `p_title` if needed. A retry with the same
-- `p_client_msg_id` returns the turn stored the first time with `is_new = false`; the caller
-- decides what different content under a reused id means.
create or replace function allin_append_user_turn(
    p_user_id text, p_chat_id text, p_client_msg_id text, p_content text, p_title text
)
returns jsonb
language plpgsql
security invoker
set search_path = pg_catalog, public
as $$
declare
    turn chat_turns;
begin
    insert into chats (user_id, chat_id, title) values (p_user_id, p_chat_id, p_title)
        on conflict (user_id, chat_id) do nothing;
    insert into chat_turns (user_id, chat_id, role, content, client_msg_id)
        values (p_user_id, p_chat_id, 'user', p_content, p_client_msg_id)
        on conflict (user_id, chat_id, client_msg_id) do nothing
        returning * into turn;
    if not found then
        select * into turn from chat_turns
            where user_id = p_user_id and chat_id = p_chat_id and client_msg_id = p_client_msg_id;
        return jsonb_build_object('turn', to_jsonb(turn), 'is_new', false);
    end if;
    update chats set updated_at = now(), title = coalesce(title, p_title)
        where user_id = p_user_id and chat_id = p_chat_id;
    return jsonb_build_object('turn', to_jsonb(turn), 'is_new', true);
end;
$$;

-- An id for an answer not yet written, so streamed tokens can name the turn they build.
create or replace function allin_reserve_turn_id()
returns bigint
language sql
volatile
security invoker
set search_path = pg_catalog, public
as $$
    select nextval(pg_get_serial_sequence('public.chat_turns', 'id'))
$$;

-- Store the answer to turn `p_reply_to` under the reserved id `p_turn_id`; if an answer is
-- stored already, keep it and return it instead.
create or replace function allin_append_assistant_turn(
    p_turn_id bigint,
    p_user_id text,
    p_chat_id text,
    p_reply_to bigint,
    p_content text,
    p_metadata jsonb
)
returns jsonb
language plpgsql
security invoker
set search_path = pg_catalog, public
as $$
declare
    turn chat_turns;
begin
    insert into chat_turns (id, user_id, chat_id, role, content, reply_to, metadata)
        values (p_turn_id, p_user_id, p_chat_id, 'assistant', p_content, p_reply_to, p_metadata)
        on conflict (reply_to) do nothing
        returning * into turn;
    if not found then
        select * into turn from chat_turns where reply_to = p_reply_to;
        return to_jsonb(turn);
    end if;
    update chats set updated_at = now() where user_id = p_user_id and chat_id = p_chat_id;
    return to_jsonb(turn);
end;
$$;
