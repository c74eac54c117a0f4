"""Chunks are verbatim slices of the document, within the token limit, never across sections, with
code kept whole and consecutive chunks overlapping."""

from __future__ import annotations

import itertools

from allin.rag.chunking import chunk_document
from allin.rag.formats import parse
from allin.rag.token_count import count_tokens


def sentences(n: int, topic: str) -> str:
    return " ".join(f"Sentence {i} explains {topic} in some detail for readers." for i in range(n))


def test_chunks_are_verbatim_within_the_limit_and_overlap() -> None:
    text = f"# Guide\n\n## Deploying\n\n{sentences(60, 'deploying')}\n"
    _, document = parse("guide.md", text.encode())
    chunks = chunk_document(document, max_tokens=64, overlap_tokens=16)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.content == document.text[chunk.start : chunk.end]
        assert count_tokens([chunk.content])[0] <= 64 + 2  # units are counted apart
        assert chunk.heading == "Guide › Deploying"
    for before, after in itertools.pairwise(chunks):
        assert after.start < before.end, "consecutive chunks overlap"
        assert after.start > before.start, "and always move forward"
    assert [c.ord for c in chunks] == list(range(len(chunks)))


def test_chunks_never_cross_sections_and_a_lone_heading_joins_the_next() -> None:
    text = "# Handbook\n\n## Leave\n\nYou get 25 days.\n\n## Expenses\n\nKeep receipts.\n"
    _, document = parse("handbook.md", text.encode())
    chunks = chunk_document(document, max_tokens=256, overlap_tokens=32)
    assert [(c.heading, c.content) for c in chunks] == [
        ("Handbook › Leave", "# Handbook\n\n## Leave\n\nYou get 25 days."),
        ("Handbook › Expenses", "## Expenses\n\nKeep receipts."),
    ]


def test_code_block_stays_whole_when_it_fits_and_is_cut_at_lines_when_not() -> None:
    code = "\n".join(f"    step_{i}()" for i in range(12))
    text = f"Intro::\n\n{code}\n\nOutro.\n"
    _, document = parse("howto.rst", text.encode())
    whole = chunk_document(document, max_tokens=256, overlap_tokens=0)
    assert len(whole) == 1 and code in whole[0].content
    cut = chunk_document(document, max_tokens=30, overlap_tokens=0)
    assert all(count_tokens([c.content])[0] <= 30 for c in cut)
    pieces = [c.content for c in cut if "step_" in c.content]
    assert all(piece.startswith("    step_") or piece.startswith("Intro") for piece in pieces)
    assert "".join(p for p in pieces).count("step_") == 12


def test_one_huge_line_is_cut_between_words() -> None:
    text = " ".join(["word"] * 2000)
    _, document = parse("notes.txt", text.encode())
    chunks = chunk_document(document, max_tokens=100, overlap_tokens=10)
    assert all(c.tokens <= 100 for c in chunks)
    assert " ".join(c.content for c in chunks).count("word") >= 2000


def test_pdf_chunks_keep_their_page() -> None:
    from tests.support.documents import make_pdf

    _, document = parse("a.pdf", make_pdf(["First page text here.", "Second page text here."]))
    chunks = chunk_document(document, max_tokens=256, overlap_tokens=0)
    assert [c.page for c in chunks] == [1, 2]
