"""The guards' background work in each app process: the heartbeat of its open sockets, and
deleting rows that no longer count (guessed e-mails and passing addresses add rows)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from allin.config import Settings
from allin.guard.sockets import HEARTBEAT_S, SocketGuard
from allin.storage.throttle import ThrottleStore

logger = logging.getLogger(__name__)

# Pruning is not urgent: once every few minutes, by whichever processes are up.
_PRUNE_EVERY_BEATS = 30
# A bucket untouched this long is full again (any of ours refills within a minute): its row says
# nothing a missing row would not.
_BUCKET_IDLE = timedelta(hours=1)


async def keep_guards(sockets: SocketGuard, store: ThrottleStore, settings: Settings) -> None:
    beats = 0
    while True:
        await asyncio.sleep(HEARTBEAT_S)
        beats += 1
        try:
            await sockets.keep_alive()
            if beats % _PRUNE_EVERY_BEATS == 0:
                now = datetime.fromtimestamp(sockets.clock(), UTC)
                await store.prune(
                    streaks_before=now - timedelta(seconds=settings.auth_forget_s),
                    buckets_before=now - _BUCKET_IDLE,
                    sockets_before=now - sockets.stale_after,
                )
        except Exception as exc:
            # The database is away: socket rows go stale meanwhile, and the next beat refreshes
            # them.
            logger.warning("could not keep the guards' rows: %s", exc)
