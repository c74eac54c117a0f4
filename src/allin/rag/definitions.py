"""A function too long for one chunk is cut into parts (`open_session (part 1)`, `(part 2)`…); a
retrieved part comes back with its sibling parts, as the one passage it was written as.

The part a question matches best is often not the one holding the answer: the signature and
docstring match "where does Flask build the response from a dict?", the conversion itself is
forty lines further, in part 2. Each part alone is also a partial view for the model that
answers, and two parts of one function fill two of the few places in the ranking. So the parts
join, up to a token budget, nearest first, at the place of the best-ranked one, and later parts
of the same function leave the ranking.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Protocol

from allin.rag.document_records import Passage

_PART = re.compile(r"^(?P<base>.*) \(part (?P<part>\d+)\)$")
# How far after a part its siblings are looked for (a function cut into more parts than this
# is far over any budget anyway).
_MAX_PARTS_AFTER = 8


@dataclass(frozen=True, slots=True)
class ChunkPart:
    document_id: str
    ord: int
    content: str
    heading: str | None
    start_line: int
    end_line: int
    tokens: int


class ChunkSource(Protocol):
    async def chunks_at(self, places: Sequence[tuple[str, int]]) -> list[ChunkPart]: ...


async def whole_definitions(
    source: ChunkSource, passages: list[Passage], budget_tokens: int
) -> list[Passage]:
    """`passages` with each part of a cut definition widened to its sibling parts (nearest first,
    within `budget_tokens`), and the parts so taken in dropped from further down."""
    split = [(p, parsed) for p in passages if p.is_code and (parsed := _part_of(p.heading))]
    if not split or budget_tokens <= 0:
        return passages
    places = [
        (p.document_id, ord_)
        for p, (_, part) in split
        for ord_ in range(p.ord - part + 1, p.ord + _MAX_PARTS_AFTER + 1)
    ]
    chunks = {(c.document_id, c.ord): c for c in await source.chunks_at(places)}
    taken: set[tuple[str, int]] = set()
    widened: list[Passage] = []
    for passage in passages:
        if (passage.document_id, passage.ord) in taken:
            continue
        parsed = _part_of(passage.heading) if passage.is_code else None
        if parsed is None:
            widened.append(passage)
            continue
        siblings, index = _siblings(chunks, passage, *parsed)
        if not siblings:
            widened.append(passage)
            continue
        parts = _within_budget(siblings, index, budget_tokens)
        taken.update((passage.document_id, c.ord) for c in parts)
        widened.append(_joined(passage, parts, parsed[0], len(parts) == len(siblings)))
    return widened


def _part_of(heading: str | None) -> tuple[str, int] | None:
    match = _PART.match(heading or "")
    return (match["base"], int(match["part"])) if match else None


def _siblings(
    chunks: dict[tuple[str, int], ChunkPart], passage: Passage, base: str, part: int
) -> tuple[list[ChunkPart], int]:
    """The definition's parts in order (the chunks around the passage headed by its name with
    consecutive part numbers), and where the passage is among them."""

    def run(step: int) -> list[ChunkPart]:
        found: list[ChunkPart] = []
        n, ord_ = part + step, passage.ord + step
        while (chunk := chunks.get((passage.document_id, ord_))) is not None and (
            chunk.heading == f"{base} (part {n})"
        ):
            found.append(chunk)
            n, ord_ = n + step, ord_ + step
        return found

    own = chunks.get((passage.document_id, passage.ord))
    if own is None:
        return [], 0
    before = run(-1)[::-1]
    return [*before, own, *run(1)], len(before)


def _within_budget(siblings: list[ChunkPart], index: int, budget: int) -> list[ChunkPart]:
    """The passage's own part, grown by the part after it, then the one before, and so on, while
    they fit in `budget`."""
    first = last = index
    total = siblings[index].tokens
    grown = True
    while grown:
        grown = False
        for candidate in (last + 1, first - 1):
            if 0 <= candidate < len(siblings) and total + siblings[candidate].tokens <= budget:
                total += siblings[candidate].tokens
                first, last = min(first, candidate), max(last, candidate)
                grown = True
    return siblings[first : last + 1]


def _joined(passage: Passage, parts: list[ChunkPart], base: str, whole: bool) -> Passage:
    if len(parts) <= 1:
        return passage
    text = parts[0].content
    for before, after in pairwise(parts):
        gap = after.start_line - before.end_line
        if gap > 0:
            # Code is cut between statements: only blank lines (trimmed from both) lie between.
            text += "\n" * gap + after.content
        elif rows := after.content.split("\n")[1 - gap :]:
            # Windows of lines (a long configuration section) repeat the last rows before them.
            text += "\n" + "\n".join(rows)
    first_part = _part_of(parts[0].heading)
    last_part = _part_of(parts[-1].heading)
    heading = base
    if not whole and first_part and last_part:
        heading = f"{base} (parts {first_part[1]}–{last_part[1]})"
    return passage.model_copy(
        update={
            "content": text,
            "heading": heading,
            "start_line": parts[0].start_line,
            "end_line": parts[-1].end_line,
        }
    )
