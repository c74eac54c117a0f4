-- Finished turns waiting to be learned from (issue 16): written as the turn ends, before its
-- learning job is queued, so a turn is learned from even if the process stops; the job of a user
-- learns all of theirs at once, oldest first, and deletes them once learned. A turn is queued at
-- most once (its answer's id). A batch that fails is tried again by the next job; one that failed
-- `attempts` times is given up, so that a turn no extraction can read does not stop the user's
-- later turns from being learned.
create table memory_lessons (
    id         bigserial primary key,
    user_id    text not null,
    chat_id    text not null,
    said       text not null,
    answer     text not null,
    answer_id  bigint unique,
    attempts   smallint not null default 0,
    created_at timestamptz not null default now()
);
-- A user's lessons in order, and the users with some waiting.
create index memory_lessons_by_user on memory_lessons (user_id, id);

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        -- Only the app (service role) reads and writes them.
        alter table memory_lessons enable row level security;
    end if;
end
$$;
