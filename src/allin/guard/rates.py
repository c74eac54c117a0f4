"""Per-user rates, as token buckets in Postgres so that they hold across processes: messages
(chat messages, recordings and MCP calls share one allowance) and the `ping` and `cancel` frames.

A frame costs one short query; each socket reads its frames one at a time, so a flood from one
user has at most `max_sockets_per_user` such queries in flight."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import psycopg
import psycopg_pool

from allin.config import Settings
from allin.errors import RateLimited
from allin.storage.throttle import ThrottleStore

logger = logging.getLogger(__name__)

ControlFrame = Literal["ping", "cancel"]


class UserRates:
    def __init__(
        self, store: ThrottleStore, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        self._messages_per_minute = settings.rate_limit_per_minute
        self._control_per_minute = settings.control_frames_per_minute
        # Wall-clock seconds, the same in every process (tests replace it to move time).
        self.clock = clock

    async def message_wait(self, user_id: str) -> float | None:
        """Take one message from the user's allowance: None if there was room, else the
        seconds until there is."""
        return await self._take(f"messages:{user_id}", self._messages_per_minute)

    async def control_frame(self, user_id: str, kind: ControlFrame) -> None:
        """Count one `ping` or `cancel` of the user's (each has its own allowance);
        `RateLimited`, with the wait, past the rate."""
        wait = await self._take(f"{kind}:{user_id}", self._control_per_minute)
        if wait is not None:
            raise RateLimited(
                f"more than {self._control_per_minute} {kind} frames a minute; wait a moment",
                wait,
            )

    async def _take(self, key: str, per_minute: int) -> float | None:
        if per_minute <= 0:
            return None
        # A quarter of a minute's allowance at once: a quick follow-up is fine, a flood is not.
        burst = max(1.0, per_minute / 4)
        now = datetime.fromtimestamp(self.clock(), UTC)
        try:
            return await self._store.take_token(key, per_minute / 60, burst, now)
        except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as exc:
            # The database is away: let the frame through rather than fail it here. A `ping`
            # still gets its `pong`, and a message fails where it is stored, as `unavailable`
            # with its id; a flood meanwhile costs no more than the outage does.
            logger.warning("could not count a frame against its rate: %s", exc)
            return None
