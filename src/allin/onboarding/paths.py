"""Reading a repository's onboarding paths at sync time: `ONBOARDING.md` at the root and
`docs/onboarding/*.md`. Runs after a sync has its head's tree; a file whose blob was read before
(good or refused) is not read again, a broken one is reported and the last good version kept."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from allin.onboarding.parse import MAX_BYTES, parse_path
from allin.onboarding.path_records import ParseReport
from allin.sources.git import Git, TreeEntry
from allin.storage.onboarding import OnboardingStore
from allin.workers import run_in

logger = logging.getLogger(__name__)

_PATH_FILE = re.compile(r"^(ONBOARDING\.md|docs/onboarding/[^/]+\.md)$", re.IGNORECASE)


def is_path_file(path: str) -> bool:
    return _PATH_FILE.match(path) is not None


class PathSync:
    """A `SyncListener` of repositories: keeps their onboarding paths in step with the branch."""

    name = "onboarding"

    def __init__(self, store: OnboardingStore) -> None:
        self._store = store

    async def synced(
        self, repository_id: str, git: Git, head: str, tree: Sequence[TreeEntry]
    ) -> dict[str, Any]:
        known = await self._store.known_files(repository_id)
        files = {entry.path for entry in tree}
        reports: list[ParseReport] = []
        present: set[str] = set()
        for entry in sorted(tree, key=lambda e: e.path):
            if not is_path_file(entry.path):
                continue
            present.add(entry.path)
            before = known.get(entry.path)
            if before is not None and not before.removed:
                if entry.sha == before.blob_sha:
                    continue  # unchanged since it was last read
                if entry.sha == before.rejected_blob_sha:
                    continue  # refused before, and reported then
            reports.append(await self._read(repository_id, git, head, entry, files))
        gone = [path for path, file in known.items() if path not in present and not file.removed]
        await self._store.mark_removed(repository_id, gone)
        for report in reports:
            if not report.accepted and report.problems:
                logger.warning(
                    "onboarding path %s refused; the last good version stays: %s",
                    report.file_path,
                    "; ".join(report.problems),
                )
        return {
            "paths": [report.model_dump() for report in reports],
            "removed": sorted(gone),
        }

    async def _read(
        self, repository_id: str, git: Git, head: str, entry: TreeEntry, files: set[str]
    ) -> ParseReport:
        if entry.size > MAX_BYTES:
            problems = [f"the file is larger than {MAX_BYTES // 1024} KB"]
            await self._store.save_rejected(repository_id, entry.path, entry.sha, problems)
            return ParseReport(file_path=entry.path, accepted=False, problems=problems)
        text = (await git.show(head, entry.path)).decode("utf-8", errors="replace")
        definition, problems = await run_in("parsing", parse_path, text, entry.path, files)
        if definition is None:
            await self._store.save_rejected(repository_id, entry.path, entry.sha, problems)
            return ParseReport(file_path=entry.path, accepted=False, problems=problems)
        await self._store.save_good(repository_id, entry.path, entry.sha, head, definition)
        return ParseReport(file_path=entry.path, accepted=True, steps=len(definition.steps()))
