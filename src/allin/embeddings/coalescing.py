"""Texts asked for at the same time, embedded in shared forward passes.

On a CPU a model's forward pass costs nearly as much for one short text as for a dozen, so one
pass per request makes a queue that grows with the load: at 100 concurrent chats (each turn embeds
its question twice, for memory and for the documents) the last request waited for 200 passes.
Here requests that arrive while a pass runs wait for the next one and share it: the wait for a
vector is then about two passes, however many chats ask.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, TypeVar

Vectors = list[list[float]]
T = TypeVar("T")


@dataclass
class _Request(Generic[T]):
    texts: list[str]
    vectors: asyncio.Future[list[T]]


class CoalescingEncoder(Generic[T]):
    """`await encoder.encode(texts)` from any number of tasks: one pass at a time runs `encode` in
    `executor` over the texts of every request waiting (whole requests, up to `max_texts` texts
    unless a single request is larger) and hands each request its own vectors, in order."""

    def __init__(
        self, encode: Callable[[list[str]], list[T]], executor: Executor, max_texts: int
    ) -> None:
        self._encode = encode
        self._executor = executor
        self._max_texts = max_texts
        self._waiting: deque[_Request[T]] = deque()
        self._passes: asyncio.Task[None] | None = None
        # How many passes ran, and how many requests they served: for tests and benchmarks.
        self.passes = 0
        self.requests = 0

    async def encode(self, texts: list[str]) -> list[T]:
        if not texts:
            return []
        request: _Request[T] = _Request(texts, asyncio.get_running_loop().create_future())
        self._waiting.append(request)
        if self._passes is None or self._passes.done():
            self._passes = asyncio.create_task(self._run_passes(), name="embedding-passes")
        # A caller that gives up (cancelled, timed out) leaves its future cancelled: its texts
        # are dropped from the pass that would have carried them.
        return await request.vectors

    def close(self) -> None:
        if self._passes is not None:
            self._passes.cancel()
        _fail(list(self._waiting), RuntimeError("the embedder was closed"))
        self._waiting.clear()

    async def _run_passes(self) -> None:
        loop = asyncio.get_running_loop()
        while batch := self._next_batch():
            texts = [text for request in batch for text in request.texts]
            try:
                vectors = await loop.run_in_executor(self._executor, self._encode, texts)
            except asyncio.CancelledError:
                _fail(batch, RuntimeError("the embedder was closed"))
                raise
            except Exception as exc:
                _fail(batch, exc)
                continue
            self.passes += 1
            self.requests += len(batch)
            start = 0
            for request in batch:
                end = start + len(request.texts)
                if not request.vectors.done():
                    request.vectors.set_result(vectors[start:end])
                start = end

    def _next_batch(self) -> list[_Request[T]]:
        batch: list[_Request[T]] = []
        count = 0
        while self._waiting:
            request = self._waiting[0]
            if request.vectors.done():  # its caller gave up
                self._waiting.popleft()
                continue
            if batch and count + len(request.texts) > self._max_texts:
                break
            batch.append(self._waiting.popleft())
            count += len(request.texts)
        return batch


def _fail(requests: list[_Request[T]], error: BaseException) -> None:
    for request in requests:
        if not request.vectors.done():
            request.vectors.set_exception(error)
