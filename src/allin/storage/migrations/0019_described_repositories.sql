-- An uploaded document can name the repository it describes (issue 19): the code of that
-- repository it names is then watched as a repository's own documentation pages are, and a
-- citation of it carries the same "may be out of date" warnings.
alter table documents
    add column describes_repository text references repositories (id) on delete set null;
create index documents_describes_repository on documents (describes_repository)
    where describes_repository is not null;

-- The uploaded document names code (see `stale_citations`) whose file changed after the
-- document's own last update: one row per (document, code file), replaced when the document is
-- ingested or linked and at each sync of the repository.
create table document_stale_citations (
    document_id         text not null references documents (id) on delete cascade,
    repository_id       text not null references repositories (id) on delete cascade,
    code_path           text not null,
    names               text[] not null,
    commits_since       integer not null check (commits_since > 0),
    newest_commit       text not null,
    newest_committed_at timestamptz not null,
    newest_author       text not null,
    -- The document's `updated_at` the warning was computed against.
    doc_updated_at      timestamptz not null,
    primary key (document_id, code_path)
);
create index document_stale_citations_repository on document_stale_citations (repository_id);

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        alter table document_stale_citations enable row level security;
        -- Readable where the document is: its owner, or everyone for a shared one.
        create policy document_stale_citations_read on document_stale_citations for select
            using (exists (
                select 1 from documents d where d.id = document_id
                and (d.shared or d.owner_id = auth.uid()::text)
            ));
    end if;
end
$$;
