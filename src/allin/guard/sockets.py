"""How many chat sockets one user may have open at once (README "Security"), counted in Postgres
so that the cap holds across processes."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from allin.config import Settings
from allin.errors import RateLimited
from allin.storage.throttle import ThrottleStore

# How often a process tells the database its sockets are still open; a socket row not refreshed
# for `_STALE_AFTER_BEATS` beats belongs to a process that died, and stops counting.
HEARTBEAT_S = 10.0
_STALE_AFTER_BEATS = 3


class SocketPlace:
    def __init__(self, store: ThrottleStore, socket_id: str | None, held: set[str]) -> None:
        self._store = store
        self._socket_id = socket_id
        self._held = held

    async def release(self) -> None:
        if self._socket_id is not None:
            socket_id, self._socket_id = self._socket_id, None
            # No longer kept alive by the heartbeat: if the delete below fails (the database is
            # away), the row goes stale and stops counting anyway.
            self._held.discard(socket_id)
            # Shielded: a socket torn down by cancellation must still give its place back.
            await asyncio.shield(self._store.close_socket(socket_id))


class SocketGuard:
    def __init__(
        self, store: ThrottleStore, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._max_sockets = settings.max_sockets_per_user
        # Each app process is one; its sockets' rows name it.
        self.process_id = uuid.uuid4().hex
        self.clock = clock
        # The places this process holds, whose rows its heartbeat refreshes.
        self._held: set[str] = set()

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    async def take_place(self, user_id: str) -> SocketPlace:
        """One of the user's socket places, held until released; `RateLimited` if all are
        taken (on any process)."""
        if self._max_sockets <= 0:
            return SocketPlace(self._store, None, self._held)
        socket_id = await self._store.open_socket(
            user_id,
            self.process_id,
            self._max_sockets,
            self._now(),
            self.stale_after,
        )
        if socket_id is None:
            raise RateLimited(
                f"{self._max_sockets} chat sockets are open for this user already; close one first",
                HEARTBEAT_S,
            )
        self._held.add(socket_id)
        return SocketPlace(self._store, socket_id, self._held)

    async def keep_alive(self) -> None:
        """This process's sockets are still open (its heartbeat, every `HEARTBEAT_S`)."""
        if self._held:
            await self._store.still_open(list(self._held), self._now())

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=HEARTBEAT_S * _STALE_AFTER_BEATS)
