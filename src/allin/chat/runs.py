"""In-flight turns, owned by the chat rather than by the socket that asked.

A turn keeps going when its socket drops, so the question and its answer are still stored; the turns
of one chat are answered one at a time so each answer sees the conversation before it. A chat is
named by its user and its id: chat ids are chosen by clients, so two users' chats can share one.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeVar

from allin.storage.chat_records import Turn
from allin.storage.runs import RunLog

logger = logging.getLogger(__name__)

T = TypeVar("T")


class Runs:
    """The answers being written: this process's (their tasks) and, through `log`, every
    process's (`chat_runs`), so that each question is answered by one process at a time."""

    def __init__(self, log: RunLog) -> None:
        self.log = log
        # Names this process in `chat_runs`, so other processes know whose run an answer is.
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        # Strong references: the event loop only keeps weak ones to tasks.
        self._tasks: set[asyncio.Task[Any]] = set()
        self._answers: dict[int, asyncio.Task[Any]] = {}
        # The turn handling each (user, chat, client message id) here, so that a message sent
        # twice at once (a retry from another tab) is stored and answered by one turn.
        self._messages: dict[tuple[str, str, str], asyncio.Task[Any]] = {}
        self._cancelled: set[int] = set()
        # Answers past their start and not yet being stored: the ones a `cancel` can stop.
        self._writing: set[int] = set()
        self._chat_locks: dict[tuple[str, str], tuple[asyncio.Lock, int]] = {}

    def detach(self, work: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        """Run `work` to completion whatever happens to the caller."""
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def answering(self, question_id: int) -> asyncio.Task[Any] | None:
        return self._answers.get(question_id)

    def handling(self, user_id: str, chat_id: str, message_id: str) -> asyncio.Task[Any] | None:
        """The turn already handling this message in this process, if any; otherwise the running
        turn becomes it (until it ends). No await in between: two turns for one message cannot
        both find none."""
        key = (user_id, chat_id, message_id)
        earlier = self._messages.get(key)
        if earlier is not None:
            return earlier
        task = asyncio.current_task()
        assert task is not None
        self._messages[key] = task

        def forget(_: asyncio.Task[Any]) -> None:
            if self._messages.get(key) is task:
                del self._messages[key]

        task.add_done_callback(forget)
        return None

    def own_answer(self, question_id: int) -> None:
        """The running task (a detached turn) answers `question_id`: a retry of the question
        awaits it, and a cancel stops it."""
        task = asyncio.current_task()
        assert task is not None and task in self._tasks, "an answer runs in a detached task"
        self._answers[question_id] = task

        def forget(_: asyncio.Task[Any]) -> None:
            self._answers.pop(question_id, None)
            self._cancelled.discard(question_id)

        task.add_done_callback(forget)

    async def claim(self, question: Turn, answer_id: int) -> bool:
        """Become the one process answering `question`; False if another live one is."""
        return await self.log.claim(question, answer_id, self.worker)

    async def claimed(self, question_id: int) -> bool:
        """Whether some process (maybe another one) is answering `question_id`."""
        return await self.log.find(question_id) is not None

    async def release(self, question_id: int) -> None:
        await self.log.end(question_id)

    async def cancel_chat(self, user_id: str, chat_id: str) -> int:
        """Stop the chat's answers being written, wherever they run; returns how many."""
        stopped = 0
        for run in await self.log.of_chat(user_id, chat_id):
            if run.worker == self.worker:
                stopped += self.cancel_answer(run.question_id)
            else:
                await self.log.ask_owner_to_cancel(run.question_id)
                stopped += 1
        return stopped

    def answering_now(self) -> list[int]:
        """The questions this process is answering."""
        return list(self._answers)

    def cancel_answer(self, question_id: int) -> bool:
        """Stop answering `question_id` at the user's request; False if it is not answered here."""
        task = self._answers.get(question_id)
        if task is None or question_id not in self._writing:
            return False
        self._cancelled.add(question_id)
        task.cancel()
        return True

    @contextmanager
    def writing(self, question_id: int) -> Iterator[None]:
        self._writing.add(question_id)
        try:
            yield
        finally:
            self._writing.discard(question_id)

    def cancelled_by_user(self, question_id: int) -> bool:
        """Whether a cancellation of this answer came from `cancel_answer` (not from shutdown)."""
        return question_id in self._cancelled

    @asynccontextmanager
    async def one_at_a_time(self, user_id: str, chat_id: str) -> AsyncIterator[None]:
        """Serialize the turns of one chat; the lock is dropped once no turn of the chat waits."""
        key = (user_id, chat_id)
        lock, users = self._chat_locks.get(key, (asyncio.Lock(), 0))
        self._chat_locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._chat_locks[key]
            if users == 1:
                del self._chat_locks[key]
            else:
                self._chat_locks[key] = (lock, users - 1)

    async def drain(self, timeout_s: float) -> None:
        """Let in-flight turns finish (and be stored) before shutdown; cancel what remains."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout_s)
        for task in pending:
            logger.warning("cancelling unfinished turn %s at shutdown", task.get_name())
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
