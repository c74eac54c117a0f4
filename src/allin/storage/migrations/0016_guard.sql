-- Limits that hold across every app process sharing this database (README "Security"): they live
-- here, not in one process's memory, so N workers behind a load balancer do not give N times the
-- allowance. Times are written by the app (its clock), so the tests can move time forward.

-- Failed log-ins and sign-ups, per account (e-mail) and per client address, with backoff.
create table auth_throttle (
    scope         text not null,
    key           text not null,
    -- Attempts counted since the streak began (an attempt counts before its password is checked,
    -- so parallel attempts cannot all slip through; a success gives it back or ends the streak).
    failures      integer not null,
    blocked_until timestamptz,
    last_at       timestamptz not null,
    primary key (scope, key)
);
-- For deleting streaks quiet for `ALLIN_AUTH_FORGET_S` (guessed e-mails add rows).
create index auth_throttle_last_at on auth_throttle (last_at);

-- Token buckets (a rate with a burst), e.g. a user's `ping` and `cancel` frames.
create table rate_buckets (
    key          text primary key,
    tokens       double precision not null,
    updated_at   timestamptz not null,
    last_allowed boolean not null
);
create index rate_buckets_updated_at on rate_buckets (updated_at);

-- Open chat sockets, to cap them per user. Each process refreshes `seen_at` on its own rows; the
-- rows of a process that died stop counting once they are stale.
create table open_sockets (
    id         text primary key default gen_random_uuid()::text,
    user_id    text not null,
    process_id text not null,
    opened_at  timestamptz not null default now(),
    seen_at    timestamptz not null
);
create index open_sockets_user on open_sockets (user_id);
create index open_sockets_seen_at on open_sockets (seen_at);

-- Invitations to sign up when sign-up is not open (ALLIN_SIGNUP=invite). Only a SHA-256 of the
-- code is kept; the code is shown once, to the admin who made it. Used once.
create table invites (
    id         text primary key default gen_random_uuid()::text,
    code_hash  text not null unique,
    hint       text not null,
    -- When set, only this address may use it.
    email      text,
    created_by text not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at    timestamptz,
    used_by    text,
    revoked_at timestamptz
);

-- None of this is for end users through PostgREST (RLS on with no policy, privileges revoked), as
-- for `auth_sessions`.
do $$
declare
    guarded text;
    api_role text;
begin
    if exists (select 1 from pg_namespace where nspname = 'auth') then
        foreach guarded in array array['auth_throttle', 'rate_buckets', 'open_sockets', 'invites'] loop
            execute format('alter table %I enable row level security', guarded);
            for api_role in select rolname from pg_roles where rolname in ('anon', 'authenticated') loop
                execute format('revoke all on table %I from %I', guarded, api_role);
            end loop;
        end loop;
    end if;
end
$$;
