"""The stored shapes of documents and retrieved passages, as the API returns them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

DocumentStatus = Literal["indexing", "ready", "failed"]


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

    def citation(self, number: int, snippet_chars: int = 300) -> dict[str, Any]:
        flat = " ".join(self.content.split())
        snippet = flat if len(flat) <= snippet_chars else flat[: snippet_chars - 1] + "…"
        return {
            "n": number,
            "document_id": self.document_id,
            "document": self.document_name,
            "title": self.document_title,
            "heading": self.heading,
            "page": self.page,
            "chunk_id": self.chunk_id,
            "snippet": snippet,
        }
