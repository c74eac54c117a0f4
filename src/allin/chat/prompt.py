"""Builds the prompt for a turn: Allin's system prompt, the recent conversation, the new message."""

from __future__ import annotations

from functools import cache
from importlib import resources

from allin.llm.base import ContextBlock, Message, Prompt
from allin.storage.chat_records import Turn


@cache
def system_prompt() -> str:
    return (resources.files("allin.chat") / "prompts" / "system.md").read_text(encoding="utf-8")


def build_prompt(
    message: str, history: list[Turn], context: tuple[ContextBlock, ...] = ()
) -> Prompt:
    return Prompt(
        system=system_prompt(),
        user=message,
        history=tuple(Message(turn.role, turn.content) for turn in history),
        context=context,
    )
