"""The guards' storage and arithmetic: the backoff rule, token buckets, and pruning what no
longer counts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from allin.guard.backoff import Backoff
from allin.services import Services
from allin.storage.throttle import Streak, ThrottleStore

# Long past: pruning at these times leaves the rows of other tests (real time) alone.
T0 = datetime(2000, 1, 1, tzinfo=UTC)
RULE = Backoff(free=3, first_wait_s=2, max_wait_s=30, forget_s=600)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_backoff_waits_only_past_the_allowance_then_doubles_up_to_the_maximum() -> None:
    assert [RULE.wait_after(n) for n in range(1, 9)] == [0, 0, 2, 4, 8, 16, 30, 30]
    # A very long streak stays at the maximum (no overflow).
    assert RULE.wait_after(10_000) == 30


def test_backoff_refuses_while_waiting_and_forgets_a_quiet_streak() -> None:
    waiting = Streak(failures=3, blocked_until=at(2), last_at=at(0))
    assert RULE.count(waiting, at(1)) is None
    counted = RULE.count(waiting, at(2))
    assert counted == Streak(failures=4, blocked_until=at(6), last_at=at(2))
    assert RULE.count(waiting, at(601)) == Streak(failures=1, blocked_until=None, last_at=at(601))


@pytest.fixture
def store(services: Services) -> ThrottleStore:
    return ThrottleStore(services.db)


async def test_a_bucket_gives_its_burst_then_refills_at_its_rate(store: ThrottleStore) -> None:
    key = f"test:{uuid.uuid4().hex}"
    assert [await store.take_token(key, 0.5, 2, at(0)) for _ in range(2)] == [None, None]
    assert await store.take_token(key, 0.5, 2, at(0)) == pytest.approx(2.0)
    # Refused calls take nothing: a second later the wait is a second shorter.
    assert await store.take_token(key, 0.5, 2, at(1)) == pytest.approx(1.0)
    assert await store.take_token(key, 0.5, 2, at(2)) is None


async def test_pruning_deletes_only_what_no_longer_counts(
    store: ThrottleStore, services: Services
) -> None:
    scope, old_key, new_key = "test", uuid.uuid4().hex, uuid.uuid4().hex
    for key, when in ((old_key, at(0)), (new_key, at(100))):
        await store.charge(scope, key, when, lambda _, when=when: Streak(1, None, when))
    await store.prune(streaks_before=at(50), buckets_before=at(50), sockets_before=at(50))
    async with services.db.connection() as conn:
        cursor = await conn.execute(
            "select key from auth_throttle where scope = %s and key = any(%s)",
            (scope, [old_key, new_key]),
        )
        assert [row["key"] for row in await cursor.fetchall()] == [new_key]
