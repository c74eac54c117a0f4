"""The stale-citation warnings of cited documents, as a citation or a passage view shows them: a
repository's documentation page by its path, an uploaded document describing a repository by
its id. Code files have none: they are what changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from allin.rag.citations import StaleNote
from allin.sources.languages import DOC_LANGUAGES
from allin.storage.described import DescribedStore
from allin.storage.trust import TrustStore
from allin.trust.wording import stale_summary

# Warnings shown per document: the ones with the most commits since.
SHOWN = 3


@dataclass(frozen=True, slots=True)
class CitedDocument:
    document_id: str
    name: str
    repository_id: str | None
    format: str | None

    @property
    def is_code(self) -> bool:
        return self.repository_id is not None and self.format not in DOC_LANGUAGES


class StaleWarnings:
    def __init__(self, trust: TrustStore, described: DescribedStore) -> None:
        self._trust = trust
        self._described = described

    async def of(self, documents: Iterable[CitedDocument]) -> dict[str, list[StaleNote]]:
        """Each document's warnings (most commits first) by document id; none for those with
        no warnings."""
        pages = {d.document_id: d for d in documents if not d.is_code}
        by_path = {(d.repository_id, d.name): d.document_id for d in pages.values()}
        rows: list[tuple[str, dict[str, Any]]] = []
        if in_repositories := [key for key in by_path if key[0] is not None]:
            found = await self._trust.stale_links([(r or "", path) for r, path in in_repositories])
            rows += [(by_path[(row["repository_id"], row["doc_path"])], row) for row in found]
        if uploaded := [d.document_id for d in pages.values() if d.repository_id is None]:
            found = await self._described.stale_links(uploaded)
            rows += [(row["document_id"], row) for row in found]
        notes: dict[str, list[StaleNote]] = {}
        for document_id, row in rows:
            shown = notes.setdefault(document_id, [])
            if len(shown) < SHOWN:
                shown.append(_note(row))
        return notes


def _note(row: dict[str, Any]) -> StaleNote:
    return StaleNote(
        code_path=row["code_path"],
        names=list(row["names"]),
        commits_since=row["commits_since"],
        newest_commit=row["newest_commit"],
        newest_committed_at=row["newest_committed_at"],
        newest_author=row["newest_author"],
        doc_committed_at=row["doc_committed_at"],
        summary=stale_summary(row),
    )
