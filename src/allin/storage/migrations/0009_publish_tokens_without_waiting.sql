-- Token frames no longer wait for their commit to reach the disk.
--
-- Every frame of a chat is one `allin_publish` transaction; with a fast model that is dozens per
-- answer, and under load most of their time went on waiting for the WAL flush (measured with
-- 500 clients: 91% of active connections in WALWrite/WALSync). A token frame only extends the
-- partial answer in `chat_runs` and takes a seq; the answer itself is stored by its own
-- (synchronous) transaction when it is complete, as are the question and the turns' seqs. So a
-- token's commit may be asynchronous: if the Postgres server itself crashes, the last fraction
-- of a second of partial text can be lost, which an answer being written can afford, never a
-- stored turn. The setting is local to the token's transaction.
create or replace function allin_publish(
    p_user_id text,
    p_chat_id text,
    p_turn_id bigint,
    p_run bigint,
    p_text text,
    p_relay jsonb
)
returns bigint
language plpgsql
security invoker
set search_path = pg_catalog, public
as $$
declare
    v_seq bigint;
begin
    update chats set last_seq = last_seq + 1
        where user_id = p_user_id and chat_id = p_chat_id
        returning last_seq into v_seq;
    if v_seq is null then
        return null;
    end if;
    if p_turn_id is not null then
        update chat_turns set seq = v_seq where id = p_turn_id;
    end if;
    if p_run is not null then
        update chat_runs
            set partial = partial || p_text, partial_seq = v_seq, heartbeat_at = now()
            where question_id = p_run;
        if p_turn_id is null then
            perform set_config('synchronous_commit', 'off', true);
        end if;
    end if;
    if p_relay is not null then
        perform pg_notify(
            'allin_frames',
            (p_relay || jsonb_build_object('user_id', p_user_id, 'chat_id', p_chat_id, 'seq', v_seq))::text
        );
    end if;
    return v_seq;
end;
$$;
