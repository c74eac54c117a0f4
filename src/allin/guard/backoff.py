"""The backoff rule for streaks of failed attempts, apart from its storage so it reads (and is
tested) as plain arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from allin.storage.throttle import Streak


@dataclass(frozen=True)
class Backoff:
    # Attempts a key may make before each further one waits; 0 turns the rule off.
    free: int
    first_wait_s: float
    max_wait_s: float
    # A streak with no attempt for this long is forgotten.
    forget_s: float

    @property
    def enabled(self) -> bool:
        return self.free > 0

    def wait_after(self, failures: int) -> float:
        """The wait before the next attempt once `failures` attempts are counted: none while they
        are under `free`, then `first_wait_s`, doubling with each one, up to `max_wait_s`."""
        if failures < self.free:
            return 0.0
        # Capped before exponentiation: a long streak must not overflow a float.
        doublings = min(failures - self.free, 64)
        return float(min(self.max_wait_s, self.first_wait_s * 2**doublings))

    def count(self, streak: Streak | None, now: datetime) -> Streak | None:
        """The streak with one more attempt counted, or None if the attempt must wait."""
        if streak is not None and now - streak.last_at > timedelta(seconds=self.forget_s):
            streak = None
        if streak is not None and streak.blocked_until is not None and now < streak.blocked_until:
            return None
        failures = (streak.failures if streak else 0) + 1
        wait = self.wait_after(failures)
        return Streak(
            failures=failures,
            blocked_until=now + timedelta(seconds=wait) if wait else None,
            last_at=now,
        )
