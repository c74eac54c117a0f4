"""Code and prose taking turns in a ranking: a repository's docs cannot push out its code."""

from __future__ import annotations

from allin.rag.document_records import Passage
from allin.rag.retrieval import alternate_code_and_prose


def passage(chunk_id: int, *, code: bool) -> Passage:
    return Passage(
        chunk_id=chunk_id,
        document_id=f"d{chunk_id}",
        document_name="src/app.py" if code else "docs/guide.rst",
        document_title=None,
        ord=0,
        content="x",
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
