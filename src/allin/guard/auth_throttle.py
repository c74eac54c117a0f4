"""Log-in and sign-up attempts, throttled by account (the e-mail) and by client address.

An attempt is counted *before* its password is hashed: parallel guesses are counted one after
the other in Postgres, and those past the allowance are refused at once, without taking the
hashing threads other users' log-ins need. While a key waits, even the right password is
refused, so a streak of wrong ones cannot end in a log-in before its backoff has passed."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Literal

from allin.config import Settings
from allin.errors import RateLimited
from allin.guard.backoff import Backoff
from allin.storage.throttle import ThrottleStore

# What a success does to a key's streak: `end` it (the account's: whoever knows the password may
# log in again freely), `refund` its own attempt (an address: a valid account of the attacker's
# must not wipe out their guesses at others), or `keep` it (each sign-up from an address counts).
OnSuccess = Literal["end", "refund", "keep"]


@dataclass(frozen=True)
class Rule:
    scope: str
    backoff: Backoff
    on_success: OnSuccess


@dataclass(frozen=True)
class _Counted:
    rule: Rule
    key: str


class Attempt:
    """An attempt that was let through; tell it whether it succeeded."""

    def __init__(self, store: ThrottleStore, counted: list[_Counted]) -> None:
        self._store = store
        self._counted = counted

    async def succeeded(self) -> None:
        for counted in self._counted:
            await _settle(self._store, counted)


class AuthThrottle:
    def __init__(
        self, store: ThrottleStore, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self._store = store
        # Wall-clock seconds; the same in every process (tests replace it to move time).
        self.clock = clock

        def backoff(free: int) -> Backoff:
            return Backoff(
                free=free,
                first_wait_s=settings.auth_backoff_s,
                max_wait_s=settings.auth_backoff_max_s,
                forget_s=settings.auth_forget_s,
            )

        self._login_account = Rule(
            "login-account", backoff(settings.login_failures_per_account), "end"
        )
        self._login_address = Rule(
            "login-address", backoff(settings.login_failures_per_address), "refund"
        )
        self._signup_account = Rule(
            "signup-account", backoff(settings.login_failures_per_account), "end"
        )
        self._signup_address = Rule("signup-address", backoff(settings.signups_per_address), "keep")

    async def login(self, email: str, address: str | None) -> Attempt:
        """Count a log-in attempt, or raise `RateLimited` (with the wait) if it must wait."""
        return await self._attempt(
            [(self._login_account, email.lower()), (self._login_address, address)],
            "too many failed log-ins",
        )

    async def signup(self, email: str, address: str | None) -> Attempt:
        return await self._attempt(
            [(self._signup_account, email.lower()), (self._signup_address, address)],
            "too many sign-ups",
        )

    async def _attempt(self, keys: list[tuple[Rule, str | None]], what: str) -> Attempt:
        counted: list[_Counted] = []
        for rule, key in keys:
            if not rule.backoff.enabled or not key:
                continue
            now = datetime.fromtimestamp(self.clock(), UTC)
            before, after = await self._store.charge(
                rule.scope, key, now, partial(rule.backoff.count, now=now)
            )
            if after is None:
                # Keys already counted for this attempt give it back: it never happened.
                for done in counted:
                    await self._store.refund(done.rule.scope, done.key, done.rule.backoff.free)
                assert before is not None and before.blocked_until is not None
                wait = (before.blocked_until - now).total_seconds()
                by = "account" if rule.scope.endswith("account") else "address"
                raise RateLimited(
                    f"{what} for this {by}; try again in {max(1, round(wait))} s", wait
                )
            counted.append(_Counted(rule, key))
        return Attempt(self._store, counted)


async def _settle(store: ThrottleStore, counted: _Counted) -> None:
    rule = counted.rule
    if rule.on_success == "end":
        await store.forget(rule.scope, counted.key)
    elif rule.on_success == "refund":
        await store.refund(rule.scope, counted.key, rule.backoff.free)
