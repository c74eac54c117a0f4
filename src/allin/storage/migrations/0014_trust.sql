-- Trust (issue 19): what a sync learns from a repository's history, read at question time so the
-- trust layer never runs git while someone waits, and the questions Allin could not answer.

-- Each indexed file's commits (newest first, capped per file at sync time): who changed it and
-- when, for ranking the people likely to know about it.
create table repository_file_commits (
    repository_id text not null references repositories (id) on delete cascade,
    path          text not null,
    commit_sha    text not null,
    committed_at  timestamptz not null,
    author_name   text not null,
    author_email  text not null,
    primary key (repository_id, path, commit_sha)
);
create index repository_file_commits_recent
    on repository_file_commits (repository_id, path, committed_at desc);

-- A documentation file names code (a path, module, class, function or config key) whose file
-- changed after the documentation file's own last change: one row per (page, code file).
create table stale_citations (
    repository_id       text not null references repositories (id) on delete cascade,
    doc_path            text not null,
    code_path           text not null,
    -- What the page names that lives in `code_path`, a few examples.
    names               text[] not null,
    commits_since       integer not null check (commits_since > 0),
    newest_commit       text not null,
    newest_committed_at timestamptz not null,
    newest_author       text not null,
    doc_commit          text not null,
    doc_committed_at    timestamptz not null,
    primary key (repository_id, doc_path, code_path)
);

-- The commit the two tables above describe, and the repository's CODEOWNERS rules at it.
create table repository_trust (
    repository_id text primary key references repositories (id) on delete cascade,
    commit_sha    text not null,
    -- [{"pattern": "src/flask/*", "owners": ["@ada"], "source": "CODEOWNERS"}, ...] in file order.
    codeowners    jsonb not null default '[]'::jsonb,
    refreshed_at  timestamptz not null default now()
);

-- A question the knowledge base had nothing good enough for ("abstained"), or a direct "who
-- knows about X?" ("who_knows"), with the people suggested: the knowledge-gap report's input.
create table unanswered_questions (
    question_turn_id bigint primary key references chat_turns (id) on delete cascade,
    user_id          text not null,
    chat_id          text not null,
    question         text not null,
    kind             text not null check (kind in ('abstained', 'who_knows')),
    best_similarity  real,
    experts          jsonb not null default '[]'::jsonb,
    created_at       timestamptz not null default now()
);
create index unanswered_questions_created on unanswered_questions (created_at desc);

select allin_enable_owner_rls('unanswered_questions', 'user_id');

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        alter table repository_file_commits enable row level security;
        alter table stale_citations enable row level security;
        alter table repository_trust enable row level security;
        -- Team-wide, like the repositories: every signed-in user reads; only the app writes.
        create policy repository_file_commits_read on repository_file_commits for select
            using (auth.uid() is not null);
        create policy stale_citations_read on stale_citations for select
            using (auth.uid() is not null);
        create policy repository_trust_read on repository_trust for select
            using (auth.uid() is not null);
    end if;
end
$$;
