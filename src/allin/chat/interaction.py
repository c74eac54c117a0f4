"""The turn pipeline (DESIGN "A text turn"), one path for every model provider.

1. store the user turn (idempotent on the client's message id)
2. in parallel: load the recent conversation, ask every context source (memory, documents)
3. build the prompt
4. stream the model's answer as token frames
5. store the answer with its metadata (model, timings, citations)
6. in the background: tell every turn listener (memory) about the finished turn
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Sequence
from typing import Protocol

from allin.chat.context import Context, ContextSource, TurnListener
from allin.chat.frames import Ack, Done, ErrorOut, ServerFrame, Token
from allin.chat.prompt import build_prompt
from allin.chat.runs import Runs
from allin.config import Settings
from allin.errors import AllinError, BadRequest, TooLarge, as_allin_error
from allin.llm.base import ChatModel, ModelUnavailable
from allin.storage.chat_store import ChatStore
from allin.storage.records import Turn

logger = logging.getLogger(__name__)


class FrameSink(Protocol):
    """Where a turn's frames go. Sending never raises: a sink whose client left drops frames, and
    the turn carries on to be stored."""

    async def send(self, frame: ServerFrame) -> None: ...


class InteractionManager:
    def __init__(
        self,
        settings: Settings,
        chats: ChatStore,
        model: ChatModel,
        runs: Runs,
        sources: Sequence[ContextSource] = (),
        listeners: Sequence[TurnListener] = (),
    ) -> None:
        self._settings = settings
        self._chats = chats
        self._model = model
        self._runs = runs
        self._sources = tuple(sources)
        self._listeners = tuple(listeners)

    def check_message(self, content: str) -> None:
        if not content.strip():
            raise BadRequest("message is empty")
        size = len(content.encode())
        if size > self._settings.max_message_bytes:
            raise TooLarge(
                f"message is {size} bytes; the limit is {self._settings.max_message_bytes}"
            )

    async def handle(
        self, user_id: str, chat_id: str, message_id: str, content: str, sink: FrameSink
    ) -> None:
        """Answer one user message; returns once the answer is stored (or has failed).

        The turn runs detached from the caller: if the caller is cancelled (its client left), the
        message is still stored and answered. A retried message (same id) is stored and answered
        once: the stored answer is sent again, or, while it is being written, awaited.
        """
        self.check_message(content)
        turn = self._runs.detach(
            self._handle(user_id, chat_id, message_id, content, sink), name=f"turn-{message_id}"
        )
        await asyncio.shield(turn)

    async def _handle(
        self, user_id: str, chat_id: str, message_id: str, content: str, sink: FrameSink
    ) -> None:
        question, is_new = await self._chats.append_user_turn(user_id, chat_id, message_id, content)
        # No await between finding that a question has no answer and registering its run, so a
        # concurrent retry always finds the run instead of starting a second one.
        if is_new:
            await self._runs.start_answer(question.id, self._answer(question, sink))
            return
        answer = await self._chats.answer_to(question)
        run = self._runs.answering(question.id)
        if answer is None and run is None:
            await self._runs.start_answer(question.id, self._answer(question, sink))
            return
        await sink.send(Ack(turn=question))
        if answer is None and run is not None:
            answer = await run
        if answer is not None:
            await sink.send(Done(turn=answer))

    async def _answer(self, question: Turn, sink: FrameSink) -> Turn | None:
        await sink.send(Ack(turn=question))
        async with self._runs.one_at_a_time(question.chat_id):
            try:
                return await self._generate(question, sink)
            except Exception as exc:
                error = as_allin_error(exc)
                if isinstance(exc, AllinError):
                    logger.warning("turn %s failed: %s", question.id, error.message)
                else:
                    logger.exception("turn %s failed", question.id)
                await sink.send(ErrorOut.of(error, reply_to=question.client_msg_id))
                return None

    async def _generate(self, question: Turn, sink: FrameSink) -> Turn:
        history, found = await asyncio.gather(
            self._chats.turns_before(
                question.user_id, question.chat_id, question.id, self._settings.history_turns
            ),
            asyncio.gather(*(self._ask(source, question) for source in self._sources)),
        )
        blocks = tuple(context.block for context in found if context.block is not None)
        citations = [citation for context in found for citation in context.citations]
        prompt = build_prompt(question.content, history, blocks)
        turn_id = await self._chats.reserve_turn_id()
        started = time.monotonic()
        first_token_at: float | None = None
        parts: list[str] = []
        stream = self._model.stream(prompt)
        async for text in _stall_guard(stream, self._settings.llm_stall_timeout_s):
            first_token_at = first_token_at or time.monotonic()
            parts.append(text)
            await sink.send(Token(turn_id=turn_id, reply_to=question.id, text=text))
        if not parts:
            raise ModelUnavailable(f"{self._model.name} returned an empty answer")
        finished = time.monotonic()
        metadata = {
            "model": self._model.name,
            "timings": {
                "first_token_ms": _ms((first_token_at or finished) - started),
                "total_ms": _ms(finished - started),
            },
            "history_turns": len(history),
            "citations": citations,
        }
        answer = await self._chats.append_assistant_turn(
            turn_id, question, "".join(parts), metadata
        )
        await sink.send(Done(turn=answer, citations=answer.metadata.get("citations", [])))
        for listener in self._listeners:
            self._runs.detach(
                self._notify(listener, question, answer), name=f"{listener.name}-{answer.id}"
            )
        return answer

    @staticmethod
    async def _ask(source: ContextSource, question: Turn) -> Context:
        try:
            return await source.context_for(question)
        except Exception:
            logger.exception(
                "%s failed for turn %s; answering without it", source.name, question.id
            )
            return Context()

    @staticmethod
    async def _notify(listener: TurnListener, question: Turn, answer: Turn) -> None:
        try:
            await listener.turn_completed(question, answer)
        except Exception:
            logger.exception("%s failed after turn %s", listener.name, answer.id)


async def _stall_guard(stream: AsyncIterator[str], seconds: float) -> AsyncIterator[str]:
    """Re-yield `stream`, failing as unavailable if no chunk arrives for `seconds`: a provider that
    stalls mid-answer must not hold the chat forever."""
    try:
        while True:
            try:
                async with asyncio.timeout(seconds):
                    chunk = await anext(stream)
            except StopAsyncIteration:
                return
            except TimeoutError:
                raise ModelUnavailable(f"the model sent nothing for {seconds:g} s") from None
            yield chunk
    finally:
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
