-- Row-level security for Supabase, where the browser can reach these tables through PostgREST
-- with a user's token (role `authenticated`) or the anon key (role `anon`).
--
-- Applied only where an `auth` schema exists (Supabase): on a plain Postgres the app is the only
-- client, there are no such roles, and everything below is a no-op. Idempotent.
--
-- Who bypasses it: the tables' owner (the role running migrations, and the app's own connection)
-- and Supabase's `service_role` (BYPASSRLS, what the server's service key acts as). RLS is
-- therefore not forced: it guards what end users can reach directly, not what the server does.

-- allin_enable_owner_rls(table, owner_column): give `authenticated` users access to exactly the
-- rows whose `owner_column` is their Supabase user id (`auth.uid()`), and nobody else anything.
-- A no-op without the `auth` schema (or without the `authenticated` role), so later migrations
-- call it unconditionally, in one line:
--     select allin_enable_owner_rls('documents', 'user_id');
create or replace function allin_enable_owner_rls(target_table regclass, owner_column text)
returns void
language plpgsql
set search_path = pg_catalog, public
as $$
begin
    if not exists (select 1 from pg_namespace where nspname = 'auth')
        or to_regrole('authenticated') is null then
        return;
    end if;
    execute format('alter table %s enable row level security', target_table);
    execute format('drop policy if exists allin_owner on %s', target_table);
    -- `(select auth.uid())` is evaluated once per statement, not once per row.
    execute format(
        'create policy allin_owner on %s for all to authenticated'
        ' using (%2$I = (select auth.uid())::text)'
        ' with check (%2$I = (select auth.uid())::text)',
        target_table, owner_column
    );
end;
$$;

-- Only migrations call it: it alters tables, so PostgREST must not offer it as an RPC.
revoke all on function allin_enable_owner_rls(regclass, text) from public;

select allin_enable_owner_rls('chats', 'user_id');
select allin_enable_owner_rls('chat_turns', 'user_id');

do $$
declare
    api_role text;
begin
    if not exists (select 1 from pg_namespace where nspname = 'auth') then
        return;
    end if;

    -- Whether the current user owns a turn. A policy on chat_turns cannot query chat_turns
    -- itself (Postgres refuses the recursion), so it asks this function, which reads as the
    -- table's owner; it only ever answers about the caller's own turns.
    create or replace function allin_owns_turn(turn_id bigint)
    returns boolean
    language sql
    stable
    security definer
    set search_path = pg_catalog, public
    as $fn$
        select exists (
            select 1 from chat_turns where id = turn_id and user_id = (select auth.uid())::text
        )
    $fn$;

    -- An answer's `reply_to` names the question it answers and is unique: without this, a user
    -- could take the answer slot of someone else's question. Restrictive, so it narrows the
    -- owner policy, on writes (`using (true)` leaves reads to the owner policy).
    drop policy if exists allin_reply_to_own on chat_turns;
    create policy allin_reply_to_own on chat_turns as restrictive for all to authenticated
        using (true)
        with check (reply_to is null or allin_owns_turn(reply_to));

    -- Local accounts and their sessions exist only for AUTH_MODE=local; on Supabase, accounts are
    -- Supabase Auth's and these tables hold no row keyed by an `auth.uid()`. They carry password
    -- hashes, so end users get nothing here, not even their "own" row: RLS on with no policy,
    -- and the privileges Supabase grants by default revoked as well. Likewise the migration log.
    alter table users enable row level security;
    alter table auth_sessions enable row level security;
    alter table schema_migrations enable row level security;
    for api_role in select rolname from pg_roles where rolname in ('anon', 'authenticated') loop
        execute format(
            'revoke all on table users, auth_sessions, schema_migrations from %I', api_role
        );
        execute format(
            'revoke all on function allin_enable_owner_rls(regclass, text) from %I', api_role
        );
    end loop;
end;
$$;
