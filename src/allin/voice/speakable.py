"""Turning a streamed Markdown answer into sentences to speak, as soon as each one is complete, so
that the first sentence is heard while the rest is still being written."""

from __future__ import annotations

import re

_FENCE = re.compile(r"```.*?(```|$)", re.DOTALL)
_CITATION = re.compile(r"\[\d+\](\([^)]*\))?")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MARKUP = re.compile(r"[*_`#>|~]+")
_BULLET = re.compile(r"^\s*(?:[-+*]|\d+[.)])\s+", re.MULTILINE)
# A sentence ends at . ! ? or : followed by a space, or at a line break (items, headings).
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+|\n+")
_CODE_SAID = " (the code is shown in the chat) "


def speakable(markdown: str) -> str:
    """What a listener should hear of `markdown`: no code, markup, link targets or [n]."""
    text = _FENCE.sub(_CODE_SAID, markdown)
    text = _CITATION.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _BULLET.sub("", text)
    text = _MARKUP.sub("", text)
    return " ".join(text.split())


class SentenceSplitter:
    """Fed text as it streams; hands back each complete sentence, speakable, once."""

    def __init__(self) -> None:
        self._pending = ""

    def feed(self, text: str) -> list[str]:
        self._pending += text
        # Inside an unclosed code block nothing is complete yet.
        if self._pending.count("```") % 2 == 1:
            return []
        self._pending = _FENCE.sub(_CODE_SAID, self._pending)
        pieces = _SENTENCE_END.split(self._pending)
        self._pending = pieces.pop()
        return [s for s in (speakable(piece) for piece in pieces) if s]

    def flush(self) -> list[str]:
        rest = speakable(self._pending)
        self._pending = ""
        return [rest] if rest else []
