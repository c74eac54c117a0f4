"""The late-interaction reranker: its scoring, and its place in retrieval."""

from __future__ import annotations

import numpy as np
import pytest

from allin.rag.hybrid import Scope
from allin.rag.rerank import (
    LateInteractionReranker,
    blend,
    late_interaction,
    late_interaction_many,
)
from allin.services import Services


def test_late_interaction_is_the_mean_best_match_of_the_question_tokens() -> None:
    question = np.array([[1.0, 0.0], [0.0, 1.0]])
    passage = np.array([[1.0, 0.0], [0.6, 0.8]])
    # Computed in float32, as the stored int8 rows need no more.
    assert late_interaction(question, passage) == pytest.approx((1.0 + 0.8) / 2)


def test_blend_mixes_the_score_with_the_fused_rank() -> None:
    scores = [0.1, 0.2, 0.9]
    assert blend(scores, weight=1.0) == [2, 1, 0]
    assert blend(scores, weight=0.0) == [0, 1, 2]
    # Without token vectors a candidate scores the mean of the others: neutral.
    assert blend([None, 0.2, 0.9], weight=1.0) == [2, 0, 1]


async def test_ingestion_stores_token_vectors_and_retrieval_reranks_with_them(
    services: Services, user_id: str
) -> None:
    data = b"# Leave\n\n## Carry-over\n\nUnused days roll over up to a maximum of 30 days.\n\n" + (
        b"## Expenses\n\nKeep the receipt for anything over 20 euros.\n"
    )
    await services.ingestor.ingest(owner_id=user_id, name="handbook/leave.md", data=data)
    chunks = await services.documents.chunks_of(
        (await services.documents.find(user_id, "handbook/leave.md")).id  # type: ignore[union-attr]
    )
    stored = await services.documents.chunk_tokens(
        [c["id"] for c in chunks], services.embedder.name
    )
    assert set(stored) == {c["id"] for c in chunks}
    assert all(len(t) % services.embedder.dimension == 0 and t for t in stored.values())

    assert isinstance(services.retriever._reranker, LateInteractionReranker)
    passages = await services.retriever.search(
        Scope(user_id), "how many unused vacation days can I keep for next year"
    )
    assert "roll over" in passages[0].content


def test_late_interaction_of_many_passages_matches_one_at_a_time() -> None:
    rng = np.random.default_rng(7)
    question = rng.standard_normal((5, 8)).astype(np.float32)
    passages = [rng.integers(-127, 128, (n, 8), dtype=np.int8) for n in (3, 0, 1, 6)]
    many = late_interaction_many(question, passages)
    alone = [late_interaction(question, p.astype(np.float32)) if len(p) else 0.0 for p in passages]
    assert np.allclose(many, alone, rtol=1e-5)
    assert many[1] == 0.0
