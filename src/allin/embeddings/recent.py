"""A question's vector, asked for again within a turn, without asking the service again.

A turn asks for its question's vector more than once (memory search, retrieval, the offline
answer's lead sentence), a moment apart or at the same time. With a local model the coalescing
encoder shares those (`coalescing.py`); with a remote embedder each ask would be a paid, slow
network call. Here a text being embedded is waited for rather than asked again, and its vector
is kept for a short window.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from typing import Any

from allin.embeddings.coalescing import RECENT_MAX, RECENT_S


class RecentQueries:
    def __init__(
        self,
        embed: Callable[[str], Coroutine[Any, Any, list[float]]],
        *,
        recent_s: float = RECENT_S,
        recent_max: int = RECENT_MAX,
    ) -> None:
        self._embed = embed
        self._recent_s = recent_s
        self._recent_max = recent_max
        # Text -> its vector being fetched, or fetched (and when it expires), oldest first.
        self._known: OrderedDict[str, tuple[asyncio.Task[list[float]], float]] = OrderedDict()
        # How many texts were embedded, for tests and benchmarks.
        self.fetched = 0

    async def embed(self, text: str) -> list[float]:
        now = asyncio.get_running_loop().time()
        while self._known and next(iter(self._known.values()))[1] <= now:
            self._known.popitem(last=False)
        known = self._known.get(text)
        if known is None:
            task = asyncio.create_task(self._embed(text), name="embed-query")
            self.fetched += 1
            self._known[text] = known = (task, now + self._recent_s)
            task.add_done_callback(lambda done: self._forget_failed(text, done))
            while len(self._known) > self._recent_max:
                self._known.popitem(last=False)
        # Shielded: a caller giving up must not cancel the fetch others wait for.
        return await asyncio.shield(known[0])

    def _forget_failed(self, text: str, task: asyncio.Task[list[float]]) -> None:
        """A failure is not kept: the next ask tries again."""
        if task.cancelled() or task.exception() is not None:
            entry = self._known.get(text)
            if entry is not None and entry[0] is task:
                del self._known[text]

    def close(self) -> None:
        for task, _ in self._known.values():
            task.cancel()
        self._known.clear()
