-- Personal access tokens: long-lived bearer tokens an engineer gives their editor's MCP client
-- (or a script). Only a SHA-256 of each token is stored; the token itself is shown once.
--
-- `user_id` has no foreign key to `users`: in Supabase mode accounts live in Supabase Auth, and
-- the same table serves both modes. Revoking sets `revoked_at`, so the list still shows the token.
create table personal_tokens (
    id           text primary key default gen_random_uuid()::text,
    user_id      text not null,
    name         text not null,
    token_hash   text not null unique,
    -- The token's first characters, so a person can tell their tokens apart in the list.
    hint         text not null,
    scopes       text[] not null,
    created_at   timestamptz not null default now(),
    expires_at   timestamptz not null,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
create index personal_tokens_user on personal_tokens (user_id);

-- Token hashes are credentials: end users reach nothing here through PostgREST, not even their
-- own rows (RLS on with no policy, default privileges revoked), as for `auth_sessions`.
do $$
declare
    api_role text;
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        alter table personal_tokens enable row level security;
        for api_role in select rolname from pg_roles where rolname in ('anon', 'authenticated') loop
            execute format('revoke all on table personal_tokens from %I', api_role);
        end loop;
    end if;
end
$$;
