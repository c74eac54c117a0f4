"""What every format parser produces: the document's text, and its sections as spans of that text.

Chunks are cut as contiguous slices of `text`, never rewritten, so a passage quoted from a source
file is found verbatim in the chunk that cites it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from allin.errors import BadRequest


class CorruptDocument(BadRequest):
    """The file claims a format but cannot be read as it."""


BlockKind = Literal["prose", "code", "heading"]


@dataclass(frozen=True, slots=True)
class Block:
    """A heading line, paragraph, list item or code block: `text[start:end]`. Code is kept whole
    where it fits."""

    start: int
    end: int
    kind: BlockKind = "prose"


@dataclass(slots=True)
class Section:
    """Consecutive blocks under one heading path (and, for PDFs, on one page)."""

    heading: tuple[str, ...]
    page: int | None = None
    blocks: list[Block] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    text: str
    sections: list[Section]
    title: str | None = None


class SectionBuilder:
    """Collects blocks into sections as a parser walks a document top to bottom."""

    def __init__(self, page: int | None = None) -> None:
        self.sections: list[Section] = []
        self._heading: tuple[str, ...] = ()
        self._page = page

    def heading(self, level: int, title: str) -> None:
        """Enter a heading at `level` (1 = top); deeper headings nest under the current path."""
        self._heading = (*self._heading[: level - 1], title.strip())

    def page(self, number: int) -> None:
        self._page = number

    def block(self, start: int, end: int, kind: BlockKind = "prose") -> None:
        if end <= start:
            return
        current = self.sections[-1] if self.sections else None
        if current is None or current.heading != self._heading or current.page != self._page:
            current = Section(self._heading, self._page)
            self.sections.append(current)
        current.blocks.append(Block(start, end, kind))
