"""The knowledge base as one user may see and change it: the rules every way in (REST, MCP)
shares. A user sees their own documents and the shared ones; someone else's private document
does not exist for them; only admins share documents or change shared ones; a repository's files
change only by syncing the repository."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from typing import Any

from allin.auth.principal import Principal
from allin.errors import AllinError, Conflict, Forbidden, NotFound
from allin.jobs.queue import JobQueue
from allin.rag.document_records import Document
from allin.rag.formats import detect_format
from allin.rag.hybrid import Scope
from allin.rag.ingest import Ingestor, IngestOutcome, blob_path, check_upload, clean_name
from allin.rag.uploads import IngestRequest
from allin.storage.blobs import DOCUMENTS, BlobStore
from allin.storage.documents import DocumentStore, NewDocument
from allin.storage.uploads import UploadStore, lane_lock
from allin.trust.described import DescribedDocuments

# How often a request waiting for its uploads' ingestion looks at them.
_SETTLE_POLL_S = 0.2


class DocumentLibrary:
    def __init__(
        self,
        documents: DocumentStore,
        ingestor: Ingestor,
        blobs: BlobStore,
        uploads: UploadStore,
        jobs: JobQueue,
        lanes_per_user: int,
        described: DescribedDocuments,
    ) -> None:
        self._documents = documents
        self._ingestor = ingestor
        self._blobs = blobs
        self._uploads = uploads
        self._jobs = jobs
        self._lanes = lanes_per_user
        self._described = described

    async def listing(self, principal: Principal) -> list[Document]:
        return await self._documents.visible(Scope(principal.user_id))

    async def visible(self, principal: Principal, document_id: str) -> Document:
        try:
            document = await self._documents.get(document_id)
        except NotFound:
            document = None
        if document is None or not (document.shared or document.owner_id == principal.user_id):
            raise NotFound(f"document {document_id!r} does not exist")
        return document

    async def passage(self, principal: Principal, chunk_id: int) -> tuple[dict[str, Any], Document]:
        """A cited chunk and its document, if the user may see the document."""
        chunk = await self._documents.chunk(chunk_id)
        return chunk, await self.visible(principal, chunk["document_id"])

    async def link(self, principal: Principal, document_id: str, ttl_s: int) -> str:
        """A short-lived URL of an uploaded document's raw file."""
        document = await self.visible(principal, document_id)
        _not_from_repository(document)
        return await self._blobs.signed_url(DOCUMENTS, document.storage_path, ttl_s)

    @staticmethod
    def check_sharing(principal: Principal, shared: bool) -> None:
        if shared and not principal.is_admin:
            raise Forbidden("only admins share documents with the whole team")

    async def submit(
        self,
        principal: Principal,
        name: str,
        data: bytes,
        shared: bool,
        describes_repository: str | None = None,
    ) -> Document | IngestOutcome:
        """Store an upload's raw file and queue its ingestion: the document, recorded as queued
        (linked to the repository it describes, if named: its warnings follow its ingestion).
        What is refused before any parsing (its name, size or type), or is unchanged, is settled
        at once: its outcome."""
        self.check_sharing(principal, shared)
        if describes_repository is not None:
            await self._described.check_repository(describes_repository)
        try:
            name = clean_name(name)
            check_upload(name, data, self._ingestor.max_bytes)
            document_format = detect_format(name, data)
        except AllinError as error:
            return IngestOutcome(name, "failed", error_code=error.code, error=error.message)
        sha256 = hashlib.sha256(data).hexdigest()
        existing = await self._documents.find(principal.user_id, name)
        if (
            existing
            and existing.status == "ready"
            and existing.sha256 == sha256
            and not existing.ingest_pending
        ):
            if describes_repository is not None:
                existing = await self._described.describe(existing.id, describes_repository)
            return IngestOutcome(name, "unchanged", existing)
        storage_path = blob_path(principal.user_id, sha256, name)
        await self._blobs.put(DOCUMENTS, storage_path, data, document_format.mime)
        document = await self._uploads.record(
            NewDocument(
                owner_id=principal.user_id,
                name=name,
                shared=shared,
                title=None,
                mime=document_format.mime,
                format=document_format.name,
                storage_path=storage_path,
                sha256=sha256,
                size_bytes=len(data),
            )
        )
        if describes_repository is not None:
            document = await self._described.describe(document.id, describes_repository)
        return await self._queue(document, IngestRequest(document.id, storage_path, shared))

    async def reindex(self, principal: Principal, document_id: str) -> Document:
        """Queue parsing, chunking and embedding the stored raw file again (for its owner, as
        uploaded): the document, queued."""
        document = await self._changeable(principal, document_id)
        if document.ingest_pending:
            raise Conflict(f"{document.name} is already queued or being indexed")
        recorded = await self._uploads.queue_again(document.id)
        request = IngestRequest(document.id, document.storage_path, document.shared, force=True)
        return await self._queue(recorded, request)

    async def _queue(self, document: Document, request: IngestRequest) -> Document:
        loads = await self._uploads.lane_loads(document.owner_id, self._lanes)
        lane = lane_lock(document.owner_id, loads.index(min(loads)))
        job_id = await self._jobs.defer_ingestion(lane, request)
        await self._uploads.set_job(document.id, job_id)
        return document.model_copy(update={"job_id": job_id})

    async def describe(
        self, principal: Principal, document_id: str, repository_id: str | None
    ) -> Document:
        """Say which repository a document describes (None: none), as its owner or an admin."""
        await self._changeable(principal, document_id)
        if repository_id is not None:
            await self._described.check_repository(repository_id)
        return await self._described.describe(document_id, repository_id)

    async def settle(self, document_ids: Sequence[str], timeout_s: float) -> dict[str, Document]:
        """The documents once none is queued or being ingested, or as they are after
        `timeout_s`. Polled: the jobs may run in another process."""
        deadline = time.monotonic() + timeout_s
        while True:
            documents = await self._uploads.documents(document_ids)
            pending = any(document.ingest_pending for document in documents.values())
            if not pending or time.monotonic() >= deadline:
                return documents
            await asyncio.sleep(min(_SETTLE_POLL_S, max(0.0, deadline - time.monotonic())))

    async def cancel(self, principal: Principal, document_id: str) -> Document:
        """Cancel the document's queued or running ingestion (a searchable version stays)."""
        document = await self._changeable(principal, document_id)
        if not document.ingest_pending or document.job_id is None:
            raise Conflict(f"{document.name} is not queued or being indexed")
        await self._jobs.cancel(document.job_id)
        try:
            status = await self._jobs.status(document.job_id)
        except NotFound:  # it ended, and its job was cleared away
            status = None
        if status == "cancelled":
            # It had not started: nothing else will say so. (A running one says so as it stops.)
            await self._uploads.finished(document.id, "cancelled", None, "cancelled")
        return await self.visible(principal, document_id)

    async def delete(self, principal: Principal, document_id: str) -> None:
        document = await self._changeable(principal, document_id)
        if document.ingest_pending and document.job_id is not None:
            await self._jobs.cancel(document.job_id)
        await self._ingestor.delete(document)

    async def _changeable(self, principal: Principal, document_id: str) -> Document:
        document = await self.visible(principal, document_id)
        _not_from_repository(document)
        if document.owner_id != principal.user_id and not (document.shared and principal.is_admin):
            raise Forbidden("only its owner (or an admin, for a shared document) can change it")
        return document


def _not_from_repository(document: Document) -> None:
    if document.repository_id is not None:
        raise Conflict(
            f"{document.name} is a file of a synced repository: see "
            f"/api/v1/repositories/{document.repository_id}"
        )
