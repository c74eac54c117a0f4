-- Feedback on answers: a thumbs up or down (and an optional comment) from the user who asked, one
-- per answer and user, changed in place and withdrawn by deleting it. It goes with its turn.
create table turn_feedback (
    turn_id    bigint not null references chat_turns (id) on delete cascade,
    user_id    text not null,
    rating     smallint not null check (rating in (-1, 1)),
    comment    text check (char_length(comment) <= 2000),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    unique (turn_id, user_id)
);
-- The admins' list, newest first, and its `rating` filter.
create index turn_feedback_updated on turn_feedback (updated_at desc);

select allin_enable_owner_rls('turn_feedback', 'user_id');

-- On Supabase, a user rates only turns of their own (as `reply_to` in 0003): restrictive, so it
-- narrows the owner policy on writes.
do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth')
        and to_regrole('authenticated') is not null then
        create policy allin_feedback_own_turn on turn_feedback as restrictive for all
            to authenticated
            using (true)
            with check (allin_owns_turn(turn_id));
    end if;
end
$$;
