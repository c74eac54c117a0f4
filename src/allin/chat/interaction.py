"""The turn pipeline (DESIGN "A text turn"), one path for every model provider.

A turn is a `TurnRequest`; `InteractionManager.handle` takes it, for a client following the chat:

1. detach the turn once (`Runs.detach`): it runs to its end even if its client leaves
2. store the user turn (`ChatStore.append_user_turn`, idempotent on the client's message id,
   and one turn at a time per message in this process: `Runs.handling`); a question stored
   before is not answered twice: its answer is sent again, or awaited while some process
   writes it
3. own the answer in this process (`Runs.own_answer`); let context sources start their slow
   work (`PreparingSource.prepare`: embedding the question); announce the question (`ack`),
   become the one process writing the answer (`Runs.claim`), take the chat's turn
   (`Runs.one_at_a_time`) and a slot among the turns answered at once (`TurnAdmission`; a
   `busy` frame tells the chat while it waits)
4. in parallel: load the recent conversation, ask every context source (memory, documents)
5. build the prompt (`build_prompt`)
6. stream the model's answer as `token` frames (`TokenPublisher`)
7. store the answer with its metadata: model, timings, citations (`_finish`, which publishes
   `done`); a failure is announced by an `error` frame instead and kept on the question, both
   by the chat store (`ChatStore.mark_turn`)
8. in the background: tell every turn listener (memory) about the finished turn
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass

from allin.chat.admission import TurnAdmission
from allin.chat.context import Context, ContextSource, PreparingSource, TurnListener
from allin.chat.frames import Ack, Busy, Done, ErrorOut
from allin.chat.prompt import build_prompt
from allin.chat.publishing import TokenPublisher
from allin.chat.runs import Runs
from allin.chat.streams import ChatStream, Follower, FrameSink, Streams
from allin.config import Settings
from allin.errors import AllinError, BadRequest, TooLarge, as_allin_error
from allin.llm.base import ChatModel, ContextBlock, ModelUnavailable
from allin.storage.chat_records import Turn
from allin.storage.chat_store import ChatStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One user message to answer. `model` answers it instead of the deployment's (Gemini Live's
    spoken answer, for one); `with_context=False` skips asking the context sources, for a model
    that answers before a lookup could reach it (its answer then has no citations)."""

    user_id: str
    chat_id: str
    message_id: str
    content: str
    model: ChatModel | None = None
    with_context: bool = True


class InteractionManager:
    def __init__(
        self,
        settings: Settings,
        chats: ChatStore,
        model: ChatModel,
        runs: Runs,
        streams: Streams,
        sources: Sequence[ContextSource] = (),
        listeners: Sequence[TurnListener] = (),
        admission: TurnAdmission | None = None,
    ) -> None:
        self._settings = settings
        # How many turns are answered at once (`chat/admission.py`); unbounded unless given.
        self._admission = admission or TurnAdmission(capacity=sys.maxsize)
        self._chats = chats
        self._model = model
        self._runs = runs
        self._streams = streams
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

    async def handle(self, request: TurnRequest, follower: Follower) -> None:
        """Answer one user message for a client following its chat; returns once the answer is
        stored (or has failed). The turn runs detached from the caller: if the caller is
        cancelled (its client left), the message is still stored and answered. A retried
        message (same id) is stored and answered once: the stored answer is sent again, or,
        while it is being written, awaited."""
        self.check_message(request.content)
        turn = self._runs.detach(self._turn(request, follower), name=f"turn-{request.message_id}")
        await asyncio.shield(turn)

    async def ask(self, request: TurnRequest, sink: FrameSink) -> None:
        """`handle` for a caller not following the chat (the CLI, an MCP tool): the chat's frames
        reach `sink` while the turn runs."""
        follower = Follower(sink)
        async with self._streams.following(request.user_id, request.chat_id, follower):
            await follower.start()
            await self.handle(request, follower)

    async def context_for(self, question: Turn) -> tuple[ContextBlock, ...]:
        """What the context sources (memory, documents) give for `question`, as prompt blocks:
        for a model that keeps its own conversation (Gemini Live) and is told it separately."""
        return _blocks(await self._contexts(question))

    async def _turn(self, request: TurnRequest, follower: Follower) -> Turn | None:
        earlier = self._runs.handling(request.user_id, request.chat_id, request.message_id)
        if earlier is not None:
            # The same message, sent twice at once: once that turn has stored it (and answered
            # it, or failed), this one finds it stored below and sends what it finds.
            await asyncio.wait([earlier])
        question, is_new = await self._chats.append_user_turn(
            request.user_id, request.chat_id, request.message_id, request.content
        )
        # No await between finding that a question has no answer and owning its answer, so a
        # concurrent retry always finds the answer's task instead of starting a second one.
        if is_new:
            self._runs.own_answer(question.id)
            return await self._answer(question, request)
        answer = await self._chats.answer_to(question)
        # Another process may be answering: then its frames reach this chat's followers by relay.
        claimed = answer is None and await self._runs.claimed(question.id)
        running = self._runs.answering(question.id)
        if answer is None and running is None and not claimed:
            self._runs.own_answer(question.id)
            return await self._answer(question, request)
        await follower.reply(Ack(turn=question, seq=question.seq))
        if answer is None and running is not None:
            answer = await running
        if answer is not None:
            await follower.reply(Done.of(answer))
        return answer

    async def _answer(self, question: Turn, request: TurnRequest) -> Turn | None:
        if request.with_context:
            self._prepare_context(question)
        async with self._streams.using(question.user_id, question.chat_id) as stream:
            await stream.publish(Ack(turn=question), turn_id=question.id)
            answer_id = await self._chats.reserve_turn_id()
            if not await self._runs.claim(question, answer_id):
                return None
            try:
                async with (
                    self._runs.one_at_a_time(question.user_id, question.chat_id),
                    self._admission.admitted(_busy_notice(stream, question)),
                ):
                    try:
                        answer = await self._generate(question, answer_id, stream, request)
                    except Exception as exc:
                        error = as_allin_error(exc)
                        if isinstance(exc, AllinError):
                            logger.warning("turn %s failed: %s", question.id, error.message)
                        else:
                            logger.exception("turn %s failed", question.id)
                        failure = ErrorOut.of(error, reply_to=question.client_msg_id)
                        await stream.publish(failure, failed_turn=question.id)
                        return None
                    if "failed" in question.metadata:
                        await self._chats.unmark_turn(question.id, "failed")
                    return answer
            finally:
                await _quietly(self._runs.release(question.id), "end run")

    async def _generate(
        self, question: Turn, answer_id: int, stream: ChatStream, request: TurnRequest
    ) -> Turn:
        model = request.model or self._model
        parts: list[str] = []
        metadata: dict[str, object]
        with self._runs.writing(question.id):
            try:
                metadata = await self._write(question, answer_id, stream, parts, request, model)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is None or not self._runs.cancelled_by_user(question.id):
                    # Shutting down: keep what was written, then let the cancellation through.
                    interrupted: dict[str, object] = {
                        "model": model.name,
                        "status": "interrupted",
                    }
                    await asyncio.shield(
                        self._finish(question, answer_id, parts, interrupted, stream)
                    )
                    raise
                task.uncancel()
                metadata = {"model": model.name, "status": "cancelled"}
        answer = await self._finish(question, answer_id, parts, metadata, stream)
        if "status" not in metadata:
            for listener in self._listeners:
                self._runs.detach(
                    self._notify(listener, question, answer), name=f"{listener.name}-{answer.id}"
                )
        return answer

    async def _write(
        self,
        question: Turn,
        answer_id: int,
        stream: ChatStream,
        parts: list[str],
        request: TurnRequest,
        model: ChatModel,
    ) -> dict[str, object]:
        """Gather the context, stream the model's answer into `parts` (so that a cancelled answer
        keeps what was written) and return the answer's metadata."""
        history, found = await asyncio.gather(
            self._chats.turns_before(
                question.user_id, question.chat_id, question.id, self._settings.history_turns
            ),
            self._contexts(question) if request.with_context else _no_context(),
        )
        prompt = build_prompt(question.content, history, _blocks(found))
        started = time.monotonic()
        first_token_at: float | None = None
        stream_of_text = model.stream(prompt)
        async with TokenPublisher(stream, answer_id, question.id) as publisher:
            async for text in _stall_guard(stream_of_text, self._settings.llm_stall_timeout_s):
                first_token_at = first_token_at or time.monotonic()
                parts.append(text)
                publisher.add(text)
        if not parts:
            raise ModelUnavailable(f"{model.name} returned an empty answer")
        finished = time.monotonic()
        return {
            "model": model.name,
            "timings": {
                "first_token_ms": _ms((first_token_at or finished) - started),
                "total_ms": _ms(finished - started),
            },
            "history_turns": len(history),
            "citations": [
                citation.model_dump(mode="json")
                for context in found
                for citation in context.citations
            ],
        }

    async def _finish(
        self,
        question: Turn,
        answer_id: int,
        parts: list[str],
        metadata: dict[str, object],
        stream: ChatStream,
    ) -> Turn:
        answer = await self._chats.append_assistant_turn(
            answer_id, question, "".join(parts), metadata
        )
        seq = await stream.publish(Done.of(answer), turn_id=answer.id)
        return answer.model_copy(update={"seq": seq})

    def _prepare_context(self, question: Turn) -> None:
        """Let sources start their slow work while the turn is acknowledged and claimed."""
        for source in self._sources:
            if isinstance(source, PreparingSource):
                source.prepare(question)

    async def _contexts(self, question: Turn) -> list[Context]:
        return await asyncio.gather(*(self._ask(source, question) for source in self._sources))

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


def _busy_notice(stream: ChatStream, question: Turn) -> Callable[[int], Awaitable[None]]:
    """What tells the chat's clients that `question` waits for a slot (`TurnAdmission`)."""

    async def tell(ahead: int) -> None:
        notice = Busy(turn_id=question.id, reply_to=question.client_msg_id, ahead=ahead)
        try:
            await stream.tell(notice)
        except Exception as exc:  # a notice never costs the turn
            logger.warning("could not tell chat %s/%s it waits: %s", *stream.key, exc)

    return tell


async def _no_context() -> list[Context]:
    return []


def _blocks(contexts: Sequence[Context]) -> tuple[ContextBlock, ...]:
    return tuple(context.block for context in contexts if context.block is not None)


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


async def _quietly(work: Awaitable[None], what: str) -> None:
    """Clean-up that must not hide the outcome it follows (the database may be what failed)."""
    try:
        await asyncio.shield(work)
    except Exception as exc:
        logger.warning("could not %s: %s", what, exc)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
