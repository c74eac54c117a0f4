"""All SQL behind the limits that hold across app processes: failed-attempt streaks
(`auth_throttle`), token buckets (`rate_buckets`) and open sockets (`open_sockets`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from allin.storage.db import Connection, Database


@dataclass(frozen=True)
class Streak:
    """A key's attempts since its streak began, and until when it must wait."""

    failures: int
    blocked_until: datetime | None
    last_at: datetime


class ThrottleStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def charge(
        self, scope: str, key: str, now: datetime, decide: Callable[[Streak | None], Streak | None]
    ) -> tuple[Streak | None, Streak | None]:
        """Apply `decide` to the key's streak under a row lock, so that parallel attempts are
        counted one after the other: it returns the new streak, or None to refuse (nothing is
        written then). Returns the streak before, and what `decide` returned."""
        async with self._db.transaction() as conn:
            # The row must exist to be locked; a new one starts empty and `decide` fills it.
            await conn.execute(
                "insert into auth_throttle (scope, key, failures, last_at) values (%s, %s, 0, %s)"
                " on conflict do nothing",
                (scope, key, now),
            )
            cursor = await conn.execute(
                "select failures, blocked_until, last_at from auth_throttle"
                " where scope = %s and key = %s for update",
                (scope, key),
            )
            row = await cursor.fetchone()
            assert row is not None
            current = Streak(**row) if row["failures"] > 0 else None
            updated = decide(current)
            if updated is not None:
                await _write(conn, scope, key, updated)
            return current, updated

    async def refund(self, scope: str, key: str, free: int) -> None:
        """Give one counted attempt back (it succeeded); below `free`, the wait ends too."""
        async with self._db.connection() as conn:
            await conn.execute(
                "update auth_throttle set failures = greatest(failures - 1, 0),"
                " blocked_until = case when failures - 1 >= %s then blocked_until end"
                " where scope = %s and key = %s",
                (free, scope, key),
            )

    async def forget(self, scope: str, key: str) -> None:
        async with self._db.connection() as conn:
            await conn.execute(
                "delete from auth_throttle where scope = %s and key = %s", (scope, key)
            )

    async def take_token(
        self, key: str, per_second: float, burst: float, now: datetime
    ) -> float | None:
        """Take one token from the key's bucket: None if there was one, else the seconds until
        there is. A refused call takes nothing."""
        refill = (
            "least(%(burst)s, b.tokens"
            " + greatest(0, extract(epoch from %(now)s - b.updated_at)) * %(rate)s)"
        )
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "insert into rate_buckets as b (key, tokens, updated_at, last_allowed)"
                " values (%(key)s, %(burst)s - 1, %(now)s, true)"
                " on conflict (key) do update set"
                f" tokens = case when {refill} >= 1 then {refill} - 1 else {refill} end,"
                f" last_allowed = {refill} >= 1,"
                " updated_at = %(now)s"
                " returning tokens, last_allowed",
                {"key": key, "burst": burst, "rate": per_second, "now": now},
            )
            row = await cursor.fetchone()
        assert row is not None
        if row["last_allowed"]:
            return None
        return (1 - float(row["tokens"])) / per_second

    async def open_socket(
        self, user_id: str, process_id: str, cap: int, now: datetime, stale_after: timedelta
    ) -> str | None:
        """Record an open socket of the user's unless they have `cap` live ones already (on any
        process); its id, or None when refused."""
        async with self._db.transaction() as conn:
            # One user's connects are counted one at a time, whichever process they reach.
            await conn.execute(
                "select pg_advisory_xact_lock(hashtext('allin-sockets'), hashtext(%s))", (user_id,)
            )
            await conn.execute(
                "delete from open_sockets where user_id = %s and seen_at < %s",
                (user_id, now - stale_after),
            )
            cursor = await conn.execute(
                "select count(*) as open from open_sockets where user_id = %s", (user_id,)
            )
            row = await cursor.fetchone()
            assert row is not None
            if row["open"] >= cap:
                return None
            cursor = await conn.execute(
                "insert into open_sockets (user_id, process_id, seen_at) values (%s, %s, %s)"
                " returning id",
                (user_id, process_id, now),
            )
            inserted = await cursor.fetchone()
        assert inserted is not None
        return str(inserted["id"])

    async def close_socket(self, socket_id: str) -> None:
        async with self._db.connection() as conn:
            await conn.execute("delete from open_sockets where id = %s", (socket_id,))

    async def still_open(self, socket_ids: list[str], now: datetime) -> None:
        """These sockets are alive (their process's heartbeat)."""
        async with self._db.connection() as conn:
            await conn.execute(
                "update open_sockets set seen_at = %s where id = any(%s)", (now, socket_ids)
            )

    async def prune(
        self, streaks_before: datetime, buckets_before: datetime, sockets_before: datetime
    ) -> None:
        """Delete what no longer counts: forgotten streaks, buckets full again, the sockets of
        processes that died."""
        async with self._db.connection() as conn:
            await conn.execute("delete from auth_throttle where last_at < %s", (streaks_before,))
            await conn.execute("delete from rate_buckets where updated_at < %s", (buckets_before,))
            await conn.execute("delete from open_sockets where seen_at < %s", (sockets_before,))


async def _write(conn: Connection, scope: str, key: str, streak: Streak) -> None:
    await conn.execute(
        "update auth_throttle set failures = %s, blocked_until = %s, last_at = %s"
        " where scope = %s and key = %s",
        (streak.failures, streak.blocked_until, streak.last_at, scope, key),
    )
