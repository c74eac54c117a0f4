"""The knowledge-gap report: questions Allin could not answer and answers rated down, grouped by
topic (their embeddings clustered), each group with its questions, how often it came up, the
nearest documents or files, and who is likely to own the answer.

Grouping uses scikit-learn's agglomerative clustering with a cosine distance cut-off, so the
number of topics is not guessed in advance and a one-off question stays a group of its own.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel

from allin.embeddings.base import Embedder
from allin.errors import BadRequest
from allin.rag.hybrid import Scope
from allin.rag.retrieval import Retriever
from allin.storage.trust import TrustStore
from allin.trust.experts import Expert, ExpertFinder
from allin.workers import run_in

# Questions closer than this (cosine distance, average linkage) are one topic: on paraphrases
# of one question MiniLM's distances are ~0.2-0.45, between unrelated newcomer questions ~0.8-1.
GROUP_DISTANCE = 0.55
_SINCE = re.compile(r"^\s*(\d{1,5})\s*([hdw])\s*$")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
_NEAREST = 3
# Groups given their nearest sources and owners (a search each), the most asked first: a long
# tail of one-off questions is listed without them.
_DESCRIBED = 50
_MAX_INPUTS = 2000


class GapQuestion(BaseModel):
    question: str
    reason: Literal["unanswered", "thumbs_down"]
    at: datetime
    comment: str | None
    # Who asked: in the report for admins only.
    asked_by: str | None


class GapSource(BaseModel):
    location: str
    repository: str | None
    document: str
    similarity: float


class GapGroup(BaseModel):
    topic: str
    asked: int
    unanswered: int
    thumbs_down: int
    last_at: datetime
    questions: list[GapQuestion]
    nearest: list[GapSource]
    suggested_owners: list[Expert]


class GapReport(BaseModel):
    since: datetime
    questions: int
    groups: list[GapGroup]


def parse_since(value: str, now: datetime | None = None) -> datetime:
    """`30d`, `12h`, `2w` before now, or an ISO date or time."""
    now = now or datetime.now(UTC)
    relative = _SINCE.match(value)
    if relative:
        return now - timedelta(**{_UNITS[relative[2]]: int(relative[1])})
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRequest(
            f"since must be like 30d, 12h, 2w or an ISO date, not {value[:40]!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def group_labels(vectors: Sequence[Sequence[float]], distance: float = GROUP_DISTANCE) -> list[int]:
    """A topic number per vector (CPU work: run it off the event loop)."""
    if len(vectors) < 2:
        return [0] * len(vectors)
    # Imported here: scikit-learn takes a second to import, which every app start would pay.
    from sklearn.cluster import AgglomerativeClustering

    clustering = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance
    )
    return [int(label) for label in clustering.fit_predict(np.asarray(vectors, dtype=np.float32))]


def _central(vectors: np.ndarray[Any, Any]) -> int:
    """The member closest to the group's centre: the question that best names the topic."""
    centre = vectors.mean(axis=0)
    norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(centre) or 1.0)
    return int(np.argmax(vectors @ centre / np.where(norms == 0, 1.0, norms)))


class GapReporter:
    def __init__(
        self,
        store: TrustStore,
        embedder: Embedder,
        retriever: Retriever,
        experts: ExpertFinder,
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._retriever = retriever
        self._experts = experts

    async def report(self, since: datetime, *, viewer_id: str, with_identities: bool) -> GapReport:
        rows = (await self._store.gap_inputs(since))[:_MAX_INPUTS]
        if not rows:
            return GapReport(since=since, questions=0, groups=[])
        texts = [" ".join(row["question"].split()) for row in rows]
        vectors = await self._embedder.embed_documents(texts)
        labels = await run_in("parsing", group_labels, vectors)
        members: dict[int, list[int]] = {}
        for position, label in enumerate(labels):
            members.setdefault(label, []).append(position)
        matrix = np.asarray(vectors, dtype=np.float32)
        # Rows are newest first, so a group's first member is its latest question.
        ordered = sorted(members.values(), key=lambda p: (-len(p), p[0]))
        groups = [
            await self._group(
                rows, texts, matrix, positions, viewer_id, with_identities, n < _DESCRIBED
            )
            for n, positions in enumerate(ordered)
        ]
        return GapReport(since=since, questions=len(rows), groups=groups)

    async def _group(
        self,
        rows: list[dict[str, Any]],
        texts: list[str],
        matrix: np.ndarray[Any, Any],
        positions: list[int],
        viewer_id: str,
        with_identities: bool,
        described: bool,
    ) -> GapGroup:
        topic = texts[positions[_central(matrix[positions])]]
        passages = await self._retriever.search(Scope(viewer_id), topic) if described else []
        owners = await self._experts.rank(passages, 2) if passages else []
        questions = [
            GapQuestion(
                question=texts[p],
                reason=rows[p]["reason"],
                at=rows[p]["at"],
                comment=rows[p]["comment"],
                asked_by=rows[p]["user_id"] if with_identities else None,
            )
            for p in positions
        ]
        return GapGroup(
            topic=topic,
            asked=len(positions),
            unanswered=sum(q.reason == "unanswered" for q in questions),
            thumbs_down=sum(q.reason == "thumbs_down" for q in questions),
            last_at=max(q.at for q in questions),
            questions=questions,
            nearest=[
                GapSource(
                    location=p.location,
                    repository=p.repository,
                    document=p.document_name,
                    similarity=round(p.similarity, 3),
                )
                for p in passages[:_NEAREST]
            ],
            suggested_owners=owners,
        )
