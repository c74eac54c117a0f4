"""All SQL about local accounts and their sessions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

from psycopg.errors import UniqueViolation
from pydantic import BaseModel

from allin.errors import Conflict
from allin.storage.db import Connection, Database

# Serializes sign-ups so that exactly one first user becomes admin.
_SIGNUP_LOCK_KEY = 0x616C6C696E + 1


# Decides, inside the sign-up's transaction, whether the account may be made: given the
# connection and whether it would be the first account; raises to refuse.
Admission = Callable[[Connection, bool], Awaitable[None]]


class User(BaseModel):
    id: str
    email: str
    password_hash: str
    is_admin: bool
    created_at: datetime


class UserRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, email: str, password_hash: str, *, admit: Admission | None = None
    ) -> User:
        """A new account; the first one ever created is the admin. `admit` may refuse it (by
        raising) within the same transaction, so an invitation it uses up is used only if the
        account is made."""
        try:
            async with self._db.transaction() as conn:
                await conn.execute("select pg_advisory_xact_lock(%s)", (_SIGNUP_LOCK_KEY,))
                if admit is not None:
                    cursor = await conn.execute("select not exists (select 1 from users) as first")
                    first = await cursor.fetchone()
                    assert first is not None
                    await admit(conn, bool(first["first"]))
                cursor = await conn.execute(
                    "insert into users (email, password_hash, is_admin)"
                    " values (%s, %s, not exists (select 1 from users)) returning *",
                    (email, password_hash),
                )
                row = await cursor.fetchone()
        except UniqueViolation:
            raise Conflict("an account with this email already exists") from None
        assert row is not None
        return User(**row)

    async def by_email(self, email: str) -> User | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from users where lower(email) = lower(%s)", (email,)
            )
            row = await cursor.fetchone()
        return User(**row) if row else None

    async def by_id(self, user_id: str) -> User | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute("select * from users where id = %s", (user_id,))
            row = await cursor.fetchone()
        return User(**row) if row else None

    async def open_session(self, user_id: str, expires_at: datetime) -> str:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "insert into auth_sessions (user_id, expires_at) values (%s, %s) returning id",
                (user_id, expires_at),
            )
            row = await cursor.fetchone()
        assert row is not None
        return str(row["id"])

    async def session_user(self, session_id: str, user_id: str) -> User | None:
        """The account as it is now, if this session of theirs is still open."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select u.* from auth_sessions s join users u on u.id = s.user_id"
                " where s.id = %s and s.user_id = %s"
                " and s.revoked_at is null and s.expires_at > now()",
                (session_id, user_id),
            )
            row = await cursor.fetchone()
        return User(**row) if row else None

    async def close_session(self, session_id: str) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "update auth_sessions set revoked_at = now() where id = %s and revoked_at is null",
                (session_id,),
            )
