"""Code ordered among itself by scores, prose by reciprocal rank, on a real synced repository:
the two kinds keep the places fusion gave them, only which code passage fills each changes."""

from __future__ import annotations

import json
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


PRICING = (
    '''
class Pricing:
    """Prices of the shop's products."""
'''
    + "".join(
        f'''
    def price_of_{name}(self, product):
        """The catalogue price of {name}."""
        return self.catalogue["{name}"][product.sku] * self.rate
'''
        for name in ("books", "games", "tools", "shoes", "lamps", "chairs", "tables", "paint")
    )
    + '''
    def loyalty_discount(self, customer, total):
        """Customers who ordered for ten years pay ten percent less."""
        if customer.years >= 10:
            return total * 0.9
        return total
'''
)
PIECE_FILES = {
    "src/shop/pricing.py": PRICING,
    "tests/test_pricing.py": PRICING.replace("class Pricing", "class TestPricing"),
    "docs/pricing.md": "# Pricing\n\nPrices come from the catalogue; loyal customers pay less.\n",
}


@pytest.fixture(scope="module")
async def with_pieces(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    """A repository whose pricing class is one chunk, longer than the embedder reads."""
    async with synced(postgres, tmp_path_factory, "pieces", PIECE_FILES) as started:
        yield started


async def test_a_long_code_chunk_is_as_near_as_its_nearest_piece(with_pieces: Services) -> None:
    question = "Where do loyal customers get money off their order?"
    passages = await with_pieces.retriever.search(Scope("anyone"), question)
    pricing = next(p for p in passages if p.document_name == "src/shop/pricing.py")
    async with with_pieces.db.pool.connection() as conn:
        cursor = await conn.execute(
            "select c.embedding::text as own, c.meta -> 'pieces' as pieces,"
            " array(select p.embedding::text from chunk_piece_vectors p where p.chunk_id = c.id"
            " order by p.piece) as piece_vectors"
            " from document_chunks c where c.id = %s",
            (pricing.chunk_id,),
        )
        row = await cursor.fetchone()
        cursor = await conn.execute(
            "select d.name, count(p.chunk_id) as vectors from documents d"
            " join document_chunks c on c.document_id = d.id"
            " left join chunk_piece_vectors p on p.chunk_id = c.id group by d.name"
        )
        vectors_by_file = {r["name"]: r["vectors"] for r in await cursor.fetchall()}
    assert row is not None
    # One vector per piece the chunk names; none for tests (they would outrank the code they
    # test) nor for prose.
    assert len(row["piece_vectors"]) == len(row["pieces"]) > 2
    assert vectors_by_file == {
        "src/shop/pricing.py": len(row["pieces"]),
        "tests/test_pricing.py": 0,
        "docs/pricing.md": 0,
    }
    (repository,) = await with_pieces.repositories.store.all()
    assert repository.report["embedded_pieces"] == len(row["pieces"])
    asked = await with_pieces.embedder.embed_query(question)

    def similarity(stored: str) -> float:
        return sum(a * b for a, b in zip(asked, json.loads(stored), strict=True))

    nearest_piece = max(similarity(v) for v in row["piece_vectors"])
    # The method answering sits past what the embedder read of the chunk; its piece is nearer.
    assert nearest_piece > similarity(row["own"])
    assert pricing.similarity == pytest.approx(nearest_piece, abs=1e-4)
    # The citation points at the nearest piece's lines within the passage's.
    start, end, heading = row["pieces"][-1]
    assert "loyalty_discount" in heading
    assert (pricing.focus_start_line, pricing.focus_end_line) == (start, end)
    assert pricing.start_line is not None and pricing.end_line is not None
    assert pricing.start_line < start <= end <= pricing.end_line
    cited = pricing.citation(1).model_dump(mode="json")
    assert (cited["focus_start_line"], cited["focus_end_line"]) == (start, end)
    focus = "\n".join(PRICING.split("\n")[start - 1 : end])
    assert "def loyalty_discount" in focus and "class Pricing" not in focus
    # A passage without pieces is cited as before, without focus.
    docs = next(p for p in passages if p.document_name == "docs/pricing.md")
    assert "focus_start_line" not in docs.citation(2).model_dump(mode="json")


async def test_pieces_are_embedded_again_with_their_chunk(with_pieces: Services) -> None:
    async def piece_vectors() -> list[str]:
        async with with_pieces.db.pool.connection() as conn:
            cursor = await conn.execute(
                "select p.embedding::text as vector from chunk_piece_vectors p"
                " join document_chunks c on c.id = p.chunk_id order by c.id, p.piece"
            )
            return [row["vector"] for row in await cursor.fetchall()]

    synced_vectors = await piece_vectors()
    async with with_pieces.db.pool.connection() as conn:
        await conn.execute("update document_chunks set embedder = 'old:model@384'")
    assert await with_pieces.ingestor.reembed_stale() == len(PIECE_FILES)
    # Made again from the chunk and its meta alone, they are what the sync made.
    again = await piece_vectors()
    assert len(again) == len(synced_vectors) > 2
    for made_again, made_by_sync in zip(again, synced_vectors, strict=True):
        assert json.loads(made_again) == pytest.approx(json.loads(made_by_sync), abs=1e-5)
