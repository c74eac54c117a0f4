"""Both embedders through their real code: the local MiniLM model, and Gemini's through the
`google-genai` SDK against the local Gemini stand-in."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Iterator

import pytest

from allin.config import EmbedderProvider
from allin.embeddings.base import Embedder, EmbedderUnavailable
from allin.embeddings.gemini import GeminiEmbedder
from allin.embeddings.minilm import MiniLMEmbedder
from allin.embeddings.registry import build_embedder
from tests.conftest import make_settings
from tests.support.fake_gemini import FakeGemini
from tests.support.llm_scripts import Failure
from tests.support.servers import serve_in_thread

KEY = "test-gemini-key"


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


@pytest.fixture(scope="module")
def gemini_server() -> Iterator[tuple[FakeGemini, str]]:
    fake = FakeGemini(api_key=KEY)
    with serve_in_thread(fake.app) as url:
        yield fake, url


@pytest.fixture
async def gemini(gemini_server: tuple[FakeGemini, str]) -> AsyncIterator[GeminiEmbedder]:
    fake, url = gemini_server
    fake.embedding_failure = None
    fake.requests.clear()
    embedder = GeminiEmbedder.from_settings(
        make_settings(gemini_api_key=KEY, gemini_base_url=url, gemini_embedding_dimension=64)
    )
    yield embedder
    await embedder.aclose()


@pytest.fixture
async def minilm() -> AsyncIterator[MiniLMEmbedder]:
    embedder = MiniLMEmbedder()  # the model itself is loaded once per process
    yield embedder
    await embedder.aclose()


@pytest.fixture(params=["minilm", "gemini"])
def embedder(
    request: pytest.FixtureRequest, minilm: MiniLMEmbedder, gemini: GeminiEmbedder
) -> Embedder:
    return minilm if request.param == "minilm" else gemini


async def test_vectors_are_unit_length_with_the_declared_dimension(embedder: Embedder) -> None:
    vectors = await embedder.embed_documents(["how to deploy the service", "lunch menu"])
    query = await embedder.embed_query("deploy")
    assert [len(v) for v in [*vectors, query]] == [embedder.dimension] * 3
    assert all(math.isclose(math.sqrt(cosine(v, v)), 1.0, rel_tol=1e-4) for v in vectors)
    assert await embedder.embed_documents([]) == []


async def test_minilm_puts_paraphrases_closer_than_unrelated_text(minilm: MiniLMEmbedder) -> None:
    question = await minilm.embed_query("How do I roll back a bad deployment?")
    related, unrelated = await minilm.embed_documents(
        [
            "To revert a release, redeploy the previous version with the deploy tool.",
            "The cafeteria serves vegetarian lunch on Fridays.",
        ]
    )
    assert cosine(question, related) > cosine(question, unrelated) + 0.2
    assert minilm.name == "minilm:all-MiniLM-L6-v2" and minilm.dimension == 384


async def test_gemini_batches_at_most_100_texts_per_request(
    gemini: GeminiEmbedder, gemini_server: tuple[FakeGemini, str]
) -> None:
    fake, _ = gemini_server
    vectors = await gemini.embed_documents([f"text number {i}" for i in range(230)])
    assert len(vectors) == 230
    sizes = [len(r.body["requests"]) for r in fake.requests]
    assert sizes == [100, 100, 30]
    first = fake.requests[0].body["requests"][0]
    assert first["taskType"] == "RETRIEVAL_DOCUMENT" and first["outputDimensionality"] == 64
    assert gemini.name == "gemini:gemini-embedding-001@64"


async def test_gemini_asks_once_for_a_question_asked_again_within_a_turn(
    gemini: GeminiEmbedder, gemini_server: tuple[FakeGemini, str]
) -> None:
    fake, _ = gemini_server
    question = "where is the session cookie signed?"
    together = await asyncio.gather(*(gemini.embed_query(question) for _ in range(3)))
    again = await gemini.embed_query(question)
    other = await gemini.embed_query("who owns billing?")
    assert together == [again] * 3 and other != again
    asked = [r.body["requests"][0]["content"]["parts"][0]["text"] for r in fake.requests]
    assert asked == [question, "who owns billing?"]


async def test_gemini_asks_again_after_a_failure(
    gemini: GeminiEmbedder, gemini_server: tuple[FakeGemini, str]
) -> None:
    fake, _ = gemini_server
    fake.embedding_failure = Failure(503, "The model is overloaded.")
    with pytest.raises(EmbedderUnavailable):
        await gemini.embed_query("anything")
    fake.embedding_failure = None
    assert len(await gemini.embed_query("anything")) == gemini.dimension
    assert len(fake.requests) == 2


async def test_gemini_failure_is_unavailable(
    gemini: GeminiEmbedder, gemini_server: tuple[FakeGemini, str]
) -> None:
    fake, _ = gemini_server
    fake.embedding_failure = Failure(429, "Resource has been exhausted (e.g. check quota).")
    with pytest.raises(EmbedderUnavailable, match="exhausted"):
        await gemini.embed_query("anything")


def test_registry_picks_gemini_with_a_key_and_minilm_without() -> None:
    assert make_settings().embedder_provider is EmbedderProvider.MINILM
    assert make_settings(gemini_api_key=KEY).embedder_provider is EmbedderProvider.GEMINI
    assert isinstance(build_embedder(make_settings()), MiniLMEmbedder)


async def test_minilm_questions_asked_at_once_share_passes_and_get_their_own_vectors(
    minilm: MiniLMEmbedder,
) -> None:
    questions = [f"how do I deploy service number {n}?" for n in range(12)] + ["lunch menu"]
    alone = [await minilm.embed_query(question) for question in questions]
    before = minilm.encoder.passes
    together = await asyncio.gather(*(minilm.embed_query(question) for question in questions))
    assert minilm.encoder.passes - before <= 2
    # Padding to the longest text in a pass does not change a text's vector.
    assert all(cosine(a, b) > 0.9999 for a, b in zip(alone, together, strict=True))
