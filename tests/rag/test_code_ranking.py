"""Code ordered among itself by scores, prose by reciprocal rank, on a real synced repository:
the two kinds keep the places fusion gave them, only which code passage fills each changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import pytest

from allin.rag.document_records import Passage
from allin.rag.hybrid import Fusion, Scope
from allin.rag.retrieval import Retriever
from allin.services import Services
from tests.conftest import services_of_their_own
from tests.support.gitrepo import GitRepo

FILES = {
    "src/shop/sessions.py": '''
def sign_session_cookie(secret, value):
    """Sign the session cookie with the secret key so clients cannot forge it."""
    return value + "." + hmac_digest(secret, value)
''',
    "src/shop/audit.py": '''
def record(event):
    """Append an audit record: cookie, session, cookie session, signed, cookie signed."""
    log.append(("cookie", "session", "signed", "cookie", "session", "signed", event))
    log.append(("session cookie signed", "session cookie signed", "cookie signed", event))
''',
    "src/shop/cart.py": '''
def add_item(cart, item):
    """Put an item in the cart; the session keeps the cart between requests."""
    cart.append(item)
''',
    "src/shop/cookies.py": '''
def read_cookie(request, name):
    """The value of a cookie sent by the browser, or None."""
    return request.cookies.get(name)
''',
    "docs/sessions.md": """# Sessions

The session lives in a cookie signed with the secret key, so a client cannot change it.

## Expiry

A session cookie expires when the browser closes unless the session is permanent.
""",
}
QUESTION = "how is the session cookie signed"


@asynccontextmanager
async def synced(
    postgres: Any,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    files: dict[str, str],
    **settings: Any,
) -> AsyncIterator[Services]:
    """The app's services with one repository of `files`, synced."""
    async with services_of_their_own(
        postgres, tmp_path_factory.mktemp("data"), memory=False, **settings
    ) as started:
        repo = GitRepo(tmp_path_factory.mktemp("repo") / name)
        for path, text in files.items():
            repo.write(path, text)
        repo.commit("The code")
        repository = await started.repositories.store.create(
            name=name, url=str(repo.path), branch="main", created_by="test"
        )
        await started.repositories.sync_now(repository.id)
        yield started


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with synced(postgres, tmp_path_factory, "shop", FILES) as started:
        yield started


async def ranked(services: Services, fusion: Fusion) -> list[Passage]:
    """The raw fused ranking (no reranker, no alternation) with full text alone for the ranks."""
    policy = replace(services.retriever._policy, fusion=fusion, mix_code_and_prose=False)
    retriever = Retriever(services.documents, services.embedder, policy)
    return await retriever.search(Scope("anyone"), QUESTION, k=10)


async def test_code_is_ordered_by_its_scores_in_the_places_fusion_gave_it(
    services: Services,
) -> None:
    text_ranks = Fusion(vector_weight=0.0, text_weight=1.0, code_by_scores=False)
    by_ranks = await ranked(services, text_ranks)
    by_similarity = await ranked(
        services, replace(text_ranks, code_by_scores=True, code_vector_share=1.0)
    )

    code_by_ranks = [p for p in by_ranks if p.is_code]
    code_by_similarity = [p for p in by_similarity if p.is_code]
    assert len(code_by_ranks) >= 3
    # The question's words fill the audit record, which the vectors do not take for an answer.
    assert code_by_ranks[0].document_name == "src/shop/audit.py"
    assert code_by_similarity[0].document_name == "src/shop/sessions.py"
    similarities = [p.similarity for p in code_by_similarity]
    assert similarities == sorted(similarities, reverse=True)

    # The code passages trade places and the scores of those places, nothing else.
    assert [p.is_code for p in by_similarity] == [p.is_code for p in by_ranks]
    assert [p.score for p in by_similarity] == [p.score for p in by_ranks]
    assert {p.chunk_id for p in code_by_similarity} == {p.chunk_id for p in code_by_ranks}
    prose = [p.chunk_id for p in by_ranks if not p.is_code]
    assert [p.chunk_id for p in by_similarity if not p.is_code] == prose


async def test_a_quoted_phrase_puts_the_code_holding_it_first(services: Services) -> None:
    by_similarity = Fusion(code_vector_share=1.0)
    policy = replace(services.retriever._policy, fusion=by_similarity, mix_code_and_prose=False)
    retriever = Retriever(services.documents, services.embedder, policy)
    unquoted = await retriever.search(Scope("anyone"), "Where is session cookie signed logged?")
    assert next(p for p in unquoted if p.is_code).document_name == "src/shop/sessions.py"
    quoted = await retriever.search(Scope("anyone"), 'Where is "session cookie signed" logged?')
    assert next(p for p in quoted if p.is_code).document_name == "src/shop/audit.py"


LONG_FUNCTION = (
    '''
def make_response(value):
    """Turn what a view returned into a response object."""
    if isinstance(value, tuple):
        value, status = value
    else:
        status = 200
'''
    + "".join(f"    check_{n} = inspect_value(value, {n})\n" for n in range(40))
    + """
    if isinstance(value, dict):
        value = render_json_document(value)
    return Response(value, status)
"""
)


@pytest.fixture(scope="module")
async def small_chunks(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    """A repository whose one function is cut into several parts (code chunks of 128 tokens)."""
    files = {"src/web/responses.py": LONG_FUNCTION}
    async with synced(
        postgres, tmp_path_factory, "web", files, repo_code_chunk_tokens=128
    ) as started:
        yield started


async def test_a_function_cut_into_parts_is_found_whole(small_chunks: Services) -> None:
    question = "Where is a view's return value turned into a response object?"
    alone = replace(small_chunks.retriever._policy, whole_definition_tokens=0)
    parts = await Retriever(small_chunks.documents, small_chunks.embedder, alone).search(
        Scope("anyone"), question
    )
    assert len(parts) > 2 and all("(part " in (p.heading or "") for p in parts)

    (whole,) = await small_chunks.retriever.search(Scope("anyone"), question)

    lines = LONG_FUNCTION.split("\n")
    assert whole.heading == "src/web/responses.py › make_response"
    assert (whole.start_line, whole.end_line) == (2, len(lines) - 1)
    assert whole.content == "\n".join(lines[1:-1])
    assert "render_json_document" in whole.content
