"""Memory in the turn pipeline: what is known about the user goes into the prompt before the
answer, and what the user said is learned from after it."""

from __future__ import annotations

import asyncio
import re

from allin.chat.context import Context
from allin.config import Settings
from allin.llm.base import ContextBlock
from allin.memory.manager import MemoryManager
from allin.storage.chat_records import Turn

TITLE = "What you know about this user"
# The same memories as an answer without a model quotes them to the user.
QUOTED_TITLE = "What I remember about you"
# A question about what Allin knows of the user is answered by the memories themselves, however
# little it resembles any of them.
_ASKS_ABOUT_ME = re.compile(
    r"\b(know|remember|learned|recall)\b.*\babout (me|us|my team)\b"
    r"|\bwhat (have|did) (i|we) (told|tell) you\b",
    re.IGNORECASE,
)


class MemoryContext:
    """A `ContextSource`: the user's memories closest to the question, from every chat."""

    name = "memory"

    def __init__(self, memory: MemoryManager, settings: Settings) -> None:
        self._memory = memory
        self._top_k = settings.memory_top_k
        self._threshold = settings.memory_threshold
        self._timeout_s = settings.memory_timeout_s

    def prepare(self, question: Turn) -> None:
        if not _ASKS_ABOUT_ME.search(question.content):
            self._memory.prepare_search(question.content)

    async def context_for(self, question: Turn) -> Context:
        # Just after start-up the turn waits for memory to be built rather than being answered
        # without it. Then a slow memory store must not hold the answer: past the timeout the
        # pipeline logs the failure and answers without memories.
        await self._memory.ready()
        async with asyncio.timeout(self._timeout_s):
            if _ASKS_ABOUT_ME.search(question.content):
                found = (await self._memory.list_all(question.user_id))[: self._top_k]
            else:
                found = await self._memory.search(
                    question.user_id,
                    question.content,
                    top_k=self._top_k,
                    threshold=self._threshold,
                )
        if not found:
            return Context()
        memories = tuple(memory.text for memory in found)
        return Context(block=ContextBlock(TITLE, memories, quoted_title=QUOTED_TITLE))


class MemoryListener:
    """A `TurnListener`: learns from each finished turn, in the background (as a job on the
    queue when the memory has one, see `MemoryManager.learn_later`)."""

    name = "memory"

    def __init__(self, memory: MemoryManager) -> None:
        self._memory = memory

    async def turn_completed(self, question: Turn, answer: Turn) -> None:
        await self._memory.learn_later(
            question.user_id, question.chat_id, question.content, answer.content, answer.id
        )
