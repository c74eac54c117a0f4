-- Abbreviations the team's documents define ("Flexible Spending Account (FSA)"), found when a
-- document's chunks are stored (issue 15): a question that says "FSA" also searches for
-- "flexible spending account", and one that says the long form also searches for "FSA". Learned
-- from the corpus itself, never from a hand-written list. They go with their document.
create table document_abbreviations (
    document_id text not null references documents (id) on delete cascade,
    short       text not null,
    long        text not null,
    primary key (document_id, short, long)
);
create index document_abbreviations_short on document_abbreviations (short);

do $$
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        -- Only the app (service role) reads and writes them, as the chunks they come from.
        alter table document_abbreviations enable row level security;
    end if;
end
$$;
