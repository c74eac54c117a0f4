"""The knowledge base as one user may see and change it: the rules every way in (REST, MCP)
shares. A user sees their own documents and the shared ones; someone else's private document
does not exist for them; only admins share documents or change shared ones; a repository's files
change only by syncing the repository."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from allin.auth.principal import Principal
from allin.errors import Conflict, Forbidden, NotFound
from allin.rag.document_records import Document
from allin.rag.hybrid import Scope
from allin.rag.ingest import Ingestor, IngestOutcome
from allin.storage.blobs import DOCUMENTS, BlobStore
from allin.storage.documents import DocumentStore
from allin.trust.described import DescribedDocuments


class DocumentLibrary:
    def __init__(
        self,
        documents: DocumentStore,
        ingestor: Ingestor,
        blobs: BlobStore,
        described: DescribedDocuments,
    ) -> None:
        self._documents = documents
        self._ingestor = ingestor
        self._blobs = blobs
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

    async def add(
        self,
        principal: Principal,
        name: str,
        data: bytes,
        shared: bool,
        describes_repository: str | None = None,
    ) -> IngestOutcome:
        self.check_sharing(principal, shared)
        if describes_repository is not None:
            await self._described.check_repository(describes_repository)
        outcome = await self._ingestor.ingest(
            owner_id=principal.user_id, name=name, data=data, shared=shared
        )
        return await self._ingested(outcome, describes_repository)

    async def delete(self, principal: Principal, document_id: str) -> None:
        await self._ingestor.delete(await self._changeable(principal, document_id))

    async def reindex(self, principal: Principal, document_id: str) -> IngestOutcome:
        """Parse, chunk and embed the stored raw file again (for its owner, as uploaded)."""
        document = await self._changeable(principal, document_id)
        data = await self._blobs.get(DOCUMENTS, document.storage_path)
        outcome = await self._ingestor.ingest(
            owner_id=document.owner_id,
            name=document.name,
            data=data,
            shared=document.shared,
            force=True,
        )
        return await self._ingested(outcome)

    async def describe(
        self, principal: Principal, document_id: str, repository_id: str | None
    ) -> Document:
        """Say which repository a document describes (None: none), as its owner or an admin."""
        await self._changeable(principal, document_id)
        if repository_id is not None:
            await self._described.check_repository(repository_id)
        return await self._described.describe(document_id, repository_id)

    async def _ingested(
        self, outcome: IngestOutcome, describes_repository: str | None = None
    ) -> IngestOutcome:
        """The trust layer's hook: a document's stale warnings follow its text and date."""
        if outcome.document is None or outcome.status == "failed":
            return outcome
        document = await self._described.ingested(outcome.document, describes_repository)
        return replace(outcome, document=document)

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
