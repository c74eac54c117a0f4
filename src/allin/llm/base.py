"""The chat-model protocol and the prompt every provider receives.

The prompt stays structured (system text, context blocks, history, the new message) rather than a
flat message list so that the offline model can answer from its parts; the network providers flatten
it with `Prompt.as_messages()`, one rendering shared by all of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

from allin.errors import Unavailable

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ContextBlock:
    """Material the pipeline found for this turn (memories, retrieved passages), shown to the model
    after the system prompt under its title."""

    title: str
    items: tuple[str, ...]
    # Said instead of the items when there are none, so the model knows the lookup came back
    # empty (and says so) rather than guessing; None leaves an empty block out entirely.
    when_empty: str | None = None
    # Told to the model only, before the block's content: how the pipeline wants it used (such as
    # "nothing was found: say so"). An answerer without a model (offline) shows the content alone.
    note: str | None = None
    # An answerer without a model (offline) quotes the blocks' items to the user (never the
    # note): under this title when `title` speaks to the model ("What you know about this user").
    quoted_title: str | None = None

    @property
    def shown(self) -> bool:
        return bool(self.items) or self.when_empty is not None

    def render(self) -> str:
        lines = "\n".join(f"- {item}" for item in self.items) or str(self.when_empty)
        note = f"{self.note}\n\n" if self.note else ""
        return f"## {self.title}\n{note}{lines}"


@dataclass(frozen=True, slots=True)
class Prompt:
    system: str
    user: str
    history: tuple[Message, ...] = ()
    context: tuple[ContextBlock, ...] = field(default=())

    def system_text(self) -> str:
        """The system prompt with the turn's context appended: what every network provider sends as
        its system instruction."""
        blocks = [block.render() for block in self.context if block.shown]
        return "\n\n".join([self.system.strip(), *blocks])

    def as_messages(self) -> list[Message]:
        """History and the new user message, oldest first (the system text goes separately)."""
        return [*self.history, Message("user", self.user)]


class ChatModel(Protocol):
    """A streaming chat model; `name` is recorded on every answer (`gemini:gemini-2.0-flash`)."""

    @property
    def name(self) -> str: ...

    def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        """Yield the answer's text in chunks as the provider produces them.

        Raises `ModelUnavailable` when the provider fails, refuses, or times out.
        """
        ...

    async def aclose(self) -> None: ...


class ModelUnavailable(Unavailable):
    """The model provider failed; the message carries the provider's own words."""
