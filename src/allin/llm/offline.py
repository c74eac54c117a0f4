"""The answerer used when no language model is configured.

It cannot write new prose, so it does what it honestly can with what the pipeline hands it: says
who it is (read from the system prompt, like every other provider), recaps the conversation, quotes
the context the pipeline found (memories, passages), and says plainly that no model is configured
and how to configure one. It streams word by word, so every client path behaves as with a model.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

from allin.llm.base import Prompt

NOTICE = (
    "_Offline mode: no language model is configured, so I can only recap our conversation and "
    "show what I found. Set `GEMINI_API_KEY` (Google Gemini) or `ALLIN_LLM=openai` with "
    "`ALLIN_OPENAI_BASE_URL` (Ollama, llama.cpp, vLLM) for full answers._"
)

_IDENTITY_IN_SYSTEM = re.compile(r"You are (?P<name>[^,.\n]+),[^.\n]*?made by (?P<maker>[^,.\n]+)")
_ASKS_IDENTITY = re.compile(
    r"\b(who|what)\s+(are|r)\s+(you|u)\b|\byour name\b|\bwho\s+(made|built|created|trained)\s+you\b"
    r"|\bintroduce yourself\b|\bare you (an? )?(ai|bot|human|chatgpt|gemini)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\s*(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening))\b", re.I)
_THANKS = re.compile(r"\b(thanks|thank you|thx|cheers)\b", re.IGNORECASE)
_ASKS_RECAP = re.compile(
    r"\bwhat (did|have) i (say|said|ask|asked|tell|told)\b|\brecap\b"
    r"|\bsummar(ize|ise|y)\b.*\b(chat|conversation|discussion)\b"
    r"|\bmy (first|last|previous) (question|message)\b",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"\s*\S+\s*")


def identity(system: str) -> tuple[str, str]:
    """The assistant's name and maker as the system prompt states them."""
    found = _IDENTITY_IN_SYSTEM.search(system)
    if found is None:
        raise ValueError("the system prompt must say 'You are <name>, ... made by <maker>'")
    return found["name"].strip(" *"), found["maker"].strip(" *")


# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones
# that would otherwise turn plain text into markup (`Flask(__name__)` into bold "name").
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|~])")
_FENCE = re.compile(r"^\s*(```|~~~)")


def _plain(text: str) -> str:
    """Text the user or a memory said, shown as written rather than read as Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def _quote(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return _plain(flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…")


def _passage(body: str, limit: int) -> str:
    """A passage (Markdown from a document) as a quote that keeps its lines, so that its code
    blocks stay blocks; cut at a line, closing a code block that the cut left open."""
    lines: list[str] = []
    used = 0
    in_code = False
    for line in body.splitlines():
        if used + len(line) > limit and lines:
            if in_code:
                lines.append("```")
            lines.append("…")
            break
        lines.append(line)
        used += len(line) + 1
        if _FENCE.match(line):
            in_code = not in_code
    return "\n".join(f"> {line}".rstrip() for line in lines)


def _quote_item(item: str) -> str:
    """A context item as a quote; a passage's first line (`[n] where`) stays its label."""
    label, _, body = item.partition("\n")
    if not body:
        return f"> {_quote(item, 400)}"
    return f"{label}\n{_passage(body, 700)}"


def _recap(prompt: Prompt) -> str:
    said = [m.content for m in prompt.history if m.role == "user"]
    if not said:
        return "This is the start of our conversation: you haven't said anything before this."
    lines = "\n".join(f"{n}. {_quote(text)}" for n, text in enumerate(said, 1))
    return f"Here is what you have said in this chat so far:\n\n{lines}"


def compose_reply(prompt: Prompt) -> str:
    name, maker = identity(prompt.system)
    question = prompt.user.strip()
    parts: list[str] = []
    if _ASKS_IDENTITY.search(question):
        parts.append(
            f"I'm **{name}**, an AI assistant made by **{maker}**. I help new software engineers "
            "get productive: I answer questions about your team's code, tools and practices, "
            "from your team's documents, and I remember what you tell me across chats."
        )
    elif _ASKS_RECAP.search(question):
        parts.append(_recap(prompt))
    elif _GREETING.search(question) and len(question) < 40:
        parts.append(f"Hello! I'm {name}, from {maker}. What are you working on?")
    elif _THANKS.search(question) and len(question) < 60:
        parts.append("You're welcome!")
    small_talk = bool(parts)
    for block in prompt.context:
        if block.items:
            parts.append(f"**{block.title}**\n\n" + "\n\n".join(map(_quote_item, block.items)))
        elif block.when_empty and not small_talk:
            parts.append(block.when_empty)
    if not parts:
        parts.append(
            f"You asked: “{_quote(question)}”. I can't compose an answer to that without a "
            "language model, and I found nothing in my context that answers it."
        )
    parts.append(NOTICE)
    return "\n\n".join(parts)


class OfflineChatModel:
    name = "offline"

    def __init__(self, token_delay_s: float = 0.0) -> None:
        self._token_delay_s = token_delay_s

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        for token in _TOKEN.findall(compose_reply(prompt)):
            yield token
            # sleep(0) still yields to the loop, so a zero-delay stream cannot starve other sockets.
            await asyncio.sleep(self._token_delay_s)

    async def aclose(self) -> None:
        return None
