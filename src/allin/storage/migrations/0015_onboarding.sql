-- Onboarding paths (Markdown checklists in synced repositories) and each user's progress.
-- A path keeps its last good definition: a sync that finds the file broken records the problems
-- and the rejected blob, and leaves `definition` as it was.
create table onboarding_paths (
    id                text primary key default gen_random_uuid()::text,
    repository_id     text not null references repositories (id) on delete cascade,
    file_path         text not null,
    -- The last good version: its blob, the commit it was read at, and what it defines.
    blob_sha          text,
    commit_sha        text,
    definition        jsonb,
    -- The newest version's problems while it is refused (empty once a good version is read).
    problems          jsonb not null default '[]'::jsonb,
    rejected_blob_sha text,
    -- The file is gone from the branch: kept (with everyone's progress) but not offered.
    removed           boolean not null default false,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    unique (repository_id, file_path)
);

-- Keyed by the step's slug, not its position: an edited path keeps progress on surviving steps.
create table onboarding_progress (
    user_id      text not null,
    path_id      text not null references onboarding_paths (id) on delete cascade,
    step_slug    text not null,
    state        text not null check (state in ('suggested', 'done')),
    -- Why a step was suggested as done: the question, the answer and what it cited.
    evidence     jsonb,
    suggested_at timestamptz,
    done_at      timestamptz,
    primary key (user_id, path_id, step_slug)
);
create index onboarding_progress_path on onboarding_progress (path_id, state);

-- When a user first saw a path: the start of their first step's time.
create table onboarding_starts (
    user_id    text not null,
    path_id    text not null references onboarding_paths (id) on delete cascade,
    started_at timestamptz not null default now(),
    primary key (user_id, path_id)
);

-- Chats whose answers are not pitched at the user (the profile block is left out).
create table onboarding_unpitched_chats (
    user_id    text not null,
    chat_id    text not null,
    created_at timestamptz not null default now(),
    primary key (user_id, chat_id)
);

-- Who an answer was pitched at, by the question it answers: the UI shows it under the answer.
create table onboarding_pitches (
    question_id  bigint primary key references chat_turns (id) on delete cascade,
    user_id      text not null,
    chat_id      text not null,
    answered_for text not null,
    stage_number integer,
    stage_count  integer,
    next_step    text,
    created_at   timestamptz not null default now()
);
create index onboarding_pitches_chat on onboarding_pitches (user_id, chat_id);

select allin_enable_owner_rls('onboarding_progress', 'user_id');
select allin_enable_owner_rls('onboarding_pitches', 'user_id');
select allin_enable_owner_rls('onboarding_starts', 'user_id');
select allin_enable_owner_rls('onboarding_unpitched_chats', 'user_id');

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        alter table onboarding_paths enable row level security;
        -- Team-wide, like repositories: every signed-in user reads; only the app writes.
        create policy onboarding_paths_read on onboarding_paths for select
            using (auth.uid() is not null);
    end if;
end
$$;
