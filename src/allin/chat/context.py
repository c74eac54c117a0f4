"""What the turn pipeline asks of memory and of the knowledge base, so neither is wired into it.

Before answering, every `ContextSource` is asked, in parallel, for what it knows that bears on the
question; after the answer is stored, every `TurnListener` hears of the finished turn. A source or
listener that fails is logged and skipped: the user still gets an answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from allin.llm.base import ContextBlock
from allin.rag.citations import Citation
from allin.storage.chat_records import Turn


@dataclass(frozen=True, slots=True)
class Context:
    """One source's contribution: a block for the prompt, and the citations its numbered items
    stand for (sent with the `done` frame and stored with the answer)."""

    block: ContextBlock | None = None
    citations: tuple[Citation, ...] = ()


class ContextSource(Protocol):
    @property
    def name(self) -> str: ...

    async def context_for(self, question: Turn) -> Context: ...


@runtime_checkable
class PreparingSource(ContextSource, Protocol):
    """A source with slow work it can start as soon as the question is stored (embedding it),
    while the turn is acknowledged and its answer claimed."""

    def prepare(self, question: Turn) -> None: ...


class TurnListener(Protocol):
    @property
    def name(self) -> str: ...

    async def turn_completed(self, question: Turn, answer: Turn) -> None:
        """Runs in the background after the answer is stored; it never delays the reply."""
        ...
