"""The answerer used when no language model is configured.

It cannot write new prose, so it does what it honestly can with what the pipeline hands it: says
who it is (read from the system prompt, like every other provider), recaps the conversation, quotes
the context the pipeline found (memories, passages). It does not repeat on every answer that no
model is configured: the answer's metadata says `"model": "offline"`, `GET /api/v1/info` says so
for the whole server, and the web UI shows one setup banner. It streams word by word, so every
client path behaves as with a model.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator

from allin.embeddings.base import Embedder
from allin.llm.base import Prompt
from allin.memory.extract import extract_facts
from allin.rag.retrieval import SOURCES_TITLE

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
# A sentence of a passage: ends at . ! or ? before a space (or the end); headings, list markers,
# quotes and code blocks are not sentences.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9“\"(\[])")
_LINE_MARKUP = re.compile(r"^\s*(#{1,6}\s|[-*+]\s|\d+[.)]\s|>\s?)")
_MARKDOWN_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_LEAD_SENTENCE_WORDS = (4, 80)
# A second sentence leads too when it matches nearly as well as the best one.
_SECOND_SENTENCE_SHARE = 0.92


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


def top_passage(prompt: Prompt) -> tuple[str, str] | None:
    """The best-ranked passage the pipeline found: its label (`[1] where`) and its text."""
    for block in prompt.context:
        if block.title == SOURCES_TITLE and block.items:
            label, _, body = block.items[0].partition("\n")
            return (label, body) if body else None
    return None


def sentences(passage: str) -> list[str]:
    """The prose sentences of a passage, in order: code blocks, headings (also a short line of
    its own with no closing punctuation, as a heading reads once its markup is gone) and very
    short or very long runs of words left out, links reduced to their text."""
    paragraphs: list[list[str]] = [[]]
    in_code = False
    for line in passage.splitlines():
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code or line.lstrip().startswith("#"):
            continue
        words = _LINE_MARKUP.sub("", line).strip()
        if words:
            paragraphs[-1].append(words)
        elif paragraphs[-1]:
            paragraphs.append([])
    low, high = _LEAD_SENTENCE_WORDS
    found: list[str] = []
    for lines in paragraphs:
        text = _MARKDOWN_LINK.sub(r"\1", " ".join(lines))
        if len(lines) == 1 and not text.endswith((".", "!", "?", ":")) and len(text.split()) <= 8:
            continue  # a title
        found += [s.strip() for s in _SENTENCE_END.split(text) if low <= len(s.split()) <= high]
    return found


_THIRD_PERSON = re.compile(r"^User(?:'s| (is|has|\w+))\b")


def _to_you(fact: str) -> str:
    """A stored fact ("User works on billing") as said to the user ("you work on billing")."""

    def second_person(match: re.Match[str]) -> str:
        verb = match[1]
        if verb is None:
            return "your"
        if verb in ("is", "has"):
            return {"is": "you are", "has": "you have"}[verb]
        if verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
            return f"you {verb[:-2]}"
        if verb.endswith("ies"):
            return f"you {verb[:-3]}y"
        return f"you {verb[:-1] if verb.endswith('s') else verb}"

    return _THIRD_PERSON.sub(second_person, fact)


def acknowledgement(question: str) -> str | None:
    """What the memory will keep from `question` (the offline extraction rules, the same the
    memory learns by when no model is configured), said back: "Noted — I'll remember that …"."""
    facts = [_plain(_to_you(fact)) for fact in extract_facts(question)]
    if not facts:
        return None
    said = facts[0] if len(facts) == 1 else ", ".join(facts[:-1]) + " and " + facts[-1]
    return f"Noted — I'll remember that {said}."


def compose_reply(prompt: Prompt, lead: str | None = None, *, remembers: bool = False) -> str:
    """The offline answer; `lead`, when given, comes first (the sentences of the top passage
    that best answer the question, cited); `remembers`: long-term memory is on, so what the
    user says about themselves is acknowledged."""
    name, maker = identity(prompt.system)
    question = prompt.user.strip()
    noted = acknowledgement(question) if remembers else None
    parts: list[str] = [noted] if noted else []
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
    # Small talk, or telling Allin about oneself without asking anything, wants no lookup.
    conversational = len(parts) > (1 if noted else 0) or (noted is not None and "?" not in question)
    if lead and not conversational:
        parts.append(lead)
    for block in prompt.context:
        if block.items:
            title = block.quoted_title or block.title
            parts.append(f"**{title}**\n\n" + "\n\n".join(map(_quote_item, block.items)))
        elif block.when_empty and not conversational:
            parts.append(block.when_empty)
    if not parts:
        parts.append(
            f"You asked: “{_quote(question)}”. I can't compose an answer to that without a "
            "language model, and I found nothing in my context that answers it."
        )
    return "\n\n".join(parts)


class OfflineChatModel:
    name = "offline"

    def __init__(
        self,
        token_delay_s: float = 0.0,
        embedder: Embedder | None = None,
        *,
        remembers: bool = False,
    ) -> None:
        self._token_delay_s = token_delay_s
        # Picks the sentences of the top passage that best answer the question, to lead with.
        self._embedder = embedder
        self._remembers = remembers

    async def stream(self, prompt: Prompt) -> AsyncIterator[str]:
        lead = await self._lead(prompt)
        for token in _TOKEN.findall(compose_reply(prompt, lead, remembers=self._remembers)):
            yield token
            # sleep(0) still yields to the loop, so a zero-delay stream cannot starve other sockets.
            await asyncio.sleep(self._token_delay_s)

    async def aclose(self) -> None:
        return None

    async def _lead(self, prompt: Prompt) -> str | None:
        """The one or two sentences of the top passage closest in meaning to the question (by
        the embedder), quoted with the passage's citation number; None without an embedder or a
        passage with prose."""
        found = top_passage(prompt)
        if self._embedder is None or found is None:
            return None
        label, body = found
        candidates = sentences(body)
        if not candidates:
            return None
        question = await self._embedder.embed_query(prompt.user)
        vectors = await self._embedder.embed_documents(candidates)
        scores = [_cosine(question, vector) for vector in vectors]
        ranked = sorted(range(len(candidates)), key=scores.__getitem__, reverse=True)
        chosen = [ranked[0]]
        if len(ranked) > 1 and scores[ranked[1]] >= _SECOND_SENTENCE_SHARE * scores[ranked[0]]:
            chosen.append(ranked[1])
        number = label.split("]", 1)[0] + "]"
        quoted = " ".join(candidates[i] for i in sorted(chosen))
        return f"{quoted} {number}"


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norms = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norms if norms else 0.0
