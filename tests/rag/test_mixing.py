"""Code and prose taking turns in a ranking: a repository's docs cannot push out its code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from allin.rag.document_records import Passage
from allin.rag.hybrid import Scope
from allin.rag.rerank import Query
from allin.rag.retrieval import (
    RetrievalPolicy,
    Retriever,
    alternate_code_and_prose,
    rerank_prose,
)


def passage(chunk_id: int, *, code: bool, path: str | None = None) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        document_id=f"d{chunk_id}",
        document_name=path or ("src/app.py" if code else "docs/guide.rst"),
        document_title=None,
        ord=0,
        content=f"passage {chunk_id}",
        heading=None,
        page=None,
        score=1.0 / chunk_id,
        similarity=0.5,
        format="python" if code else "rst",
        repository="app",
    )


def test_code_and_prose_take_turns_from_the_best_passage() -> None:
    ranked = [passage(1, code=False), passage(2, code=False), passage(3, code=False)]
    ranked += [passage(4, code=True), passage(5, code=True)]
    mixed = alternate_code_and_prose(ranked)
    assert [p.chunk_id for p in mixed] == [1, 4, 2, 5, 3]


def test_a_ranking_of_one_kind_is_left_as_it_is() -> None:
    prose = [passage(n, code=False) for n in (1, 2, 3)]
    assert alternate_code_and_prose(prose) == prose
    # Documents uploaded by hand are prose, whatever their format.
    uploaded = passage(4, code=True).model_copy(update={"repository": None})
    assert not uploaded.is_code


def test_code_can_lead_when_prose_ranked_best() -> None:
    ranked = [passage(1, code=False), passage(2, code=False), passage(3, code=True)]
    ranked += [passage(4, code=True)]
    mixed = alternate_code_and_prose(ranked, code_first=True)
    assert [p.chunk_id for p in mixed] == [3, 1, 4, 2]


def test_tests_come_after_the_code_they_test() -> None:
    ranked = [passage(1, code=True, path="tests/test_sessions.py"), passage(2, code=False)]
    ranked += [passage(3, code=True, path="src/flask/sessions.py"), passage(4, code=False)]
    assert ranked[0].is_test and not ranked[2].is_test
    mixed = alternate_code_and_prose(ranked, code_first=True, tests_last=True)
    assert [p.chunk_id for p in mixed] == [3, 2, 1, 4]
    # Without it, the test that ranked best leads.
    assert alternate_code_and_prose(ranked, code_first=True)[0].chunk_id == 1


async def test_a_question_about_tests_keeps_them_where_they_ranked() -> None:
    store = _StoreOf(
        [
            passage(1, code=True, path="tests/test_sessions.py"),
            passage(2, code=True, path="src/flask/sessions.py"),
            passage(3, code=False),
        ]
    )
    policy = RetrievalPolicy(
        top_k=3,
        candidates=10,
        ef_search=10,
        min_similarity=0,
        code_first=True,
        tests_after_code=True,
    )
    retriever = Retriever(store, _Embedder(), policy)  # type: ignore[arg-type]
    scope = Scope("someone")
    where = await retriever.search(scope, "Where does Flask read the session cookie?")
    assert [p.chunk_id for p in where] == [2, 3, 1]
    how_tested = await retriever.search(scope, "How is the session cookie tested?")
    assert [p.chunk_id for p in how_tested] == [1, 3, 2]


async def test_code_leads_only_when_it_ranked_among_the_first() -> None:
    far = [passage(n, code=False) for n in range(1, 5)] + [passage(5, code=True)]
    near = [passage(1, code=False), passage(2, code=True), passage(3, code=False)]
    policy = RetrievalPolicy(
        top_k=3, candidates=10, ef_search=10, min_similarity=0, code_first=True
    )
    question = "How do I use the session?"
    for ranking, within, leader in ((far, 3, 1), (far, 0, 5), (near, 3, 2), (far, 5, 5)):
        leads = replace(policy, code_leads_within=within)
        retriever = Retriever(_StoreOf(ranking), _Embedder(), leads)  # type: ignore[arg-type]
        found = await retriever.search(Scope("someone"), question)
        assert found[0].chunk_id == leader, (within, [p.chunk_id for p in ranking])


class _StoreOf:
    def __init__(self, passages: list[Passage]) -> None:
        self._passages = passages

    async def expansions(self, *_: object) -> list[str]:
        return []

    async def search(self, *_: object, **__: object) -> list[Passage]:
        return list(self._passages)


class _Embedder:
    name = "fake"
    dimension = 2

    async def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.0]


async def test_the_reranker_reorders_prose_and_leaves_code_where_fusion_put_it() -> None:
    ranked = [passage(1, code=False), passage(2, code=True), passage(3, code=False)]
    ranked += [passage(4, code=True), passage(5, code=False)]
    reranked = await rerank_prose(_Reversing(), Query("q", [1.0, 0.0]), ranked)
    assert [p.chunk_id for p in reranked] == [5, 2, 3, 4, 1]
    prose = [passage(1, code=False), passage(2, code=False)]
    assert [p.chunk_id for p in await rerank_prose(_Reversing(), Query("q", []), prose)] == [2, 1]


class _Reversing:
    wants_tokens = False

    async def rerank(self, query: Query, passages: Sequence[Passage]) -> list[Passage]:
        assert not any(p.is_code for p in passages)
        return list(reversed(passages))
