-- The team knowledge base: documents (raw files live in the blob store, bucket `documents`) and
-- their chunks with embeddings and a full-text vector.
create table documents (
    id           text primary key default gen_random_uuid()::text,
    owner_id     text not null,
    -- Shared documents are team knowledge, visible to every user; only admins share.
    shared       boolean not null default false,
    -- The path the document was ingested under (relative to the ingested folder), unique per owner
    -- so that ingesting it again updates it instead of duplicating it.
    name         text not null,
    title        text,
    mime         text not null,
    format       text not null,
    storage_path text not null,
    sha256       text not null,
    size_bytes   bigint not null,
    status       text not null default 'indexing'
                 check (status in ('indexing', 'ready', 'failed')),
    error        text,
    chunk_count  integer not null default 0,
    created_at   timestamptz not null default now(),
    updated_at   timestamptz not null default now()
);
create unique index documents_owner_name on documents (owner_id, name);
create index documents_shared on documents (shared) where shared;

create table document_chunks (
    id          bigserial primary key,
    document_id text not null references documents (id) on delete cascade,
    ord         integer not null,
    content     text not null,
    heading     text,
    page        integer,
    -- The embedder that made `embedding` (its name includes the dimension). Vectors of different
    -- embedders are never compared: search filters on it, and each embedder gets its own partial
    -- HNSW index, created by the app for the embedder it runs with (its dimension is only known
    -- then). Switching embedder re-embeds the chunks.
    embedder    text not null,
    embedding   vector not null,
    tsv         tsvector generated always as (
                    to_tsvector('english', coalesce(heading, '') || ' ' || content)
                ) stored,
    meta        jsonb not null default '{}'::jsonb,
    unique (document_id, ord)
);
create index document_chunks_tsv on document_chunks using gin (tsv);
create index document_chunks_embedder on document_chunks (embedder);

-- On Supabase (the `auth` schema exists), clients reaching the tables through its API see their
-- own documents and shared ones, and write only their own; the app's connection bypasses RLS.
do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        alter table documents enable row level security;
        alter table document_chunks enable row level security;
        create policy documents_read on documents for select
            using (shared or owner_id = auth.uid()::text);
        create policy documents_write on documents for all
            using (owner_id = auth.uid()::text) with check (owner_id = auth.uid()::text);
        create policy document_chunks_read on document_chunks for select
            using (exists (select 1 from documents d where d.id = document_id
                           and (d.shared or d.owner_id = auth.uid()::text)));
        create policy document_chunks_write on document_chunks for all
            using (exists (select 1 from documents d where d.id = document_id
                           and d.owner_id = auth.uid()::text))
            with check (exists (select 1 from documents d where d.id = document_id
                                and d.owner_id = auth.uid()::text));
    end if;
end
$$;
