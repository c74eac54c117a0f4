-- Session resumption and multi-worker streaming (README "Never lose a turn").
--
-- Every frame a chat's sockets receive has a per-chat `seq`, allocated here so that it is ordered
-- across all app processes: `chats.last_seq` is bumped under the chat row's lock. A turn keeps the
-- seq of the frame that announced it (`ack` for a question, `done` for an answer), so a client
-- that reconnects with `resume{last_seq}` after a run is over gets exactly the turns announced
-- after what it saw. Turns stored before this migration have no seq and are never replayed.
alter table chats add column last_seq bigint not null default 0;
alter table chat_turns add column seq bigint;
create index chat_turns_chat_seq on chat_turns (user_id, chat_id, seq) where seq is not null;

-- Answers being written. A row is a lease: the process (`worker`) that inserted it is the only
-- one answering the question, so a retry that lands on another process waits instead of
-- answering twice. `partial` is the answer so far, so a resume on another process can catch up
-- and an answer whose process died is stored as far as it got (marked interrupted).
create table chat_runs (
    question_id  bigint primary key references chat_turns (id) on delete cascade,
    user_id      text not null,
    chat_id      text not null,
    -- The id reserved for the answer: token frames name it before the answer is stored.
    answer_id    bigint not null,
    partial      text not null default '',
    -- The seq of the newest token frame in `partial`.
    partial_seq  bigint,
    worker       text not null,
    heartbeat_at timestamptz not null default now(),
    started_at   timestamptz not null default now(),
    foreign key (user_id, chat_id) references chats (user_id, chat_id) on delete cascade
);
create index chat_runs_chat on chat_runs (user_id, chat_id);
create index chat_runs_heartbeat on chat_runs (heartbeat_at);

select allin_enable_owner_rls('chat_runs', 'user_id');

-- Allocate the next seq of a chat for one frame, in one round trip:
--   * `p_turn_id`: the turn this frame announces, which records the seq;
--   * `p_run`/`p_text`: a token frame's question and text, appended to the run's `partial`;
--   * `p_relay`: the frame (small: turns are referenced by id) to notify on channel
--     `allin_frames`, for the other processes' sockets. Notifications are delivered in commit
--     order, which the chat row's lock makes seq order.
-- Returns the seq, or null when the chat does not exist (deleted mid-answer).
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
