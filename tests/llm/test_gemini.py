"""The Gemini model, through the real `google-genai` SDK, against the local Gemini stand-in."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import pytest
from google import genai
from google.genai import types

from allin.chat.prompt import system_prompt
from allin.llm.base import ContextBlock, Message, ModelUnavailable, Prompt
from allin.llm.gemini import GeminiChatModel
from allin.llm.offline import OfflineChatModel
from allin.llm.registry import build_chat_model
from allin.providers.google import GoogleProvider
from tests.conftest import make_settings
from tests.support.fake_gemini import FakeGemini
from tests.support.llm_scripts import Failure, Refusal, Reply, Stall, introduce
from tests.support.servers import free_port, serve_in_thread

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


def ask(user: str, history: tuple[Message, ...] = ()) -> Prompt:
    return Prompt(system=system_prompt(), user=user, history=history)


async def answer(model: GeminiChatModel, prompt: Prompt) -> list[str]:
    return [chunk async for chunk in model.stream(prompt)]


async def test_streams_the_reply_chunk_by_chunk(fake: FakeGemini, model: GeminiChatModel) -> None:
    reply = Reply("Run `make check` before you push: it runs the linters and the tests.", pieces=4)
    fake.behaviour = reply

    chunks = await answer(model, ask("How do I check my change?"))

    assert len(chunks) > 1
    assert chunks == reply.chunks


async def test_sends_system_instruction_history_model_and_key(
    fake: FakeGemini, model: GeminiChatModel
) -> None:
    history = (Message("user", "I'm Sam, I joined the payments team."), Message("assistant", "Hi!"))
    prompt = Prompt(
        system=system_prompt(),
        user="What should I read first?",
        history=history,
        context=(ContextBlock("What you know about this user", ("Works on payments",)),),
    )

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


async def test_says_who_it_is_from_the_system_prompt(model: GeminiChatModel) -> None:
    chunks = await answer(model, ask("Who are you?"))

    assert "".join(chunks) == "I'm Allin, made by Team 8."


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (429, "Resource has been exhausted (e.g. check quota)."),
        (500, "An internal error has occurred. Please retry or report."),
    ],
)
async def test_upstream_error_is_unavailable_with_the_providers_words(
    fake: FakeGemini, model: GeminiChatModel, status: int, message: str
) -> None:
    fake.behaviour = Failure(status, message)

    with pytest.raises(ModelUnavailable) as raised:
        await answer(model, ask("Hello"))

    assert message in raised.value.message
    assert str(status) in raised.value.message
    assert raised.value.message.startswith("Gemini: ")


async def test_wrong_key_is_unavailable(server: tuple[FakeGemini, str]) -> None:
    _, url = server
    model = GeminiChatModel(MODEL, GoogleProvider(api_key="wrong", timeout_s=1, base_url=url))

    with pytest.raises(ModelUnavailable, match="API key not valid"):
        await answer(model, ask("Hello"))
    await model.aclose()


@pytest.mark.parametrize(
    "stall", [Stall(30), Stall(30, first=["Let me think"])], ids=["silent", "mid-stream"]
)
async def test_stall_longer_than_the_timeout_is_unavailable(
    fake: FakeGemini, model: GeminiChatModel, stall: Stall
) -> None:
    fake.behaviour = stall
    received: list[str] = []
    started = time.monotonic()

    with pytest.raises(ModelUnavailable, match="no response within 1 s"):
        async for chunk in model.stream(ask("Hello")):
            received.append(chunk)

    assert time.monotonic() - started < 5
    assert received == list(stall.first)


async def test_refusal_is_unavailable_not_an_empty_answer(
    fake: FakeGemini, model: GeminiChatModel
) -> None:
    fake.behaviour = Refusal()

    with pytest.raises(ModelUnavailable, match="SAFETY"):
        await answer(model, ask("Hello"))


async def test_unreachable_server_is_unavailable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    model = GeminiChatModel(MODEL, GoogleProvider(api_key=KEY, timeout_s=1, base_url=url))

    with pytest.raises(ModelUnavailable, match=r"^Gemini: ConnectError"):
        await answer(model, ask("Hello"))
    await model.aclose()


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
