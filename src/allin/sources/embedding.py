"""What the embedder reads of a repository file's chunk, at sync time and when chunks are
embedded again after a change of embedder."""

from __future__ import annotations

from allin.rag.clean import document_embedding_text
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
