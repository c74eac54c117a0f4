"""The stored shapes of documents and retrieved passages, as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from allin.rag.citations import Citation, StaleNote
from allin.sources.languages import DOC_LANGUAGES
from allin.sources.roles import is_test_path

DocumentStatus = Literal["indexing", "ready", "failed"]
"""What is indexed of a document: nothing yet, a searchable version, or nothing (its only
ingestion failed)."""

IngestStatus = Literal["queued", "ingesting", "indexed", "unchanged", "failed", "cancelled"]
"""How its latest ingestion goes: waiting for a worker, running, or how it ended. A new version
queued, running or failed leaves the previous one searchable (`status` stays `ready`)."""
PENDING: frozenset[str] = frozenset({"queued", "ingesting"})


class IngestProgress(BaseModel):
    phase: Literal["parsing", "embedding"]
    done: int
    total: int


class Document(BaseModel):
    id: str
    owner_id: str
    shared: bool
    name: str
    title: str | None
    mime: str
    format: str
    storage_path: str
    sha256: str
    size_bytes: int
    status: DocumentStatus
    error: str | None
    chunk_count: int
    created_at: datetime
    updated_at: datetime
    # Set for a file of a synced repository (see sources/).
    repository_id: str | None = None
    # The repository an uploaded document describes: its code named by the document is
    # watched for changes (stale-citation warnings, see trust/described.py).
    describes_repository: str | None = None
    ingest_status: IngestStatus = "indexed"
    # Why the latest ingestion failed: an error code (`too_large`, `bad_request`…); `error` says
    # it in words.
    error_code: str | None = None
    progress: IngestProgress | None = None
    # The job of the latest ingestion (`GET /api/v1/documents/{id}` follows it).
    job_id: int | None = None

    @property
    def ingest_pending(self) -> bool:
        return self.ingest_status in PENDING

    @property
    def is_code(self) -> bool:
        """A code file of a synced repository (as `Passage.is_code`)."""
        return self.repository_id is not None and self.format not in DOC_LANGUAGES


class Passage(BaseModel):
    """A retrieved chunk with where it came from and how it ranked."""

    chunk_id: int
    document_id: str
    document_name: str
    document_title: str | None
    ord: int
    content: str
    heading: str | None
    page: int | None
    score: float
    similarity: float
    # A file of a synced repository: which one, the lines cited and the commit they are from.
    format: str | None = None
    repository_id: str | None = None
    repository: str | None = None
    commit_sha: str | None = None
    committed_at: datetime | None = None
    author_name: str | None = None
    # When and by whom an uploaded document was last indexed (a repository file: its commit).
    document_updated_at: datetime | None = None
    uploader: str | None = None
    start_line: int | None = None
    end_line: int | None = None
    # Of a code chunk with pieces: the lines of the piece nearest the question, within the above.
    focus_start_line: int | None = None
    focus_end_line: int | None = None

    @property
    def is_code(self) -> bool:
        return self.repository is not None and self.format not in DOC_LANGUAGES

    @property
    def is_test(self) -> bool:
        """Code of a repository's tests (`tests/test_sessions.py`), not the code they test."""
        return self.is_code and is_test_path(self.document_name)

    @property
    def location(self) -> str:
        """Where the passage is, as a person reads it: `repo › path:L10–L42 @ 1a2b3c4` for
        code, `document › heading (page n)` for documents."""
        if self.repository:
            lines = f":L{self.start_line}–L{self.end_line}" if self.start_line else ""
            commit = f" @ {self.commit_sha[:7]}" if self.commit_sha else ""
            return f"{self.repository} › {self.document_name}{lines}{commit}"
        where = " › ".join(part for part in (self.document_name, self.heading) if part)
        return f"{where} (page {self.page})" if self.page else where

    def citation(
        self, number: int, stale: list[StaleNote] | None = None, snippet_chars: int = 300
    ) -> Citation:
        flat = " ".join(self.content.split())
        snippet = flat if len(flat) <= snippet_chars else flat[: snippet_chars - 1] + "…"
        return Citation(
            n=number,
            document_id=self.document_id,
            document=self.document_name,
            title=self.document_title,
            heading=self.heading,
            page=self.page,
            chunk_id=self.chunk_id,
            snippet=snippet,
            location=self.location,
            repository_id=self.repository_id,
            repository=self.repository,
            path=self.document_name if self.repository else None,
            commit=self.commit_sha,
            start_line=self.start_line,
            end_line=self.end_line,
            focus_start_line=self.focus_start_line,
            focus_end_line=self.focus_end_line,
            updated_at=self.updated_at,
            updated_by=self.author_name if self.repository else self.uploader,
            stale=stale,
        )

    @property
    def updated_at(self) -> datetime | None:
        """When the cited text last changed: its file's newest commit, or the upload."""
        return self.committed_at if self.repository else self.document_updated_at
