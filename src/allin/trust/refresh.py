"""What a repository sync teaches the trust layer, read from git once per new head: each indexed
file's commits (who changed it, when), the CODEOWNERS rules, and the stale-citation links between
its code and its documentation pages (and the uploaded documents describing it). Questions read
these from the database, never from git."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from allin.errors import NotFound
from allin.sources.git import CommitInfo, Git
from allin.sources.languages import DOC_LANGUAGES
from allin.storage.trust import IndexedText, TrustStore
from allin.trust.codeowners import LOCATIONS, OwnerRule, parse_codeowners
from allin.trust.references import CodeIndex
from allin.trust.staleness import DocPage, StaleLink, stale_links
from allin.workers import run_in

if TYPE_CHECKING:
    from allin.trust.described import DescribedDocuments

logger = logging.getLogger(__name__)

# Commits kept per file for ranking people: enough for "most commits recently", bounded so a
# file changed ten thousand times does not cost ten thousand rows.
COMMITS_PER_FILE = 200
_CODEOWNERS_MAX_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Refreshed:
    files: int
    commits: int
    codeowners_rules: int
    stale_links: int
    described_stale_links: int


class TrustRefresher:
    def __init__(
        self,
        store: TrustStore,
        described: DescribedDocuments,
        commits_per_file: int = COMMITS_PER_FILE,
    ) -> None:
        self._store = store
        self._described = described
        self._commits_per_file = commits_per_file

    async def refresh(self, repository_id: str, git: Git, head: str) -> Refreshed | None:
        """Recompute everything for `head` (None if it was already done for it). The whole
        history is read again each time: a rewritten history or a moved file then needs no
        special case, and one `git log` over thousands of commits takes about a second."""
        if await self._store.refreshed_at_commit(repository_id) == head:
            return None
        texts = await self._store.indexed_texts(repository_id)
        history = await _file_history({t.path for t in texts}, git, head)
        rules = await _codeowners(git, head)
        index = await run_in("parsing", code_index, texts)
        links = await run_in("parsing", _links, texts, index, history)
        kept = [
            (path, commit)
            for path, commits in history.items()
            for commit in commits[: self._commits_per_file]
        ]
        await self._store.replace(
            repository_id, head, [rule.as_json() for rule in rules], kept, links
        )
        described = await self._described.repository_synced(repository_id, index, history)
        refreshed = Refreshed(len(texts), len(kept), len(rules), len(links), described)
        logger.info("trust for repository %s at %s: %s", repository_id, head[:12], refreshed)
        return refreshed


async def _file_history(paths: set[str], git: Git, head: str) -> dict[str, list[CommitInfo]]:
    """Each of `paths`' commits reachable from `head`, newest first by date."""
    history: dict[str, list[CommitInfo]] = defaultdict(list)
    async for commit, files in git.history(head):
        for path in files:
            if path in paths:
                history[path].append(commit)
    for commits in history.values():
        commits.sort(key=lambda c: c.committed_at, reverse=True)
    return history


async def _codeowners(git: Git, head: str) -> list[OwnerRule]:
    for location in LOCATIONS:
        try:
            data = await git.show(head, location)
        except NotFound:
            continue
        return parse_codeowners(data[:_CODEOWNERS_MAX_BYTES].decode("utf-8", errors="replace"))
    return []


def code_index(texts: Iterable[IndexedText]) -> CodeIndex:
    """The names a repository's code files define (its documentation pages left out)."""
    index = CodeIndex()
    for text in texts:
        if text.language is not None and text.language not in DOC_LANGUAGES:
            index.add_file(text.path, text.symbols, text.text)
    return index


def _links(
    texts: list[IndexedText], index: CodeIndex, history: dict[str, list[CommitInfo]]
) -> list[StaleLink]:
    pages = [
        DocPage(text.path, text.text, text.last_commit)
        for text in texts
        if text.language in DOC_LANGUAGES
    ]
    return stale_links(pages, index, history)
