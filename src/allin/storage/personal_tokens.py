"""All SQL about personal access tokens (`personal_tokens`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from allin.errors import NotFound
from allin.storage.db import Database


class PersonalToken(BaseModel):
    """A token as its owner sees it in the list: never the token, never its hash."""

    id: str
    user_id: str
    name: str
    hint: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenOwner(BaseModel):
    """Whom a presented token stands for, right now."""

    token_id: str
    user_id: str
    scopes: list[str]
    email: str | None
    is_admin: bool


_COLUMNS = "id, user_id, name, hint, scopes, created_at, expires_at, last_used_at, revoked_at"


class PersonalTokenStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self,
        user_id: str,
        name: str,
        token_hash: str,
        hint: str,
        scopes: list[str],
        expires_at: datetime,
    ) -> PersonalToken:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "insert into personal_tokens (user_id, name, token_hash, hint, scopes, expires_at)"
                f" values (%s, %s, %s, %s, %s, %s) returning {_COLUMNS}",
                (user_id, name, token_hash, hint, scopes, expires_at),
            )
            row = await cursor.fetchone()
        assert row is not None
        return PersonalToken(**row)

    async def of_user(self, user_id: str) -> list[PersonalToken]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {_COLUMNS} from personal_tokens where user_id = %s"
                " order by created_at desc, id",
                (user_id,),
            )
            rows = await cursor.fetchall()
        return [PersonalToken(**row) for row in rows]

    async def revoke(self, user_id: str, token_id: str) -> PersonalToken:
        """Revoke one of the user's tokens (again is fine); another user's is not found."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "update personal_tokens set revoked_at = coalesce(revoked_at, now())"
                f" where id = %s and user_id = %s returning {_COLUMNS}",
                (token_id, user_id),
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"no token {token_id!r}")
        return PersonalToken(**row)

    async def owner(self, token_hash: str) -> TokenOwner | None:
        """The owner of a live (unrevoked, unexpired) token, noting its use at most once a minute
        so that verifying a token costs one statement and the row is not rewritten per call.
        The email and admin flag are the account's current ones (none in Supabase mode)."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "with live as ("
                "  select id, user_id, scopes, last_used_at from personal_tokens"
                "  where token_hash = %s and revoked_at is null and expires_at > now()"
                "), touched as ("
                "  update personal_tokens t set last_used_at = now() from live"
                "  where t.id = live.id and (live.last_used_at is null"
                "  or live.last_used_at < now() - interval '1 minute')"
                ")"
                " select live.id as token_id, live.user_id, live.scopes, u.email,"
                " coalesce(u.is_admin, false) as is_admin"
                " from live left join users u on u.id = live.user_id",
                (token_hash,),
            )
            row = await cursor.fetchone()
        return TokenOwner(**row) if row else None
