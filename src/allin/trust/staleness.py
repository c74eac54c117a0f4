"""Stale-citation warnings: a documentation page (of the repository, or an uploaded document that
describes it) that names code whose file changed after the page's own last change "may be out
of date", with how many commits changed that file since and the newest of them. Pure functions
over what the sync read; `refresh.py` and `described.py` store the result."""

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
class CodeChange:
    """Code a page names (`names`, in `code_path`) changed in `commits_since` commits since."""

    code_path: str
    names: tuple[str, ...]
    commits_since: int
    newest: CommitInfo


@dataclass(frozen=True, slots=True)
class StaleLink:
    doc_path: str
    doc_commit: CommitInfo
    change: CodeChange


def stale_links(
    pages: Sequence[DocPage],
    index: CodeIndex,
    history: Mapping[str, Sequence[CommitInfo]],
) -> list[StaleLink]:
    """Every (page, code file) pair where the page names the file's code and the file has
    commits newer than the page's last commit. `history` is each file's commits, newest first.

    "Newer" is by committer date: a page last edited on a branch merged later is judged by when
    its change landed, which is what a reader of the page can see too."""
    return [
        StaleLink(page.path, page.last_commit, change)
        for page in pages
        for change in changed_since(
            page.text, page.last_commit.committed_at, index, history, own_path=page.path
        )
    ]


def changed_since(
    text: str,
    moment: datetime,
    index: CodeIndex,
    history: Mapping[str, Sequence[CommitInfo]],
    own_path: str | None = None,
) -> list[CodeChange]:
    """The code files `text` names that have commits after `moment`, by path."""
    changes = []
    for code_path, names in sorted(index.files_named_by(text).items()):
        if code_path == own_path:
            continue
        newer = _newer_than(history.get(code_path, ()), moment)
        if newer:
            shown = tuple(sorted(names, key=lambda n: (-len(n), n))[:_NAMES_SHOWN])
            changes.append(CodeChange(code_path, shown, len(newer), newer[0]))
    return changes


def _newer_than(commits: Sequence[CommitInfo], moment: datetime) -> list[CommitInfo]:
    """The commits after `moment`, newest first (git log's order is not strictly by date once
    branches merge, so all are looked at)."""
    newer = [commit for commit in commits if commit.committed_at > moment]
    newer.sort(key=lambda commit: commit.committed_at, reverse=True)
    return newer
