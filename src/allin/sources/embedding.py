"""What the embedder reads of a repository file's chunk, at sync time and when chunks are
embedded again after a change of embedder."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from allin.rag.clean import document_embedding_text
from allin.sources.identifiers import identifier_terms
from allin.sources.languages import DOC_LANGUAGES, language_for

# Identifier words put before a code chunk's text.
_NAME_WORDS = 40


def chunk_embedding_text(path: str, heading: str | None, content: str, terms: str) -> str:
    if language_for(path) in DOC_LANGUAGES:
        return document_embedding_text(path, heading, content)
    # The embedder reads English best and only a chunk's first 256 tokens: the names the code
    # uses, as words ("find best app"), come before the code itself.
    words = " ".join(terms.split()[:_NAME_WORDS])
    return f"{heading or path}\n{words}\n{content}"


def piece_embedding_texts(
    path: str, content: str, start_line: int, pieces: Sequence[Sequence[Any]]
) -> list[str]:
    """What the embedder reads of each piece of a chunk (`SourceChunk.pieces`, as its meta stores
    them: [start_line, end_line, heading]): the piece's own lines, headed like a chunk."""
    rows = content.split("\n")
    texts = []
    for first, last, heading in pieces:
        lines = "\n".join(rows[first - start_line : last - start_line + 1])
        texts.append(chunk_embedding_text(path, heading, lines, identifier_terms(lines)))
    return texts
