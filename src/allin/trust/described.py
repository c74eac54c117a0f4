"""Uploaded documents that describe a repository ("docs/sessions.md was copied into our wiki"):
the code of that repository they name is watched as the repository's own pages are, so a
citation of them warns "may be out of date" when that code changed after the document's last
upload or update.

Their warnings are computed when the document is ingested or linked (from what the last sync
stored, without git) and again at each sync that moves the repository (from what it read)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence

from allin.rag.document_records import Document
from allin.sources.git import CommitInfo
from allin.storage.described import DescribedStore, DescribingText
from allin.storage.repositories import RepositoryStore
from allin.storage.trust import TrustStore
from allin.trust.references import CodeIndex
from allin.trust.refresh import code_index
from allin.trust.staleness import changed_since
from allin.workers import run_in

logger = logging.getLogger(__name__)


class DescribedDocuments:
    def __init__(
        self, store: DescribedStore, trust: TrustStore, repositories: RepositoryStore
    ) -> None:
        self._store = store
        self._trust = trust
        self._repositories = repositories

    async def check_repository(self, repository_id: str) -> None:
        """NotFound unless the repository exists: checked before an upload naming it is read."""
        await self._repositories.get(repository_id)

    async def ingested(
        self, document: Document, describes_repository: str | None = None
    ) -> Document:
        """Call after a document was ingested (uploaded, uploaded again, re-indexed): links it to
        `describes_repository` if given, and recomputes its warnings for its new text and date."""
        if describes_repository is not None:
            return await self.describe(document.id, describes_repository)
        if document.describes_repository is not None:
            await self._relink(document.id)
        return document

    async def describe(self, document_id: str, repository_id: str | None) -> Document:
        """Link the document to the repository it describes (None: to none)."""
        document = await self._store.set_describes(document_id, repository_id)
        if repository_id is not None:
            await self._relink(document_id)
        return document

    async def repository_synced(
        self, repository_id: str, index: CodeIndex, history: Mapping[str, Sequence[CommitInfo]]
    ) -> int:
        """Recompute the warnings of every document describing the repository, from what its
        sync just read; the number of warnings."""
        warnings = 0
        for document in await self._store.describing(repository_id):
            warnings += await self._replace(document, index, history)
        return warnings

    async def _relink(self, document_id: str) -> None:
        document = await self._store.text_of(document_id)
        if document is None:
            return
        texts = await self._trust.indexed_texts(document.repository_id)
        index = await run_in("parsing", code_index, texts)
        named = index.files_named_by(document.text)
        history: dict[str, list[CommitInfo]] = defaultdict(list)
        for found in await self._trust.file_commits([(document.repository_id, p) for p in named]):
            history[found.path].append(found.commit)
        await self._replace(document, index, history)

    async def _replace(
        self,
        document: DescribingText,
        index: CodeIndex,
        history: Mapping[str, Sequence[CommitInfo]],
    ) -> int:
        changes = await run_in(
            "parsing", changed_since, document.text, document.updated_at, index, history
        )
        await self._store.replace_links(document, changes)
        logger.info(
            "document %s describes repository %s: %d stale links",
            document.document_id,
            document.repository_id,
            len(changes),
        )
        return len(changes)
