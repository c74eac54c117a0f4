"""A retrieved part of a function cut into several comes back with its sibling parts."""

from __future__ import annotations

from collections.abc import Sequence

from allin.rag.definitions import ChunkPart, whole_definitions
from allin.rag.document_records import Passage
from allin.sources.code_chunks import chunk_source_file

BASE = "src/app.py › App › make_response"


def part(ord_: int, n: int | None, start: int, end: int, tokens: int = 100) -> ChunkPart:
    heading = f"{BASE} (part {n})" if n else "src/app.py › App › other"
    content = "\n".join(f"line {row}" for row in range(start, end + 1))
    return ChunkPart("d1", ord_, content, heading, start, end, tokens)


# make_response in three parts (ords 4-6, blank lines 21 and 41 between them), then another
# method; a later method of the same name elsewhere in the file is a different definition.
CHUNKS = [
    part(3, None, 1, 9),
    part(4, 1, 10, 20),
    part(5, 2, 22, 40),
    part(6, 3, 42, 50),
    part(7, None, 52, 60),
]


class Chunks:
    def __init__(self, chunks: list[ChunkPart]) -> None:
        self._chunks = {(c.document_id, c.ord): c for c in chunks}
        self.asked: list[tuple[str, int]] = []

    async def chunks_at(self, places: Sequence[tuple[str, int]]) -> list[ChunkPart]:
        self.asked += places
        return [self._chunks[place] for place in places if place in self._chunks]


def passage(chunk: ChunkPart, *, code: bool = True) -> Passage:
    return Passage(
        chunk_id=100 + chunk.ord,
        document_id=chunk.document_id,
        document_name="src/app.py",
        document_title=None,
        ord=chunk.ord,
        content=chunk.content,
        heading=chunk.heading,
        page=None,
        score=0.5,
        similarity=0.5,
        format="python" if code else "text",
        repository="app",
        start_line=chunk.start_line,
        end_line=chunk.end_line,
    )


async def test_a_part_brings_its_siblings_and_they_leave_the_ranking() -> None:
    ranked = [passage(CHUNKS[2]), passage(CHUNKS[0]), passage(CHUNKS[3]), passage(CHUNKS[4])]
    widened = await whole_definitions(Chunks(CHUNKS), ranked, budget_tokens=1000)
    assert [p.chunk_id for p in widened] == [105, 103, 107]
    whole = widened[0]
    assert whole.heading == BASE
    assert (whole.start_line, whole.end_line) == (10, 50)
    # The file's lines 10-50: the blank lines between the parts are back in their places.
    rows = whole.content.split("\n")
    assert len(rows) == 41 and rows[0] == "line 10" and rows[-1] == "line 50"
    assert rows[11] == "" and rows[12] == "line 22" and rows[31] == "" and rows[32] == "line 42"
    assert widened[1:] == ranked[1:2] + ranked[3:]


async def test_the_budget_takes_the_nearest_parts_the_one_after_first() -> None:
    ranked = [passage(CHUNKS[2])]
    two = await whole_definitions(Chunks(CHUNKS), ranked, budget_tokens=200)
    assert (two[0].heading, two[0].start_line, two[0].end_line) == (f"{BASE} (parts 2–3)", 22, 50)
    alone = await whole_definitions(Chunks(CHUNKS), ranked, budget_tokens=150)
    assert alone == ranked


async def test_prose_whole_chunks_and_a_zero_budget_are_left_as_they_are() -> None:
    chunks = Chunks(CHUNKS)
    prose = passage(CHUNKS[1], code=False)
    unsplit = passage(CHUNKS[0])
    assert await whole_definitions(chunks, [prose, unsplit], budget_tokens=1000) == [
        prose,
        unsplit,
    ]
    assert chunks.asked == []  # nothing to widen, nothing looked up
    split = [passage(CHUNKS[1])]
    assert await whole_definitions(chunks, split, budget_tokens=0) == split


async def test_only_consecutive_parts_of_one_definition_join() -> None:
    # Part 3 of another definition of the same name, further down, is not a sibling.
    stray = ChunkPart("d1", 9, "line 70", f"{BASE} (part 3)", 70, 70, 10)
    chunks = [*CHUNKS[:3], CHUNKS[4], stray]
    widened = await whole_definitions(Chunks(chunks), [passage(CHUNKS[1])], budget_tokens=1000)
    assert (widened[0].heading, widened[0].start_line, widened[0].end_line) == (BASE, 10, 40)


async def test_parts_that_repeat_the_rows_before_them_join_into_the_files_lines() -> None:
    # A long configuration section is cut into windows of lines that overlap.
    text = "[tool.tox.env]\n" + "".join(f'key{n} = "value number {n}"\n' for n in range(60))
    cut = chunk_source_file("tox.toml", text, max_tokens=128, overlap_tokens=32)
    assert len(cut) > 2 and cut[1].start_line <= cut[0].end_line
    chunks = [
        ChunkPart("d1", c.ord, c.content, c.heading, c.start_line, c.end_line, c.tokens)
        for c in cut
    ]
    hit = passage(chunks[1])
    (whole,) = await whole_definitions(Chunks(chunks), [hit], budget_tokens=10_000)
    assert whole.heading == "tox.toml › tool.tox.env"
    rows = text.split("\n")
    assert whole.content == "\n".join(rows[whole.start_line - 1 : whole.end_line])
    assert (whole.start_line, whole.end_line) == (1, 61)
