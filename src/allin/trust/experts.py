"""Who is likely to know about a topic, from the passages most related to it: the CODEOWNERS of
their files first, then the people with the most recent commits to them (each commit weighted by
its age, halving every `half_life_days`), then whoever uploaded the related documents. Every
person comes with the reasons: which files, how many commits, when they were last active."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel

from allin.rag.document_records import Passage
from allin.storage.trust import TrustStore
from allin.trust.codeowners import owners_of, rules_from_json

Basis = Literal["codeowners", "commits", "uploader"]
_BASIS_ORDER: dict[str, int] = {"codeowners": 0, "commits": 1, "uploader": 2}
_FILES_SHOWN = 3


class ExpertFile(BaseModel):
    repository: str | None
    path: str
    commits: int
    last_at: datetime | None


class Expert(BaseModel):
    name: str
    # Shown to signed-in users of this deployment only (every route and chat requires that).
    email: str | None
    basis: Basis
    score: float
    reasons: list[str]
    files: list[ExpertFile]
    last_active: datetime | None


@dataclass
class _Tally:
    name: str
    email: str | None
    basis: Basis
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    files: dict[tuple[str | None, str], list[datetime]] = field(
        default_factory=lambda: defaultdict(list)
    )
    # How related each file is to the topic: the files shown first in the reasons.
    relevance: dict[tuple[str | None, str], float] = field(default_factory=dict)


def relevance(passages: Sequence[Passage]) -> dict[tuple[str, str], float]:
    """Each related source (("repo", "<repository id>\\0<path>") or ("doc", document id)) with
    a weight from its passages' ranks: 1 for the first, 1/2 for the second..."""
    weights: dict[tuple[str, str], float] = defaultdict(float)
    for rank, passage in enumerate(passages, 1):
        if passage.repository_id:
            key = ("repo", f"{passage.repository_id}\0{passage.document_name}")
        else:
            key = ("doc", passage.document_id)
        weights[key] += 1.0 / rank
    return weights


def is_bot(name: str, email: str) -> bool:
    """Automated committers (formatters, dependency bots) know nothing a newcomer can ask."""
    return "[bot]" in name or "[bot]" in email or name.endswith("-bot")


class ExpertFinder:
    def __init__(
        self,
        store: TrustStore,
        half_life_days: float = 180.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._half_life_days = half_life_days
        self._clock = clock

    async def rank(
        self, passages: Sequence[Passage], limit: int = 3, asker: str | None = None
    ) -> list[Expert]:
        """The people likely to know about what `passages` are about, best first. `asker` (a
        user id) is never suggested to themselves as the uploader to ask."""
        weights = relevance(passages)
        files = [tuple(key.split("\0", 1)) for kind, key in weights if kind == "repo"]
        repo_files: list[tuple[str, str]] = [(r, p) for r, p in files]
        documents = [key for kind, key in weights if kind == "doc"]
        tallies: dict[tuple[str, str], _Tally] = {}
        await self._codeowners(repo_files, weights, tallies)
        await self._committers(repo_files, weights, tallies)
        await self._uploaders(documents, weights, tallies, asker)
        ranked = sorted(tallies.values(), key=lambda t: (_BASIS_ORDER[t.basis], -t.score))
        return [_expert(tally) for tally in ranked[:limit]]

    async def _codeowners(
        self,
        files: list[tuple[str, str]],
        weights: dict[tuple[str, str], float],
        tallies: dict[tuple[str, str], _Tally],
    ) -> None:
        rules_by_repository = await self._store.codeowners(sorted({r for r, _ in files}))
        for repository_id, path in files:
            rule = owners_of(rules_from_json(rules_by_repository.get(repository_id, [])), path)
            if rule is None:
                continue
            for owner in rule.owners:
                email = owner if "@" in owner[1:] else None
                tally = tallies.setdefault(
                    ("codeowners", owner.lower()), _Tally(owner, email, "codeowners")
                )
                tally.score += weights[("repo", f"{repository_id}\0{path}")]
                tally.files[(None, path)]
                reason = f"CODEOWNERS names them for `{path}` (rule `{rule.pattern}`)"
                if reason not in tally.reasons:
                    tally.reasons.append(reason)

    async def _committers(
        self,
        files: list[tuple[str, str]],
        weights: dict[tuple[str, str], float],
        tallies: dict[tuple[str, str], _Tally],
    ) -> None:
        now = self._clock()
        for change in await self._store.file_commits(files):
            commit = change.commit
            if is_bot(commit.author_name, commit.author_email):
                continue
            key = ("commits", commit.author_email.lower() or commit.author_name)
            tally = tallies.setdefault(
                key, _Tally(commit.author_name, commit.author_email or None, "commits")
            )
            age_days = max((now - commit.committed_at).total_seconds() / 86400, 0.0)
            recency = 0.5 ** (age_days / self._half_life_days)
            weight = weights[("repo", f"{change.repository_id}\0{change.path}")]
            tally.score += weight * recency
            tally.files[(change.repository, change.path)].append(commit.committed_at)
            tally.relevance[(change.repository, change.path)] = weight
        for tally in tallies.values():
            if tally.basis == "commits":
                tally.reasons = [
                    f"{len(dates)} commit{'s' if len(dates) != 1 else ''} to `{path}`"
                    f" (last on {max(dates):%Y-%m-%d})"
                    for (_, path), dates in _busiest(tally)[:_FILES_SHOWN]
                ]

    async def _uploaders(
        self,
        documents: list[str],
        weights: dict[tuple[str, str], float],
        tallies: dict[tuple[str, str], _Tally],
        asker: str | None,
    ) -> None:
        for uploader in await self._store.uploaders(documents):
            if uploader.owner_id == asker:
                continue
            who = uploader.email or f"user {uploader.owner_id}"
            tally = tallies.setdefault(
                ("uploader", uploader.owner_id), _Tally(who, uploader.email, "uploader")
            )
            tally.score += weights[("doc", uploader.document_id)]
            tally.files[(None, uploader.document)]
            tally.reasons.append(f"uploaded `{uploader.document}`")


def _busiest(tally: _Tally) -> list[tuple[tuple[str | None, str], list[datetime]]]:
    """The person's files, the most related to the topic first, then the most changed."""
    return sorted(
        tally.files.items(),
        key=lambda item: (-tally.relevance.get(item[0], 0.0), -len(item[1]), item[0][1]),
    )


def _expert(tally: _Tally) -> Expert:
    files = [
        ExpertFile(
            repository=repository,
            path=path,
            commits=len(dates),
            last_at=max(dates) if dates else None,
        )
        for (repository, path), dates in _busiest(tally)[:_FILES_SHOWN]
    ]
    dates = [d for stamps in tally.files.values() for d in stamps]
    return Expert(
        name=tally.name,
        email=tally.email,
        basis=tally.basis,
        score=round(tally.score, 4),
        reasons=tally.reasons,
        files=files,
        last_active=max(dates) if dates else None,
    )
