-- A question that could not be answered is announced on its chat (an error frame, numbered by
-- `allin_publish`) and keeps why on itself, with that frame's seq, so a client resuming after it
-- learns it too. The two stand or fall together, so they are one function: the chat store calls
-- it directly on Postgres and through `/rest/v1/rpc/allin_fail_question` on Supabase, and is then
-- the only writer of `chat_turns` (issue 13: before, the frame log marked the question itself).
create or replace function allin_fail_question(p_question_id bigint, p_error jsonb, p_relay jsonb)
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
    select user_id, chat_id into v_user_id, v_chat_id
        from chat_turns where id = p_question_id and role = 'user';
    if v_user_id is null then
        return null;
    end if;
    v_seq := allin_publish(v_user_id, v_chat_id, null, null, '', p_relay);
    if v_seq is not null then
        update chat_turns
            set metadata = metadata || jsonb_build_object('failed', p_error || jsonb_build_object('seq', v_seq))
            where id = p_question_id;
    end if;
    return v_seq;
end;
$$;

-- The question was answered after all (it was sent again).
create or replace function allin_forget_failure(p_question_id bigint)
returns void
language sql
security invoker
set search_path = pg_catalog, public
as $$
    update chat_turns set metadata = metadata - 'failed' where id = p_question_id;
$$;
