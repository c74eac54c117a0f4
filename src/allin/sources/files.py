"""A repository file on its way into the index: whether its tree entry is worth reading, its
blob contents, what is staged for it, and what each chunk records about itself."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from typing import Any

from allin.sources.code_chunks import SourceChunk
from allin.sources.git import FILE_MODES, SUBMODULE_MODE, SYMLINK_MODE, CommitInfo, Git, TreeEntry
from allin.sources.languages import language_for
from allin.sources.selection import skip_reason
from allin.storage.repositories import StagedFile

MIME_BY_LANGUAGE = {"markdown": "text/markdown", "rst": "text/x-rst", "text": "text/plain"}


async def read_entries(
    git: Git, entries: list[TreeEntry]
) -> AsyncIterator[tuple[TreeEntry, bytes]]:
    """Each entry with its contents, every blob read once (copies of a file share one)."""
    by_sha: dict[str, list[TreeEntry]] = defaultdict(list)
    for entry in entries:
        by_sha[entry.sha].append(entry)
    async for sha, data in git.blobs(list(by_sha)):
        for entry in by_sha[sha]:
            yield entry, data


def tree_skip_reason(entry: TreeEntry, max_bytes: int) -> str | None:
    if entry.mode == SYMLINK_MODE:
        return "symlink"
    if entry.mode == SUBMODULE_MODE:
        return "submodule"
    if entry.mode not in FILE_MODES:
        return "unsupported"
    if entry.size > max_bytes:
        return "too_large"
    # Bytes that are not UTF-8 (kept as surrogates) or control characters: Postgres text cannot
    # hold the one, and a citation cannot show the other.
    if any(ord(c) < 32 or 0xDC80 <= ord(c) <= 0xDCFF for c in entry.path):
        return "odd_name"
    # What the path alone tells (vendored, generated, unsupported), before reading the file.
    return skip_reason(entry.path, b"", max_bytes)


def staged_file(entry: TreeEntry, data: bytes, commit: CommitInfo, chunking: str) -> StagedFile:
    language = language_for(entry.path)
    return StagedFile(
        path=entry.path,
        blob_sha=entry.sha,
        language=language,
        mime=MIME_BY_LANGUAGE.get(
            language or "", f"text/x-{language}" if language else "text/plain"
        ),
        data=data,
        commit=commit,
        chunking=chunking,
    )


def chunk_meta(chunk: SourceChunk) -> dict[str, Any]:
    return {
        "start_line": chunk.start_line,
        "end_line": chunk.end_line,
        "symbol": chunk.symbol,
        "kind": chunk.kind,
        "tokens": chunk.tokens,
        "terms": chunk.terms,
        # Where the pieces with vectors of their own lie (`chunk_piece_vectors`), so they can be
        # embedded again from the chunk alone after a change of embedder.
        **(
            {"pieces": [[p.start_line, p.end_line, p.heading] for p in chunk.pieces]}
            if chunk.pieces
            else {}
        ),
    }
