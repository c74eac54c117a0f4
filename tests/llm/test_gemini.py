"""The Gemini model, through the real `google-genai` SDK, against the local Gemini stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from google import genai
from google.genai import types

from allin.llm.gemini import GeminiChatModel
from allin.llm.offline import OfflineChatModel
from allin.llm.registry import build_chat_model
from tests.conftest import make_settings
from tests.support.fake_gemini import FakeGemini
from tests.support.llm_scripts import Reply, answer, introduce, newcomer_prompt
from tests.support.servers import serve_in_thread

KEY = "test-gemini-key"
MODEL = "gemini-test-model"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeGemini, str]]:
    fake = FakeGemini(api_key=KEY)
    with serve_in_thread(fake.app) as url:
        yield fake, url


@pytest.fixture
def fake(server: tuple[FakeGemini, str]) -> FakeGemini:
    fake, _ = server
    fake.behaviour = introduce
    fake.requests.clear()
    return fake


@pytest.fixture
async def model(server: tuple[FakeGemini, str]) -> AsyncIterator[GeminiChatModel]:
    _, url = server
    settings = make_settings(
        gemini_api_key=KEY, gemini_model=MODEL, gemini_base_url=url, llm_timeout_s=1
    )
    chat_model = GeminiChatModel.from_settings(settings)
    yield chat_model
    await chat_model.aclose()


async def test_sends_system_instruction_history_model_and_key(
    fake: FakeGemini, model: GeminiChatModel
) -> None:
    prompt = newcomer_prompt()

    await answer(model, prompt)

    [sent] = fake.requests
    assert sent.method == "streamGenerateContent"
    assert sent.model == MODEL
    assert sent.headers["x-goog-api-key"] == KEY
    assert "Allin" in sent.system and "Team 8" in sent.system
    assert sent.system == prompt.system_text()
    assert "- Works on payments" in sent.system
    assert sent.turns == [
        ("user", "I'm Sam, I joined the payments team."),
        ("model", "Hi!"),
        ("user", "What should I read first?"),
    ]


async def test_stand_in_also_answers_whole_responses(
    fake: FakeGemini, server: tuple[FakeGemini, str]
) -> None:
    _, url = server
    fake.behaviour = Reply("All in one go.")
    client = genai.Client(api_key=KEY, http_options=types.HttpOptions(base_url=url))

    response = await client.aio.models.generate_content(model=MODEL, contents="Hi")

    assert response.text == "All in one go."
    assert fake.requests[-1].method == "generateContent"
    await client.aio.aclose()


async def test_registry_picks_gemini_when_a_key_is_set() -> None:
    model = build_chat_model(make_settings(llm=None, gemini_api_key=KEY, gemini_model=MODEL))

    assert isinstance(model, GeminiChatModel)
    assert model.name == f"gemini:{MODEL}"
    await model.aclose()


async def test_registry_falls_back_to_offline_without_a_key() -> None:
    model = build_chat_model(make_settings(llm=None, gemini_api_key=None))

    assert isinstance(model, OfflineChatModel)
