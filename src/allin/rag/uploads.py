"""An upload's ingestion job: read the raw file the upload stored, ingest it, and leave on the
document how it went (its progress while it runs, then `indexed`, `unchanged`, `failed` with the
error, or `cancelled`), so no outcome is lost with the request that asked for it.

A job cut short (its worker killed) runs again from the start: nothing of it was written but its
progress, since a document and all its chunks are stored in one transaction at the end
(`DocumentStore.save`), so nothing is indexed twice. A passing failure (the database, the blob
store) is tried again; the others are the file's, and final.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from allin.errors import NotFound, Unavailable, as_allin_error
from allin.rag.ingest import Ingestor
from allin.storage.blobs import DOCUMENTS, BlobStore
from allin.storage.uploads import UploadStore
from allin.trust.described import DescribedDocuments

logger = logging.getLogger(__name__)

# Progress is written at most this often (each report is a database write).
_PROGRESS_EVERY_S = 0.25


@dataclass(frozen=True, slots=True)
class IngestRequest:
    """An ingestion job's arguments: which document, the raw file to read (a new version's, or
    the indexed one's to re-index), who may see it, and whether to index it even if unchanged."""

    document_id: str
    storage_path: str
    shared: bool
    force: bool = False


class UploadIngestion:
    def __init__(
        self,
        uploads: UploadStore,
        blobs: BlobStore,
        ingestor: Ingestor,
        described: DescribedDocuments,
    ) -> None:
        self._uploads = uploads
        self._blobs = blobs
        self._ingestor = ingestor
        self._described = described

    async def run(self, request: IngestRequest, *, may_retry: bool) -> dict[str, Any]:
        """Ingest the document; raises `Unavailable` for a passing failure while `may_retry`.
        Whatever else goes wrong is kept on the document: no job ends with it still pending."""
        try:
            return await self._ingest(request)
        except Exception as exc:
            error = as_allin_error(exc)
            retry = may_retry and error.code == Unavailable.code
            logger.warning("ingesting %s: %s", request.document_id, error.message, exc_info=exc)
            # The database itself may be what failed: the retry (or the next look) says more.
            with contextlib.suppress(Exception):
                await self._uploads.finished(
                    request.document_id, "queued" if retry else "failed", error.code, error.message
                )
            if retry:
                raise Unavailable(error.message) from exc
            raise

    async def _ingest(self, request: IngestRequest) -> dict[str, Any]:
        document = await self._uploads.started(request.document_id)
        if document is None:
            logger.info("document %s was deleted before its ingestion", request.document_id)
            return {"status": "removed"}
        try:
            data = await self._blobs.get(DOCUMENTS, request.storage_path)
        except NotFound:
            await self._uploads.finished(
                document.id, "failed", NotFound.code, f"{document.name}: the uploaded file is gone"
            )
            return {"status": "failed"}
        reporter = _ProgressWriter(self._uploads, document.id)
        outcome = await self._ingestor.ingest(
            owner_id=document.owner_id,
            name=document.name,
            data=data,
            shared=request.shared,
            force=request.force,
            progress=reporter.embedded,
            recorded_id=document.id,
        )
        await reporter.flush()
        if outcome.status != "failed":
            await self._uploads.finished(document.id, outcome.status)
            if outcome.document is not None:
                # Its stale warnings follow its new text and date.
                await self._described.ingested(outcome.document)
            chunks = outcome.document.chunk_count if outcome.document else 0
            return {"status": outcome.status, "chunks": chunks}
        if outcome.error_code == Unavailable.code:
            raise Unavailable(outcome.error or "a dependency failed")
        await self._uploads.finished(document.id, "failed", outcome.error_code, outcome.error)
        if request.storage_path != document.storage_path:
            # A new version that failed: its raw file is of no use (the indexed one stays).
            await self._blobs.delete(DOCUMENTS, request.storage_path)
        return {"status": "failed", "error": outcome.error_code}

    async def stopped(self, document_id: str, *, by_user: bool) -> None:
        """The job was stopped: cancelled by its owner, or cut short by its worker shutting down
        (it is queued again)."""
        if by_user:
            await self._uploads.finished(document_id, "cancelled", None, "cancelled")
        else:
            await self._uploads.finished(document_id, "queued")


class _ProgressWriter:
    """The ingestor's progress (a plain callback) written to the document, a few times a second:
    a write still under way when the next report comes is not doubled."""

    def __init__(self, uploads: UploadStore, document_id: str) -> None:
        self._uploads = uploads
        self._document_id = document_id
        self._last = 0.0
        self._writing: asyncio.Task[None] | None = None

    def embedded(self, done: int, total: int) -> None:
        now = time.monotonic()
        busy = self._writing is not None and not self._writing.done()
        if busy or (done < total and now - self._last < _PROGRESS_EVERY_S):
            return
        self._last = now
        self._writing = asyncio.create_task(
            self._uploads.set_progress(self._document_id, "embedding", done, total)
        )

    async def flush(self) -> None:
        if self._writing is not None:
            await self._writing
