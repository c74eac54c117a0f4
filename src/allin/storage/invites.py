"""All SQL about invitations to sign up (`invites`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from allin.errors import NotFound
from allin.storage.db import Connection, Database


class Invite(BaseModel):
    """An invitation as admins see it in the list: never the code, never its hash."""

    id: str
    hint: str
    email: str | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: str | None
    revoked_at: datetime | None


_COLUMNS = "id, hint, email, created_by, created_at, expires_at, used_at, used_by, revoked_at"


class InviteStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def create(
        self, code_hash: str, hint: str, email: str | None, created_by: str, expires_at: datetime
    ) -> Invite:
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "insert into invites (code_hash, hint, email, created_by, expires_at)"
                f" values (%s, %s, %s, %s, %s) returning {_COLUMNS}",
                (code_hash, hint, email, created_by, expires_at),
            )
            row = await cursor.fetchone()
        assert row is not None
        return Invite(**row)

    async def all(self) -> list[Invite]:
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                f"select {_COLUMNS} from invites order by created_at desc, id"
            )
            rows = await cursor.fetchall()
        return [Invite(**row) for row in rows]

    async def revoke(self, invite_id: str) -> Invite:
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "update invites set revoked_at = coalesce(revoked_at, now())"
                f" where id = %s returning {_COLUMNS}",
                (invite_id,),
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound("no such invitation")
        return Invite(**row)

    async def use(self, conn: Connection, code_hash: str, email: str) -> bool:
        """Use the invitation up for `email`, within the sign-up's transaction `conn`; False if
        there is no such invitation, or it is used, revoked, expired or for another address."""
        cursor = await conn.execute(
            "update invites set used_at = now(), used_by = %s"
            " where code_hash = %s and used_at is null and revoked_at is null"
            " and expires_at > now() and (email is null or lower(email) = lower(%s))"
            " returning id",
            (email, code_hash, email),
        )
        return await cursor.fetchone() is not None
