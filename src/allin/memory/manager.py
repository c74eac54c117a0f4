"""What Allin remembers about each user, over a mem0 `AsyncMemory` (see `build.py`).

mem0 is built in the background while the app starts answering (importing it and loading the
embedding model take seconds): every operation waits for it (`ready`), so a turn in the first
seconds waits for memory rather than being answered without it, and `/readyz` says not ready
until it is built.

Every operation is scoped to one user: mem0 stores the user id in each memory's payload, searches
and listings filter on it, and a memory id of another user is reported as not found.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from allin.errors import NotFound, Unavailable
from allin.memory.extract import extract_facts, normalized
from allin.memory.glossary import gloss
from allin.memory.memory_records import Lesson, Memory
from allin.memory.reading import MemoryReader

logger = logging.getLogger(__name__)

# Cosine similarity above which a new fact counts as one already known. Measured with MiniLM: a
# paraphrase ("a backend engineer" / "a backend developer", "mostly uses vim" / "uses vim") scores
# 0.93; a different fact in the same words ("deploys on Fridays" / "on Mondays") 0.91.
DUPLICATE_SIMILARITY = 0.92
# A listing shows at most this many memories (mem0 lists without an order, so we sort them).
LIST_MAX = 1000
# How long a listing waits for memories still being learned from the user's last turn.
_SETTLE_S = 10.0
# Longest a caller waits for memory to be built at start-up (seconds on an idle machine).
_START_WAIT_S = 120.0
# Learning is serialised per user (so two turns cannot both add the same fact) through one of a
# fixed number of locks, so the lock table does not grow with the number of users.
_LOCKS = 64
# Metadata keys stored with each memory.
CHAT_ID = "chat_id"
NORMALIZED = "normalized"


class LearningQueue(Protocol):
    """Where learning from finished turns waits to be done (`allin.jobs.queue.JobQueue`)."""

    async def defer_learning(
        self, user_id: str, chat_id: str, said: str, answer: str, answer_id: int | None
    ) -> int | None: ...

    async def learning_settled(self, user_id: str, timeout_s: float) -> None: ...


class LearningListener(Protocol):
    """Hears that a turn taught memories (`allin.chat.memory_notices.MemoryNotices` tells the
    chat, so its page shows "Memory updated")."""

    async def learned(
        self, user_id: str, chat_id: str, answer_id: int, memories: list[str]
    ) -> None: ...


class MemoryManager:
    def __init__(
        self,
        mem0: asyncio.Future[Any],
        reader: MemoryReader,
        *,
        extract_with_llm: bool,
        on_close: Callable[[], None] = lambda: None,
    ) -> None:
        # mem0 being built (`build.start_memory`); shielded, so a caller that gives up waiting
        # does not cancel it for everyone.
        self._mem0 = mem0
        self._reader = reader
        # Reads go through the app's pool, which outlives this manager: once closed, it says so.
        self._closed = False
        self._extract_with_llm = extract_with_llm
        self._on_close = on_close
        self._locks = [asyncio.Lock() for _ in range(_LOCKS)]
        self._learning: dict[str, set[asyncio.Future[None]]] = {}
        self._queue: LearningQueue | None = None
        self._listener: LearningListener | None = None

    async def ready(self) -> None:
        """Wait until mem0 is built; Unavailable if it could not be (or memory is closed)."""
        try:
            async with asyncio.timeout(_START_WAIT_S):
                await self._built()
        except TimeoutError:
            raise Unavailable("long-term memory is still starting") from None

    @property
    def status(self) -> str:
        """`starting` (mem0 being built), `ready`, `failed` (logged when it did) or `closed`."""
        if self._closed or self._mem0.cancelled():
            return "closed"
        if not self._mem0.done():
            return "starting"
        return "ready" if self._mem0.exception() is None else "failed"

    def learn_through(self, queue: LearningQueue) -> None:
        """From now on, learning after a turn (`learn_later`) is a job on `queue`."""
        self._queue = queue

    def announce_through(self, listener: LearningListener) -> None:
        """From now on, a turn's learning that adds memories is told to `listener`."""
        self._listener = listener

    async def search(
        self, user_id: str, query: str, *, top_k: int, threshold: float
    ) -> list[Memory]:
        """The user's memories closest to `query`, best first, at least `threshold` similar."""
        await self._built()
        if not query.strip():
            return []
        return await self._reader.nearest(user_id, query, top_k=top_k, threshold=threshold)

    def prepare_search(self, query: str) -> None:
        """A `search` for `query` is coming: start its slow part (the embedding) now."""
        if not self._closed and query.strip():
            self._reader.prepare(query)

    async def list_all(self, user_id: str) -> list[Memory]:
        """The user's memories, newest first, including those learned from their last turn."""
        await self.settled(user_id)
        mem0 = await self._built()
        listed = await mem0.get_all(filters={"user_id": user_id}, top_k=LIST_MAX)
        memories = [Memory.from_mem0(item) for item in listed["results"]]
        return sorted(memories, key=lambda memory: memory.created_at, reverse=True)

    async def get(self, user_id: str, memory_id: str) -> Memory:
        return Memory.from_mem0(await self._owned(user_id, memory_id))

    async def learn(
        self, user_id: str, chat_id: str, said: str, answer: str, answer_id: int | None = None
    ) -> list[str]:
        """Remember what a turn taught about the user; returns the memories added (told, with
        the answer's id, to the listener: `announce_through`)."""
        # Learned here and now, it waits in no queue: it has no lesson id.
        return await self.learn_batch(user_id, [Lesson(0, chat_id, said, answer, answer_id)])

    async def learn_batch(self, user_id: str, lessons: Sequence[Lesson]) -> list[str]:
        """Remember what several finished turns of the user taught, in order; returns the
        memories added. Each answer whose turn taught something is told to the listener (the
        LLM learns a chat's consecutive turns in one call: what it adds is told to the last)."""
        added: list[str] = []
        for lesson, memories in await self._learn(user_id, lessons):
            added += memories
            if memories and lesson.answer_id is not None and self._listener is not None:
                try:
                    await self._listener.learned(
                        user_id, lesson.chat_id, lesson.answer_id, memories
                    )
                except Exception:
                    # The memories are stored: the notice is a courtesy, not worth learning again.
                    logger.warning(
                        "could not tell chat %s of its new memories", lesson.chat_id, exc_info=True
                    )
        return added

    async def _learn(
        self, user_id: str, lessons: Sequence[Lesson]
    ) -> list[tuple[Lesson, list[str]]]:
        """What each lesson (for the LLM, the last of each run of a chat's turns) added."""
        done = self._started_learning(user_id)
        try:
            async with self._lock(user_id):
                taught = []
                for run in _runs_by_chat(lessons):
                    if self._extract_with_llm:
                        try:
                            taught.append((run[-1], await self._learn_with_llm(user_id, run)))
                            continue
                        except Exception:
                            logger.warning(
                                "memory extraction by the LLM failed; using the offline rules",
                                exc_info=True,
                            )
                    for lesson in run:
                        facts = extract_facts(lesson.said)
                        taught.append(
                            (lesson, await self._remember(user_id, lesson.chat_id, facts))
                        )
                return taught
        finally:
            self._learning[user_id].discard(done)
            if not self._learning[user_id]:
                del self._learning[user_id]
            done.set_result(None)

    async def learn_later(
        self, user_id: str, chat_id: str, said: str, answer: str, answer_id: int | None = None
    ) -> None:
        """Learn from a finished turn: as a job when there is a queue (the job then learns it
        with the user's other waiting turns, `learn_batch`), else here and now."""
        if self._queue is None:
            await self.learn(user_id, chat_id, said, answer, answer_id)
        elif self._extract_with_llm or extract_facts(said):
            # Offline, a turn whose message states no fact (most questions) teaches nothing:
            # its job would cost the database three statements for nothing.
            await self._queue.defer_learning(user_id, chat_id, said, answer, answer_id)

    async def remember(self, user_id: str, chat_id: str, fact: str) -> bool:
        """Remember `fact` as it is said (the user asked for it, e.g. through MCP's `remember`);
        False when an equal or near-equal memory is already known."""
        async with self._lock(user_id):
            return bool(await self._remember(user_id, chat_id, [fact]))

    async def settled(self, user_id: str) -> None:
        """Wait (a bounded time) for the memories being learned for this user to be stored."""
        pending = self._learning.get(user_id)
        if pending:
            await asyncio.wait(set(pending), timeout=_SETTLE_S)
        if self._queue is not None:
            with contextlib.suppress(TimeoutError):
                await self._queue.learning_settled(user_id, _SETTLE_S)

    async def update(self, user_id: str, memory_id: str, text: str) -> Memory:
        """Replace a memory's text (and so its embedding)."""
        await self._owned(user_id, memory_id)
        mem0 = await self._built()
        await mem0.update(memory_id, text=text, metadata={NORMALIZED: normalized(text)})
        return await self.get(user_id, memory_id)

    async def delete(self, user_id: str, memory_id: str) -> None:
        await self._owned(user_id, memory_id)
        mem0 = await self._built()
        await mem0.delete(memory_id)

    async def delete_all(self, user_id: str) -> None:
        # What the last turn is still teaching would otherwise outlive "forget everything".
        await self.settled(user_id)
        async with self._lock(user_id):
            mem0 = await self._built()
            await mem0.delete_all(user_id=user_id)

    async def aclose(self) -> None:
        self._closed = True
        self._mem0.cancel()  # still being built: no one will use it
        mem0 = None
        with contextlib.suppress(asyncio.CancelledError, Exception):
            mem0 = await self._mem0
        await asyncio.to_thread(self._close, mem0)

    def _close(self, mem0: Any | None) -> None:
        if mem0 is not None:
            mem0.close()
        self._on_close()

    async def _built(self) -> Any:
        if self._closed:
            raise Unavailable("long-term memory is closed")
        try:
            return await asyncio.shield(self._mem0)
        except Exception as exc:
            raise Unavailable(f"long-term memory could not start: {exc}") from exc

    async def _learn_with_llm(self, user_id: str, run: Sequence[Lesson]) -> list[str]:
        """mem0's own extraction: one LLM call that sees a chat's turns and the user's closest
        memories and returns only new facts (mem0 then drops exact repeats)."""
        messages = []
        for lesson in run:
            messages += [
                {"role": "user", "content": lesson.said},
                {"role": "assistant", "content": lesson.answer},
            ]
        mem0 = await self._built()
        added = await mem0.add(
            messages, user_id=user_id, metadata={CHAT_ID: run[0].chat_id}, infer=True
        )
        return [str(item["memory"]) for item in added["results"]]

    async def _remember(self, user_id: str, chat_id: str, facts: Sequence[str]) -> list[str]:
        added: list[str] = []
        for fact in facts:
            key = normalized(fact)
            if not key or await self._known(user_id, fact, key):
                continue
            mem0 = await self._built()
            await mem0.add(
                fact,
                user_id=user_id,
                metadata={CHAT_ID: chat_id, NORMALIZED: key},
                infer=False,
            )
            added.append(fact)
        return added

    async def _known(self, user_id: str, fact: str, key: str) -> bool:
        mem0 = await self._built()
        same = await mem0.get_all(filters={"user_id": user_id, NORMALIZED: key}, top_k=1)
        if same["results"]:
            return True
        # Compared as stored: a memory's vector is that of its glossed text (`embedding.py`).
        close = await self._reader.nearest(
            user_id, gloss(fact), top_k=1, threshold=DUPLICATE_SIMILARITY
        )
        return bool(close)

    async def _owned(self, user_id: str, memory_id: str) -> dict[str, Any]:
        try:
            uuid.UUID(memory_id)
        except ValueError:
            raise NotFound(f"no memory {memory_id}") from None
        mem0 = await self._built()
        item: dict[str, Any] | None = await mem0.get(memory_id)
        # Another user's memory is reported exactly like a missing one: its existence is private.
        if item is None or item.get("user_id") != user_id:
            raise NotFound(f"no memory {memory_id}")
        return item

    def _lock(self, user_id: str) -> asyncio.Lock:
        return self._locks[hash(user_id) % _LOCKS]

    def _started_learning(self, user_id: str) -> asyncio.Future[None]:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._learning.setdefault(user_id, set()).add(done)
        return done


def _runs_by_chat(lessons: Sequence[Lesson]) -> list[list[Lesson]]:
    """The lessons cut where the chat changes: a memory is stored with the chat it came from."""
    runs: list[list[Lesson]] = []
    for lesson in lessons:
        if runs and runs[-1][-1].chat_id == lesson.chat_id:
            runs[-1].append(lesson)
        else:
            runs.append([lesson])
    return runs
