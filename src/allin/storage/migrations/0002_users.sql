-- Local accounts (AUTH_MODE=local). In Supabase mode, users live in Supabase Auth instead.
create table users (
    id            text primary key default gen_random_uuid()::text,
    email         text not null,
    password_hash text not null,
    is_admin      boolean not null default false,
    created_at    timestamptz not null default now()
);
create unique index users_email on users (lower(email));

-- One row per issued token, so logging out really revokes it.
create table auth_sessions (
    id         text primary key default gen_random_uuid()::text,
    user_id    text not null references users (id) on delete cascade,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    revoked_at timestamptz
);
create index auth_sessions_user on auth_sessions (user_id);
