"""An answer's text published as it streams, without one database round trip per chunk.

Each published frame costs a transaction (`allin_publish`: its seq, the partial answer, the relay
notification). A fast model under load produces chunks faster than that: text that arrives while
a frame is being published waits and goes out in the next frame, joined. With nothing waiting,
each chunk is published the moment it arrives, so an idle server streams exactly as before; a
busy one sends fewer, longer token frames instead of falling behind.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

from allin.chat.frames import Token
from allin.chat.streams import ChatStream


class TokenPublisher:
    """`async with TokenPublisher(...) as publisher: publisher.add(text)…`; on a normal exit every
    added text has been published; on an error or a cancellation what is still waiting is not."""

    def __init__(self, stream: ChatStream, answer_id: int, question_id: int) -> None:
        self._stream = stream
        self._answer_id = answer_id
        self._question_id = question_id
        self._waiting: list[str] = []
        self._published = 0
        self._more = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> TokenPublisher:
        self._task = asyncio.create_task(self._publish_waiting())
        return self

    def add(self, text: str) -> None:
        """Queue `text`; raises what made publishing fail (a lost database), if it did."""
        assert self._task is not None
        if self._task.done():
            self._task.result()
        self._waiting.append(text)
        self._more.set()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self._task is not None
        if kind is None:
            self._closing = True
            self._more.set()
            await self._task
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self._task

    async def _publish_waiting(self) -> None:
        while True:
            if not self._waiting:
                if self._closing:
                    return
                await self._more.wait()
                self._more.clear()
                continue
            text = "".join(self._waiting)
            self._waiting.clear()
            token = Token(
                turn_id=self._answer_id,
                reply_to=self._question_id,
                text=text,
                offset=self._published,
            )
            self._published += len(text)
            await self._stream.publish(token, run=self._question_id)
