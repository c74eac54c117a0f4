-- A frame that says something lasting about a turn — a question that could not be answered, an
-- answer whose turn taught Allin a memory — is published on the turn's chat (numbered by
-- `allin_publish`) and kept in the turn's metadata with that frame's seq, so a client resuming
-- after it learns it too. The two stand or fall together, so they are one function: the chat
-- store calls it directly on Postgres and through `/rest/v1/rpc/allin_mark_turn` on Supabase,
-- and is then the only writer of `chat_turns` (issue 13; before, the frame log wrote the mark).
create or replace function allin_mark_turn(
    p_turn_id bigint,
    p_key text,
    p_mark jsonb,
    p_relay jsonb
)
returns bigint
language plpgsql
security invoker
set search_path = pg_catalog, public
as $$
declare
    v_user_id text;
    v_chat_id text;
    v_seq bigint;
begin
    select user_id, chat_id into v_user_id, v_chat_id from chat_turns where id = p_turn_id;
    if v_user_id is null then
        return null;
    end if;
    v_seq := allin_publish(v_user_id, v_chat_id, null, null, '', p_relay);
    if v_seq is not null then
        update chat_turns
            set metadata = metadata || jsonb_build_object(p_key, p_mark || jsonb_build_object('seq', v_seq))
            where id = p_turn_id;
    end if;
    return v_seq;
end;
$$;

-- What a frame said about the turn no longer holds (a failed question answered after all).
create or replace function allin_unmark_turn(p_turn_id bigint, p_key text)
returns void
language sql
security invoker
set search_path = pg_catalog, public
as $$
    update chat_turns set metadata = metadata - p_key where id = p_turn_id;
$$;
