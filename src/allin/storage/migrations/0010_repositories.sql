-- Git repositories as a team-wide knowledge source. A repository's files are documents (shared,
-- owned by `repository:<id>`) whose chunks are searched like any other; `repository_files` keeps
-- each file's git facts. `head_commit` is the sync cursor: it moves only when a sync's whole
-- result is in place, so a failed sync leaves the previous commit's index whole.
create table repositories (
    id                text primary key default gen_random_uuid()::text,
    name              text not null unique,
    -- Where it is fetched from: a local path or a URL, never with credentials in it.
    url               text not null,
    branch            text not null,
    status            text not null default 'pending'
                      check (status in ('pending', 'syncing', 'ready', 'failed')),
    head_commit       text,
    head_committed_at timestamptz,
    synced_at         timestamptz,
    file_count        integer not null default 0,
    chunk_count       integer not null default 0,
    -- The last sync: what changed, what was skipped and why.
    report            jsonb not null default '{}'::jsonb,
    -- While a sync runs: {"phase", "done", "total"}.
    progress          jsonb,
    error             text,
    created_by        text not null,
    created_at        timestamptz not null default now(),
    updated_at        timestamptz not null default now()
);

alter table documents add column repository_id text references repositories (id) on delete cascade;
create index documents_repository on documents (repository_id) where repository_id is not null;

create table repository_files (
    document_id   text primary key references documents (id) on delete cascade,
    repository_id text not null references repositories (id) on delete cascade,
    path          text not null,
    blob_sha      text not null,
    language      text,
    -- The newest commit that changed the file, as of the synced head.
    commit_sha    text not null,
    committed_at  timestamptz not null,
    author_name   text not null,
    author_email  text not null
);
create index repository_files_path on repository_files (repository_id, path);

-- Identifiers split and joined (`open_session`, `OpenSession`, "open session") are stored in
-- `meta.terms` by code-aware chunking; full text searches them with the heading and content.
drop index document_chunks_tsv;
alter table document_chunks drop column tsv;
alter table document_chunks add column tsv tsvector generated always as (
    to_tsvector('english',
        coalesce(heading, '') || ' ' || content || ' ' || coalesce(meta ->> 'terms', ''))
) stored;
create index document_chunks_tsv on document_chunks using gin (tsv);

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        alter table repositories enable row level security;
        alter table repository_files enable row level security;
        -- Team-wide: every signed-in user reads; only the app (service role) writes.
        create policy repositories_read on repositories for select
            using (auth.uid() is not null);
        create policy repository_files_read on repository_files for select
            using (auth.uid() is not null);
    end if;
end
$$;
