"""A per-user token bucket for messages, in this process (each worker limits on its own)."""

from __future__ import annotations

import time
from collections.abc import Callable

# Buckets of users idle long enough to be full again are dropped past this many.
_PRUNE_ABOVE = 10_000


class RateLimiter:
    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate = per_minute / 60
        # A quarter of a minute's allowance at once: a quick follow-up is fine, a flood is not.
        self._burst = max(1.0, per_minute / 4)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self.enabled = per_minute > 0

    def allow(self, user_id: str) -> bool:
        if not self.enabled:
            return True
        now = self._clock()
        tokens, since = self._buckets.get(user_id, (self._burst, now))
        tokens = min(self._burst, tokens + (now - since) * self._rate)
        if len(self._buckets) > _PRUNE_ABOVE:
            self._prune(now)
        if tokens < 1:
            self._buckets[user_id] = (tokens, now)
            return False
        self._buckets[user_id] = (tokens - 1, now)
        return True

    def _prune(self, now: float) -> None:
        refill_s = self._burst / self._rate
        self._buckets = {
            user: (tokens, since)
            for user, (tokens, since) in self._buckets.items()
            if now - since < refill_s
        }
