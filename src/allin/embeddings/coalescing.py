"""Texts asked for at the same time, embedded in shared forward passes.

On a CPU a model's forward pass costs nearly as much for one short text as for a dozen, so one
pass per request makes a queue that grows with the load: at 100 concurrent chats (each turn embeds
its question twice, for memory and for the documents) the last request waited for 200 passes.
Here requests that arrive while a pass runs wait for the next one and share it: the wait for a
vector is then about two passes, however many chats ask.

A turn also asks for the same text more than once: memory search and retrieval each embed the
question, a moment apart. A text already being encoded is waited for rather than queued again, and
the vectors of single-text requests (questions, a learned fact) are kept for a short window, so a
question is embedded once per turn whichever part of the turn asks first. Batches (passages being
indexed) are not kept: they are not asked for twice, and would push the questions out.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Generic, TypeVar

Vectors = list[list[float]]
T = TypeVar("T")

# How long a single text's vectors are kept, and how many such texts at most: long enough to cover
# one turn (its memory search and its retrieval), short enough that the cache stays small.
RECENT_S = 30.0
RECENT_MAX = 256


@dataclass
class _Request(Generic[T]):
    texts: list[str]
    vectors: asyncio.Future[list[T]]


class CoalescingEncoder(Generic[T]):
    """`await encoder.encode(texts)` from any number of tasks: one pass at a time runs `encode` in
    `executor` over the texts of every request waiting (whole requests, up to `max_texts` texts
    unless a single request is larger) and hands each request its own vectors, in order."""

    def __init__(
        self,
        encode: Callable[[list[str]], list[T]],
        executor: Executor,
        max_texts: int,
        *,
        recent_s: float = RECENT_S,
        recent_max: int = RECENT_MAX,
    ) -> None:
        self._encode = encode
        self._executor = executor
        self._max_texts = max_texts
        self._waiting: deque[_Request[T]] = deque()
        self._passes: asyncio.Task[None] | None = None
        # Text -> the request encoding it (and its index there), while it waits or runs.
        self._in_flight: dict[str, tuple[_Request[T], int]] = {}
        # Text -> (its vectors, when they expire), oldest first.
        self._recent: OrderedDict[str, tuple[T, float]] = OrderedDict()
        self._recent_s = recent_s
        self._recent_max = recent_max
        # How many passes ran, how many requests they served, and how many texts were answered
        # without a pass of their own: for tests and benchmarks.
        self.passes = 0
        self.requests = 0
        self.shared = 0

    async def encode(self, texts: list[str]) -> list[T]:
        if not texts:
            return []
        known = self._recently_encoded(texts)
        shared = {
            text: self._in_flight[text]
            for text in texts
            if text not in known
            and text in self._in_flight
            and not self._in_flight[text][0].vectors.done()
        }
        new = list(dict.fromkeys(t for t in texts if t not in known and t not in shared))
        self.shared += len(texts) - len(new)
        own = self._queue(new) if new else None
        try:
            if shared:
                known.update(await self._wait_for_others(shared))
            if own is not None:
                # A caller that gives up (cancelled, timed out) leaves its future cancelled: its
                # texts are dropped from the pass that would have carried them.
                known.update(zip(new, await own.vectors, strict=True))
        except BaseException:
            if own is not None:
                own.vectors.cancel()
            raise
        return [known[text] for text in texts]

    def _queue(self, texts: list[str]) -> _Request[T]:
        request: _Request[T] = _Request(texts, asyncio.get_running_loop().create_future())
        if len(texts) == 1:
            # A question goes ahead of the bulk work waiting (a document's chunks, 64 at a time):
            # it waits for the pass running, never for the ingestion queued behind it.
            bulk = (i for i, waiting in enumerate(self._waiting) if len(waiting.texts) > 1)
            self._waiting.insert(next(bulk, len(self._waiting)), request)
        else:
            self._waiting.append(request)
        for index, text in enumerate(texts):
            self._in_flight[text] = (request, index)
        if self._passes is None or self._passes.done():
            self._passes = asyncio.create_task(self._run_passes(), name="embedding-passes")
        return request

    async def _wait_for_others(self, shared: dict[str, tuple[_Request[T], int]]) -> dict[str, T]:
        """The vectors of texts other requests are encoding; if such a request was given up by
        its caller, its texts are encoded anew."""
        # `wait`, not `gather`: giving up here must not cancel the other callers' requests.
        await asyncio.wait({request.vectors for request, _ in shared.values()})
        found: dict[str, T] = {}
        given_up = []
        for text, (request, index) in shared.items():
            if request.vectors.cancelled():
                given_up.append(text)
            else:
                found[text] = request.vectors.result()[index]
        if given_up:
            found.update(zip(given_up, await self.encode(given_up), strict=True))
        return found

    def _recently_encoded(self, texts: list[str]) -> dict[str, T]:
        now = asyncio.get_running_loop().time()
        while self._recent and next(iter(self._recent.values()))[1] <= now:
            self._recent.popitem(last=False)
        return {text: self._recent[text][0] for text in texts if text in self._recent}

    def _finished(self, request: _Request[T]) -> None:
        for text in request.texts:
            if self._in_flight.get(text, (None, 0))[0] is request:
                del self._in_flight[text]
        if len(request.texts) != 1 or not request.vectors.done() or request.vectors.cancelled():
            return
        if request.vectors.exception() is not None:
            return
        (text,), (vectors,) = request.texts, request.vectors.result()
        self._recent[text] = (vectors, asyncio.get_running_loop().time() + self._recent_s)
        self._recent.move_to_end(text)
        while len(self._recent) > self._recent_max:
            self._recent.popitem(last=False)

    def close(self) -> None:
        if self._passes is not None:
            self._passes.cancel()
        _fail(list(self._waiting), RuntimeError("the embedder was closed"))
        self._waiting.clear()
        self._in_flight.clear()
        self._recent.clear()

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
            finally:
                for request in batch:
                    if request.vectors.done():
                        self._finished(request)
            self.passes += 1
            self.requests += len(batch)
            start = 0
            for request in batch:
                end = start + len(request.texts)
                if not request.vectors.done():
                    request.vectors.set_result(vectors[start:end])
                    self._finished(request)
                start = end

    def _next_batch(self) -> list[_Request[T]]:
        batch: list[_Request[T]] = []
        count = 0
        while self._waiting:
            request = self._waiting[0]
            if request.vectors.done():  # its caller gave up
                self._finished(self._waiting.popleft())
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
