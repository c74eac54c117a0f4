"""Structure-aware chunking: chunks never cross a section (heading or page), code blocks stay
whole when they fit, prose is cut between sentences, and consecutive chunks of a section overlap.
A section that is only a heading (a chapter title right before its first subsection) is carried
into the next section's first chunk instead of becoming a chunk of its own.

Every chunk is a contiguous slice of the document's text, so what it cites is verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from allin.rag.parsed import Block, ParsedDocument, Section
from allin.rag.token_count import count_tokens

_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n(?=\s*(?:[-*+]|\d+[.)])\s)")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Chunk:
    ord: int
    start: int
    end: int
    content: str
    heading: str | None
    page: int | None
    tokens: int


@dataclass(frozen=True, slots=True)
class _Unit:
    start: int
    end: int
    tokens: int


def chunk_document(document: ParsedDocument, max_tokens: int, overlap_tokens: int) -> list[Chunk]:
    text = document.text
    chunks: list[Chunk] = []
    carried_start: int | None = None
    last_section = document.sections[-1] if document.sections else None
    for section in document.sections:
        units = _units(text, section, max_tokens)
        if not units:
            continue
        if carried_start is not None:
            units[0] = _Unit(carried_start, units[0].end, units[0].tokens)
            carried_start = None
        if all(b.kind == "heading" for b in section.blocks) and section is not last_section:
            carried_start = units[0].start
            continue
        heading = " › ".join(section.heading) or None
        for start, end, tokens in _pack(units, max_tokens, overlap_tokens):
            chunks.append(
                Chunk(len(chunks), start, end, text[start:end], heading, section.page, tokens)
            )
    return chunks


def _units(text: str, section: Section, max_tokens: int) -> list[_Unit]:
    """The smallest pieces a chunk boundary may fall between."""
    spans: list[tuple[int, int]] = []
    for block in section.blocks:
        spans += _block_spans(text, block)
    counts = count_tokens([text[start:end] for start, end in spans])
    units: list[_Unit] = []
    for (start, end), tokens in zip(spans, counts, strict=True):
        if tokens <= max_tokens:
            units.append(_Unit(start, end, tokens))
        else:
            units += _split_long(text, start, end, max_tokens)
    return units


def _block_spans(text: str, block: Block) -> list[tuple[int, int]]:
    if block.kind != "prose":
        return [(block.start, block.end)]
    spans, position = [], block.start
    for boundary in _SENTENCE_END.finditer(text, block.start, block.end):
        spans.append((position, boundary.start()))
        position = boundary.end()
    spans.append((position, block.end))
    return [(start, end) for start, end in spans if end > start]


def _split_long(text: str, start: int, end: int, max_tokens: int) -> list[_Unit]:
    """A sentence or code block over the limit: cut at line ends, or at words for one long line."""
    pieces = [m.span() for m in re.finditer(r"[^\n]+", text[start:end])]
    if len(pieces) == 1:
        pieces = [m.span() for m in _WORD.finditer(text[start:end])]
    counts = count_tokens([text[start + a : start + b] for a, b in pieces])
    units: list[_Unit] = []
    group_start, group_end, group_tokens = None, 0, 0
    for (a, b), tokens in zip(pieces, counts, strict=True):
        if group_start is not None and group_tokens + tokens > max_tokens:
            units.append(_Unit(start + group_start, start + group_end, group_tokens))
            group_start, group_tokens = None, 0
        if group_start is None:
            group_start = a
        group_end, group_tokens = b, group_tokens + tokens
    if group_start is not None:
        units.append(_Unit(start + group_start, start + group_end, group_tokens))
    return units


def _pack(units: list[_Unit], max_tokens: int, overlap_tokens: int) -> list[tuple[int, int, int]]:
    """Greedy packing into (start, end, tokens) spans; each next chunk repeats the previous
    chunk's last units up to `overlap_tokens`."""
    packed: list[tuple[int, int, int]] = []
    first = 0
    while first < len(units):
        last, tokens = first, units[first].tokens
        while last + 1 < len(units) and tokens + units[last + 1].tokens <= max_tokens:
            last += 1
            tokens += units[last].tokens
        packed.append((units[first].start, units[last].end, tokens))
        if last + 1 >= len(units):
            break
        following, carried = last + 1, 0
        while following - 1 > first and carried + units[following - 1].tokens <= overlap_tokens:
            following -= 1
            carried += units[following].tokens
        first = following
    return packed
