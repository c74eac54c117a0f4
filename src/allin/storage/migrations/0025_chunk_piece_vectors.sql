-- Vectors of a code chunk's pieces (issue 14). A code chunk holds up to 1,024 tokens (a whole
-- function, several small methods) and the local embedder reads only its first 256, so a method
-- deep in a chunk was invisible to the chunk's vector. Each piece small enough to be read whole
-- (where it lies is in the chunk's meta, "pieces") has a vector here, made by the chunk's
-- embedder in the same pass; code is ordered by the nearest of them (allin.rag.hybrid).
create table chunk_piece_vectors (
    chunk_id  bigint not null references document_chunks (id) on delete cascade,
    piece     int not null,
    embedding vector not null,
    primary key (chunk_id, piece)
);

-- How a repository file was cut (`SourcePolicy.chunking`): a file cut another way since (pieces
-- added, other chunk sizes) is indexed again by the next sync. Files indexed before say nothing.
alter table repository_files add column chunking text;

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        -- Only the app (service role) reads and writes them, as the chunks they belong to.
        alter table chunk_piece_vectors enable row level security;
    end if;
end
$$;
