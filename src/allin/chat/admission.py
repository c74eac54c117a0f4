"""How many turns a process answers at once; the others wait their turn, in order.

A turn's work is mostly waiting on shared things: the embedder's forward passes, the database
pool, the cores. With every turn admitted at once, a burst of a hundred made each of them wait on
all the others at every step, so that all of them were slow and some ran past their timeouts (a
memory search abandoned, a turn answered without the user's memories). Admitting a few at a time
keeps each admitted turn fast; the rest queue first-come first-served, and their clients are told
(a `busy` frame) rather than left wondering. `/readyz` reports a queue, so a load balancer can
send new users to a less busy process.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable


class TurnAdmission:
    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.in_flight = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._unsaturated = asyncio.Event()
        self._unsaturated.set()

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    @property
    def saturated(self) -> bool:
        """Every slot is taken and turns are waiting for one."""
        return bool(self._waiting)

    @contextlib.asynccontextmanager
    async def admitted(
        self, when_waiting: Callable[[int], Awaitable[None]] | None = None
    ) -> AsyncIterator[None]:
        """Hold a slot for the block; with none free, first call `when_waiting(turns ahead)`
        and wait for one, after the turns that were waiting already."""
        if self.in_flight < self.capacity and not self._waiting:
            self.in_flight += 1
        else:
            slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._waiting.append(slot)
            self._unsaturated.clear()
            try:
                if when_waiting is not None:
                    await when_waiting(len(self._waiting) - 1)
                await slot  # the slot is handed over by the turn that leaves it (`_release`)
            except BaseException:
                if slot.done() and not slot.cancelled():
                    self._release()  # handed a slot just as it gave up: pass it on
                else:
                    self._forget(slot)
                raise
        try:
            yield
        finally:
            self._release()

    async def until_unsaturated(self, timeout_s: float) -> None:
        """Wait, at most `timeout_s`, until no turn is waiting: background work (learning) that
        gives way to answers."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                await self._unsaturated.wait()

    def _release(self) -> None:
        while self._waiting:
            slot = self._waiting.popleft()
            if not slot.done():
                slot.set_result(None)  # the slot passes on: in_flight stays the same
                self._update()
                return
        self.in_flight -= 1
        self._update()

    def _forget(self, slot: asyncio.Future[None]) -> None:
        with contextlib.suppress(ValueError):
            self._waiting.remove(slot)
        self._update()

    def _update(self) -> None:
        if not self._waiting:
            self._unsaturated.set()
