"""Ingestion: a file becomes a stored document (raw bytes in the blob store) with embedded chunks.

Parsing and chunking run in a child process with memory and time limits (`rag/sandbox.py`),
awaited from the parsing threads (`workers.py`, which bound how many run at once), and embedding
on the embedder's own thread, so the event loop stays free and a file built to exhaust the parser
costs only that process. Nothing is written to the database until a file is fully parsed and
embedded; then the document and all its chunks are stored in one transaction.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from allin.embeddings.base import Embedder, TokenEmbedder
from allin.errors import AllinError, BadRequest, TooLarge, as_allin_error
from allin.rag.chunking import Chunk
from allin.rag.clean import document_embedding_text
from allin.rag.document_records import Document
from allin.rag.limits import DocumentLimits
from allin.rag.sandbox import Prepared, prepare, prepare_isolated
from allin.sources.embedding import chunk_embedding_text, piece_embedding_texts
from allin.storage.blobs import DOCUMENTS, BlobStore
from allin.storage.documents import DocumentStore, NewDocument
from allin.storage.text import NUL, NUL_REFUSED
from allin.workers import run_in

logger = logging.getLogger(__name__)

# Chunks embedded per call: small enough to report progress often, large enough to batch well.
_EMBED_BATCH = 64

Progress = Callable[[int, int], None]
"""Called with (chunks embedded so far, chunks in the file)."""


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    name: str
    status: Literal["indexed", "unchanged", "failed"]
    document: Document | None = None
    error_code: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class ChunkingPolicy:
    max_tokens: int
    overlap_tokens: int
    max_bytes: int
    limits: DocumentLimits = field(default_factory=DocumentLimits)
    # Parse in a child process with the memory and time limits; off only for trusted callers.
    isolate: bool = True


@dataclass(frozen=True, slots=True)
class _File:
    owner_id: str
    name: str
    data: bytes
    shared: bool
    recorded_id: str | None


def blob_path(owner_id: str, sha256: str, name: str) -> str:
    """Where a document's raw file is kept: by content, so that storing it again is harmless."""
    return f"{owner_id}/{sha256}/{name}"


def check_upload(name: str, data: bytes, max_bytes: int) -> None:
    """What is refused before any parsing: an empty file, or one over the size limit."""
    if not data.strip():
        raise BadRequest(f"{name}: the file is empty")
    if len(data) > max_bytes:
        raise TooLarge(f"{name}: {len(data)} bytes; the limit is {max_bytes} bytes")


def clean_name(name: str) -> str:
    """A document name: a relative POSIX path with no `..`, as given by the uploader or the CLI."""
    if NUL in name:
        raise BadRequest(f"document name {name!r} {NUL_REFUSED}")
    path = PurePosixPath(name.replace("\\", "/").strip())
    parts = [part for part in path.parts if part not in ("", ".", "/")]
    if not parts or ".." in parts or len("/".join(parts)) > 512:
        raise BadRequest(f"invalid document name {name!r}")
    return "/".join(parts)


class Ingestor:
    def __init__(
        self,
        store: DocumentStore,
        blobs: BlobStore,
        embedder: Embedder,
        policy: ChunkingPolicy,
    ) -> None:
        self._store = store
        self._blobs = blobs
        self._embedder = embedder
        self._policy = policy

    @property
    def max_bytes(self) -> int:
        return self._policy.max_bytes

    async def ingest(
        self,
        *,
        owner_id: str,
        name: str,
        data: bytes,
        shared: bool = False,
        force: bool = False,
        progress: Progress | None = None,
        recorded_id: str | None = None,
    ) -> IngestOutcome:
        """Index one file; a bad file gives a `failed` outcome with the reason, never an exception
        (so one bad file never stops a batch). An unchanged file (same owner, name and content)
        is skipped unless `force`. `recorded_id` is an upload's document, recorded with its raw
        file stored before its job ran (`rag/uploads.py`)."""
        try:
            name = clean_name(name)
            return await self._ingest(
                _File(owner_id, name, data, shared, recorded_id), force, progress
            )
        except AllinError as error:
            logger.info("not ingested: %s: %s", name, error.message)
            return IngestOutcome(name, "failed", error_code=error.code, error=error.message)
        except Exception as exc:
            logger.exception("ingesting %s failed", name)
            internal = as_allin_error(exc)
            return IngestOutcome(name, "failed", error_code=internal.code, error=internal.message)

    async def _ingest(self, file: _File, force: bool, progress: Progress | None) -> IngestOutcome:
        name, data = file.name, file.data
        check_upload(name, data, self._policy.max_bytes)
        sha256 = hashlib.sha256(data).hexdigest()
        existing = await self._store.find(file.owner_id, name)
        if not force and existing and existing.sha256 == sha256 and existing.status == "ready":
            return IngestOutcome(name, "unchanged", existing)
        prepared = await self._prepare(name, data)
        document_format, title, chunks = prepared.format, prepared.title, prepared.chunks
        vectors, tokens = await self._embed(name, chunks, progress)
        storage_path = blob_path(file.owner_id, sha256, name)
        if file.recorded_id is None:
            await self._blobs.put(DOCUMENTS, storage_path, data, document_format.mime)
        document, replaced = await self._store.save(
            NewDocument(
                owner_id=file.owner_id,
                name=name,
                shared=file.shared,
                title=title,
                mime=document_format.mime,
                format=document_format.name,
                storage_path=storage_path,
                sha256=sha256,
                size_bytes=len(data),
            ),
            self._embedder.name,
            chunks,
            vectors,
            tokens,
            recorded_id=file.recorded_id,
        )
        if replaced:
            await self._blobs.delete(DOCUMENTS, replaced)
        return IngestOutcome(name, "indexed", document)

    async def _prepare(self, name: str, data: bytes) -> Prepared:
        policy = self._policy
        run = prepare_isolated if policy.isolate else prepare
        # The parsing threads bound how many files are parsed (and parser processes run) at once.
        return await run_in(
            "parsing", run, name, data, policy.max_tokens, policy.overlap_tokens, policy.limits
        )

    async def _embed(
        self, name: str, chunks: list[Chunk], progress: Progress | None
    ) -> tuple[list[list[float]], list[bytes] | None]:
        """The chunks' vectors, and their token vectors if the embedder gives them (from the same
        forward passes: no extra cost)."""
        texts = [document_embedding_text(name, chunk.heading, chunk.content) for chunk in chunks]
        vectors: list[list[float]] = []
        tokens: list[bytes] | None = [] if isinstance(self._embedder, TokenEmbedder) else None
        for start in range(0, len(texts), _EMBED_BATCH):
            batch = texts[start : start + _EMBED_BATCH]
            if isinstance(self._embedder, TokenEmbedder) and tokens is not None:
                embedded = await self._embedder.embed_with_tokens(batch)
                vectors += [e.vector for e in embedded]
                tokens += [e.tokens for e in embedded]
            else:
                vectors += await self._embedder.embed_documents(batch)
            if progress is not None:
                progress(len(vectors), len(texts))
        return vectors, tokens

    async def reembed_stale(self, progress: Progress | None = None) -> int:
        """Re-embed the chunks another embedder made (after a change of embedder); returns the
        number of documents re-embedded, telling `progress` (documents done, of how many) after
        each. Until then those chunks are found by full text only."""
        done = 0
        stale = await self._store.stale(self._embedder.name)
        for position, document_id in enumerate(stale, 1):
            try:
                document = await self._store.get(document_id)
                chunks = await self._store.chunks_of(document_id)
                texts = [_chunk_text(document, chunk) for chunk in chunks]
                piece_texts = {
                    chunk["id"]: piece_embedding_texts(
                        document.name,
                        chunk["content"],
                        chunk["meta"]["start_line"],
                        chunk["meta"]["pieces"],
                    )
                    for chunk in chunks
                    if chunk["meta"].get("pieces")
                }
                tokens: dict[int, bytes] | None = None
                # Code is never reranked (`allin.rag.retrieval.rerank_prose`).
                if isinstance(self._embedder, TokenEmbedder) and not document.is_code:
                    embedded = await self._embedder.embed_with_tokens(texts)
                    vectors = [e.vector for e in embedded]
                    tokens = {c["id"]: e.tokens for c, e in zip(chunks, embedded, strict=True)}
                else:
                    vectors = await self._embedder.embed_documents(texts)
                flat = [text for texts_of in piece_texts.values() for text in texts_of]
                piece_vectors = iter(await self._embedder.embed_documents(flat) if flat else [])
                pieces: dict[int, Sequence[Sequence[float]]] = {
                    chunk_id: [next(piece_vectors) for _ in texts_of]
                    for chunk_id, texts_of in piece_texts.items()
                }
                await self._store.reembed(
                    document_id,
                    self._embedder.name,
                    {c["id"]: v for c, v in zip(chunks, vectors, strict=True)},
                    tokens,
                    pieces,
                )
                done += 1
            except AllinError as error:
                logger.warning("re-embedding document %s failed: %s", document_id, error.message)
            if progress is not None:
                progress(position, len(stale))
        return done

    async def delete(self, document: Document) -> None:
        await self._store.delete(document.id)
        await self.delete_blob(document)

    async def delete_blob(self, document: Document) -> None:
        await self._blobs.delete(DOCUMENTS, document.storage_path)


def _chunk_text(document: Document, chunk: dict[str, Any]) -> str:
    """A stored chunk as the embedder read it: a repository's files as sources/ embeds them."""
    if document.repository_id:
        terms = chunk["meta"].get("terms", "")
        return chunk_embedding_text(document.name, chunk["heading"], chunk["content"], terms)
    return document_embedding_text(document.name, chunk["heading"], chunk["content"])
