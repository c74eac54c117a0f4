"""Row-level security as Supabase enforces it, on a database dressed up like a Supabase project: an
`auth` schema whose `auth.uid()` reads the request's JWT claims, the `anon` and `authenticated`
roles PostgREST switches to, and the privileges Supabase grants them by default."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.errors import InsufficientPrivilege

from allin.storage.db import migrate
from tests.conftest import new_database

# Roles are global to the cluster, which every test database shares: create them once.
SUPABASE_ROLES = """
do $$
begin
    create role anon nologin noinherit;
exception when duplicate_object then null;
end $$;
do $$
begin
    create role authenticated nologin noinherit;
exception when duplicate_object then null;
end $$;
"""

# Supabase's own definition of `auth.uid()`, and the grants a new Supabase project starts with.
SUPABASE_AUTH = """
create schema auth;
create function auth.uid() returns uuid language sql stable as $$
    select coalesce(
        nullif(current_setting('request.jwt.claim.sub', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
    )::uuid
$$;
grant usage on schema auth to anon, authenticated;
grant usage on schema public to anon, authenticated;
alter default privileges in schema public grant all on tables to anon, authenticated;
alter default privileges in schema public grant all on sequences to anon, authenticated;
alter default privileges in schema public grant all on functions to anon, authenticated;
"""

ALICE = str(uuid.uuid4())
BOB = str(uuid.uuid4())


@pytest.fixture(scope="module")
async def supabase_db(postgres: Any) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """A migrated Supabase-like database where Alice has a chat with a question and its answer."""
    async with await psycopg.AsyncConnection.connect(
        new_database(postgres), autocommit=True
    ) as conn:
        await conn.execute(SUPABASE_ROLES)
        await conn.execute(SUPABASE_AUTH)
        await migrate(conn)
        await conn.execute(
            "insert into chats (user_id, chat_id, title) values (%s, 'c1', 'Alice''s chat')",
            (ALICE,),
        )
        await conn.execute(
            "insert into chat_turns (id, user_id, chat_id, role, content, client_msg_id)"
            " values (1, %s, 'c1', 'user', 'question', 'm1')",
            (ALICE,),
        )
        await conn.execute(
            "insert into chat_turns (id, user_id, chat_id, role, content, reply_to)"
            " values (2, %s, 'c1', 'assistant', 'answer', 1)",
            (ALICE,),
        )
        await conn.execute("select setval(pg_get_serial_sequence('chat_turns', 'id'), 2)")
        yield conn


@asynccontextmanager
async def acting_as(
    conn: psycopg.AsyncConnection[Any], role: str, sub: str | None = None
) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
    """What PostgREST does per request: switch role, expose the token's claims; rolled back."""
    async with conn.transaction(force_rollback=True):
        await conn.execute(sql.SQL("set local role {}").format(sql.Identifier(role)))
        if sub is not None:
            claims = json.dumps({"sub": sub, "role": role})
            await conn.execute("select set_config('request.jwt.claims', %s, true)", (claims,))
        yield conn


async def rows(conn: psycopg.AsyncConnection[Any], query: str, *args: Any) -> list[tuple[Any, ...]]:
    cursor = await conn.execute(query, args)
    return await cursor.fetchall()


async def test_the_owner_sees_their_chats_and_turns(
    supabase_db: psycopg.AsyncConnection[Any],
) -> None:
    async with acting_as(supabase_db, "authenticated", ALICE) as conn:
        assert await rows(conn, "select user_id, chat_id from chats") == [(ALICE, "c1")]
        assert await rows(conn, "select id from chat_turns order by id") == [(1,), (2,)]
        await conn.execute("update chats set title = 'Renamed' where chat_id = 'c1'")
        assert await rows(conn, "select title from chats") == [("Renamed",)]
        cursor = await conn.execute(
            "insert into chat_turns (user_id, chat_id, role, content, client_msg_id)"
            " values (%s, 'c1', 'user', 'more', 'm2') returning id",
            (ALICE,),
        )
        question = await cursor.fetchone()
        assert question is not None
        await conn.execute(
            "insert into chat_turns (user_id, chat_id, role, content, reply_to)"
            " values (%s, 'c1', 'assistant', 'more answer', %s)",
            (ALICE, question[0]),
        )


async def test_another_user_sees_and_changes_nothing_of_theirs(
    supabase_db: psycopg.AsyncConnection[Any],
) -> None:
    async with acting_as(supabase_db, "authenticated", BOB) as conn:
        assert await rows(conn, "select * from chats") == []
        assert await rows(conn, "select * from chat_turns") == []
        updated = await conn.execute(
            "update chats set title = 'mine now' where user_id = %s", (ALICE,)
        )
        deleted = await conn.execute("delete from chat_turns where user_id = %s", (ALICE,))
        assert (updated.rowcount, deleted.rowcount) == (0, 0)
        with pytest.raises(InsufficientPrivilege, match="row-level security"):
            async with conn.transaction():
                await conn.execute(
                    "insert into chats (user_id, chat_id) values (%s, 'planted')", (ALICE,)
                )
        # His own chat is his, but the answer slot of Alice's question is not.
        await conn.execute("insert into chats (user_id, chat_id) values (%s, 'b1')", (BOB,))
        with pytest.raises(InsufficientPrivilege, match="row-level security"):
            async with conn.transaction():
                await conn.execute(
                    "insert into chat_turns (user_id, chat_id, role, content, reply_to)"
                    " values (%s, 'b1', 'assistant', 'squatted', 1)",
                    (BOB,),
                )
    assert await rows(supabase_db, "select title from chats where user_id = %s", ALICE) == [
        ("Alice's chat",)
    ]
    assert await rows(supabase_db, "select count(*) from chat_turns") == [(2,)]


async def test_anon_sees_nothing(supabase_db: psycopg.AsyncConnection[Any]) -> None:
    async with acting_as(supabase_db, "anon") as conn:
        assert await rows(conn, "select * from chats") == []
        assert await rows(conn, "select * from chat_turns") == []
        with pytest.raises(InsufficientPrivilege):
            async with conn.transaction():
                await conn.execute("insert into chats (user_id, chat_id) values ('x', 'y')")


@pytest.mark.parametrize(
    "table",
    [
        "users",
        "auth_sessions",
        "schema_migrations",
        # The guards' (0016): streaks, buckets, sockets, invitation hashes.
        "auth_throttle",
        "rate_buckets",
        "open_sockets",
        "invites",
    ],
)
@pytest.mark.parametrize("role", ["anon", "authenticated"])
async def test_accounts_and_the_migration_log_are_closed_to_end_users(
    supabase_db: psycopg.AsyncConnection[Any], table: str, role: str
) -> None:
    async with acting_as(supabase_db, role, ALICE) as conn:
        with pytest.raises(InsufficientPrivilege):
            await conn.execute(sql.SQL("select * from {}").format(sql.Identifier(table)))


async def test_the_rls_helper_is_for_migrations_only(
    supabase_db: psycopg.AsyncConnection[Any],
) -> None:
    async with acting_as(supabase_db, "authenticated", ALICE) as conn:
        with pytest.raises(InsufficientPrivilege):
            await conn.execute("select allin_enable_owner_rls('chats', 'user_id')")


async def test_a_later_table_is_protected_in_one_line(
    supabase_db: psycopg.AsyncConnection[Any],
) -> None:
    async with supabase_db.transaction(force_rollback=True):
        await supabase_db.execute("create table notes (user_id text not null, body text)")
        await supabase_db.execute("select allin_enable_owner_rls('notes', 'user_id')")
        # Applying it twice is harmless, as a re-run migration would.
        await supabase_db.execute("select allin_enable_owner_rls('notes', 'user_id')")
        await supabase_db.execute(
            "insert into notes values (%s, 'alice''s'), (%s, 'bob''s')", (ALICE, BOB)
        )
        async with acting_as(supabase_db, "authenticated", BOB) as conn:
            assert await rows(conn, "select body from notes") == [("bob's",)]


async def test_without_an_auth_schema_nothing_changes(postgres: Any) -> None:
    async with await psycopg.AsyncConnection.connect(
        new_database(postgres), autocommit=True
    ) as conn:
        await migrate(conn)
        enabled = await rows(
            conn,
            "select relname from pg_class where relrowsecurity"
            " and relnamespace = 'public'::regnamespace",
        )
        policies = await rows(conn, "select policyname from pg_policies")
    assert (enabled, policies) == ([], [])


async def test_feedback_is_the_owners_and_only_on_their_own_turns(
    supabase_db: psycopg.AsyncConnection[Any],
) -> None:
    async with acting_as(supabase_db, "authenticated", ALICE) as conn:
        await conn.execute(
            "insert into turn_feedback (turn_id, user_id, rating) values (2, %s, -1)", (ALICE,)
        )
        assert await rows(conn, "select turn_id, rating from turn_feedback") == [(2, -1)]
    async with acting_as(supabase_db, "authenticated", BOB) as conn:
        # Alice's answer, rated as Bob: refused by the restrictive policy of migration 0013.
        with pytest.raises(InsufficientPrivilege, match="row-level security"):
            async with conn.transaction():
                await conn.execute(
                    "insert into turn_feedback (turn_id, user_id, rating) values (2, %s, 1)",
                    (BOB,),
                )
    await supabase_db.execute(
        "insert into turn_feedback (turn_id, user_id, rating) values (2, %s, 1)", (ALICE,)
    )
    try:
        async with acting_as(supabase_db, "authenticated", BOB) as conn:
            assert await rows(conn, "select * from turn_feedback") == []
    finally:
        await supabase_db.execute("delete from turn_feedback")
