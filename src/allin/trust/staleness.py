"""Stale-citation warnings: a documentation page that names code whose file changed after the
page's own last change "may be out of date", with how many commits changed that file since and
the newest of them. Pure functions over what the sync read; `refresh.py` stores the result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from allin.sources.git import CommitInfo
from allin.trust.references import CodeIndex

# Examples of names kept per warning: enough to say why, short enough to show.
_NAMES_SHOWN = 5


@dataclass(frozen=True, slots=True)
class DocPage:
    path: str
    text: str
    last_commit: CommitInfo


@dataclass(frozen=True, slots=True)
class StaleLink:
    doc_path: str
    code_path: str
    names: tuple[str, ...]
    commits_since: int
    newest: CommitInfo
    doc_commit: CommitInfo


def stale_links(
    pages: Sequence[DocPage],
    index: CodeIndex,
    history: Mapping[str, Sequence[CommitInfo]],
) -> list[StaleLink]:
    """Every (page, code file) pair where the page names the file's code and the file has
    commits newer than the page's last commit. `history` is each file's commits, newest first.

    "Newer" is by committer date: a page last edited on a branch merged later is judged by when
    its change landed, which is what a reader of the page can see too."""
    links: list[StaleLink] = []
    for page in pages:
        for code_path, names in sorted(index.files_named_by(page.text).items()):
            if code_path == page.path:
                continue
            newer = _newer_than(history.get(code_path, ()), page.last_commit.committed_at)
            if newer:
                links.append(
                    StaleLink(
                        doc_path=page.path,
                        code_path=code_path,
                        names=tuple(sorted(names, key=lambda n: (-len(n), n))[:_NAMES_SHOWN]),
                        commits_since=len(newer),
                        newest=newer[0],
                        doc_commit=page.last_commit,
                    )
                )
    return links


def _newer_than(commits: Sequence[CommitInfo], moment: datetime) -> list[CommitInfo]:
    """The commits after `moment`, newest first (git log's order is not strictly by date once
    branches merge, so all are looked at)."""
    newer = [commit for commit in commits if commit.committed_at > moment]
    newer.sort(key=lambda commit: commit.committed_at, reverse=True)
    return newer
