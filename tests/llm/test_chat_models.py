"""What every network chat model does, whichever vendor: each test runs against Gemini (the real
`google-genai` SDK and the local Gemini stand-in) and an OpenAI-compatible server (the real
`openai` SDK and its stand-in). Each vendor's request is read back in its own words (`Sent`), so
one test checks what both are sent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from google import genai
from google.genai import types
from openai import AsyncOpenAI

from allin.llm.base import ChatModel, ModelUnavailable
from allin.llm.gemini import GeminiChatModel
from allin.llm.offline import OfflineChatModel
from allin.llm.openai_compat import OpenAICompatChatModel
from allin.llm.registry import build_chat_model
from allin.providers.google import GoogleProvider
from allin.providers.openai_compat import OpenAICompatProvider
from tests.conftest import make_settings
from tests.support.fake_gemini import FakeGemini, GeminiRequest
from tests.support.fake_openai import ChatRequest, FakeOpenAI
from tests.support.llm_scripts import (
    Failure,
    Refusal,
    Reply,
    Stall,
    answer,
    asked,
    introduce,
    newcomer_prompt,
)
from tests.support.servers import free_port, serve_in_thread

GEMINI_KEY = "test-gemini-key"
GEMINI_MODEL = "gemini-test-model"
OPENAI_KEY = "test-openai-key"
OPENAI_MODEL = "llama-test"


@dataclass(frozen=True)
class Sent:
    """A request as the stand-in received it, in the words both vendors share."""

    model: str
    key: str
    streamed: bool
    system: str
    # (role, text) after the system prompt, the model's turns as "assistant".
    conversation: list[tuple[str, str]]


def _sent_to_gemini(request: GeminiRequest) -> Sent:
    conversation = [
        ("assistant" if role == "model" else role, text) for role, text in request.turns
    ]
    streamed = request.method == "streamGenerateContent"
    key = request.headers["x-goog-api-key"]
    return Sent(request.model, key, streamed, request.system, conversation)


def _sent_to_openai(request: ChatRequest) -> Sent:
    conversation = [(role, text) for role, text in request.messages if role != "system"]
    # The system prompt, when there is one, is the first message and the only system message.
    assert ("system", request.system) in request.messages[:1] or not request.system
    assert len(conversation) >= len(request.messages) - 1
    key = request.headers["authorization"].removeprefix("Bearer ")
    streamed = request.body.get("stream") is True
    return Sent(request.body["model"], key, streamed, request.system, conversation)


async def _whole_from_gemini(url: str, user: str) -> str | None:
    client = genai.Client(api_key=GEMINI_KEY, http_options=types.HttpOptions(base_url=url))
    response = await client.aio.models.generate_content(model=GEMINI_MODEL, contents=user)
    await client.aio.aclose()
    return response.text


async def _whole_from_openai(url: str, user: str) -> str | None:
    client = AsyncOpenAI(base_url=url, api_key=OPENAI_KEY, max_retries=0)
    completion = await client.chat.completions.create(
        model=OPENAI_MODEL, messages=[{"role": "user", "content": user}]
    )
    await client.close()
    return completion.choices[0].message.content


@dataclass(frozen=True)
class Vendor:
    fake: FakeGemini | FakeOpenAI
    url: str
    # A model on the stand-in at `url` with `key` (None: the right one), answering within 1 s.
    build: Callable[[str, str | None], ChatModel]
    # Every message of the vendor's failures starts so.
    prefix: str
    wrong_key: str
    refusal: str
    # The unreachable URL to build a model on, and what its failure says.
    unreachable: Callable[[], tuple[str, str]]
    model_name: str
    key: str
    read: Callable[[Any], Sent]
    # Asks the stand-in through the vendor's own SDK for a whole (not streamed) response.
    whole: Callable[[str, str], Awaitable[str | None]]


def _gemini(url: str, key: str | None) -> ChatModel:
    provider = GoogleProvider(api_key=key or GEMINI_KEY, timeout_s=1, base_url=url)
    return GeminiChatModel(GEMINI_MODEL, provider)


def _openai(url: str, key: str | None) -> ChatModel:
    provider = OpenAICompatProvider(base_url=url, timeout_s=1, api_key=key or OPENAI_KEY)
    return OpenAICompatChatModel(OPENAI_MODEL, provider)


def _gemini_unreachable() -> tuple[str, str]:
    return f"http://127.0.0.1:{free_port()}", r"^Gemini: ConnectError"


def _openai_unreachable() -> tuple[str, str]:
    url = f"http://127.0.0.1:{free_port()}/v1"
    return url, f"^OpenAI-compatible server at {url}: Connection"


@pytest.fixture(scope="module")
def gemini_vendor() -> Iterator[Vendor]:
    fake = FakeGemini(api_key=GEMINI_KEY)
    with serve_in_thread(fake.app) as url:
        yield Vendor(
            fake,
            url,
            _gemini,
            "Gemini: ",
            "API key not valid",
            "SAFETY",
            _gemini_unreachable,
            GEMINI_MODEL,
            GEMINI_KEY,
            _sent_to_gemini,
            _whole_from_gemini,
        )


@pytest.fixture(scope="module")
def openai_vendor() -> Iterator[Vendor]:
    fake = FakeOpenAI(api_key=OPENAI_KEY)
    with serve_in_thread(fake.app) as url:
        yield Vendor(
            fake,
            f"{url}/v1",
            _openai,
            "OpenAI-compatible server at http://127.0.0.1:",
            "401 - Incorrect API key",
            "content_filter",
            _openai_unreachable,
            OPENAI_MODEL,
            OPENAI_KEY,
            _sent_to_openai,
            _whole_from_openai,
        )


@pytest.fixture(params=["gemini", "openai"])
def vendor(request: pytest.FixtureRequest) -> Vendor:
    found: Vendor = request.getfixturevalue(f"{request.param}_vendor")
    found.fake.behaviour = introduce
    found.fake.requests.clear()
    return found


@pytest.fixture
async def model(vendor: Vendor) -> AsyncIterator[ChatModel]:
    chat_model = vendor.build(vendor.url, None)
    yield chat_model
    await chat_model.aclose()


async def test_sends_the_system_prompt_the_history_the_model_and_the_key(
    vendor: Vendor, model: ChatModel
) -> None:
    prompt = newcomer_prompt()

    await answer(model, prompt)

    [request] = vendor.fake.requests
    sent = vendor.read(request)
    assert (sent.model, sent.key, sent.streamed) == (vendor.model_name, vendor.key, True)
    assert "Allin" in sent.system and "Team 8" in sent.system
    assert sent.system == prompt.system_text()
    assert "- Works on payments" in sent.system
    assert sent.conversation == [
        ("user", "I'm Sam, I joined the payments team."),
        ("assistant", "Hi!"),
        ("user", "What should I read first?"),
    ]


async def test_stand_in_also_answers_whole_responses(vendor: Vendor) -> None:
    vendor.fake.behaviour = Reply("All in one go.")

    assert await vendor.whole(vendor.url, "Hi") == "All in one go."
    assert not vendor.read(vendor.fake.requests[-1]).streamed


async def test_a_keyless_local_server_works_without_a_key() -> None:
    keyless = FakeOpenAI()
    with serve_in_thread(keyless.app) as url:
        model = OpenAICompatChatModel.from_settings(
            make_settings(llm="openai", openai_base_url=f"{url}/v1", openai_api_key=None)
        )
        chunks = await answer(model, asked("Who are you?"))
        await model.aclose()

    assert "".join(chunks) == "I'm Allin, made by Team 8."


async def test_registry_picks_gemini_when_a_key_is_set() -> None:
    model = build_chat_model(
        make_settings(llm=None, gemini_api_key=GEMINI_KEY, gemini_model=GEMINI_MODEL)
    )

    assert isinstance(model, GeminiChatModel)
    assert model.name == f"gemini:{GEMINI_MODEL}"
    await model.aclose()


async def test_registry_picks_the_openai_compatible_server_when_asked() -> None:
    settings = make_settings(
        llm="openai", openai_base_url="http://127.0.0.1:11434/v1", openai_model=OPENAI_MODEL
    )
    model = build_chat_model(settings)

    assert isinstance(model, OpenAICompatChatModel)
    assert model.name == f"openai:{OPENAI_MODEL}"
    await model.aclose()


async def test_registry_falls_back_to_offline_without_a_key() -> None:
    model = build_chat_model(make_settings(llm=None, gemini_api_key=None))

    assert isinstance(model, OfflineChatModel)


async def test_streams_the_reply_chunk_by_chunk(vendor: Vendor, model: ChatModel) -> None:
    reply = Reply("Run `make check` before you push: it runs the linters and the tests.", pieces=4)
    vendor.fake.behaviour = reply

    chunks = await answer(model, asked("How do I check my change?"))

    assert len(chunks) > 1
    assert chunks == reply.chunks


async def test_says_who_it_is_from_the_system_prompt(model: ChatModel) -> None:
    chunks = await answer(model, asked("Who are you?"))

    assert "".join(chunks) == "I'm Allin, made by Team 8."


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        ("gemini", 429, "Resource has been exhausted (e.g. check quota)."),
        ("gemini", 500, "An internal error has occurred. Please retry or report."),
        ("openai", 429, "Rate limit reached for requests. Please try again in 20s."),
        ("openai", 500, "model 'llama-test' failed to load"),
    ],
)
async def test_upstream_error_is_unavailable_with_the_providers_words(
    request: pytest.FixtureRequest, name: str, status: int, message: str
) -> None:
    vendor: Vendor = request.getfixturevalue(f"{name}_vendor")
    vendor.fake.requests.clear()
    vendor.fake.behaviour = Failure(status, message)
    model = vendor.build(vendor.url, None)

    with pytest.raises(ModelUnavailable) as raised:
        await answer(model, asked("Hello"))
    await model.aclose()

    assert message in raised.value.message
    assert str(status) in raised.value.message
    assert raised.value.message.startswith(vendor.prefix)


async def test_wrong_key_is_unavailable(vendor: Vendor) -> None:
    model = vendor.build(vendor.url, "wrong")

    with pytest.raises(ModelUnavailable, match=vendor.wrong_key):
        await answer(model, asked("Hello"))
    await model.aclose()


@pytest.mark.parametrize(
    "stall", [Stall(30), Stall(30, first=["Let me think"])], ids=["silent", "mid-stream"]
)
async def test_stall_longer_than_the_timeout_is_unavailable(
    vendor: Vendor, model: ChatModel, stall: Stall
) -> None:
    vendor.fake.behaviour = stall
    received: list[str] = []
    started = time.monotonic()

    with pytest.raises(ModelUnavailable, match="no response within 1 s"):
        async for chunk in model.stream(asked("Hello")):
            received.append(chunk)

    assert time.monotonic() - started < 5
    assert received == list(stall.first)


async def test_refusal_is_unavailable_not_an_empty_answer(vendor: Vendor, model: ChatModel) -> None:
    vendor.fake.behaviour = Refusal()

    with pytest.raises(ModelUnavailable, match=vendor.refusal):
        await answer(model, asked("Hello"))


async def test_unreachable_server_is_unavailable(vendor: Vendor) -> None:
    url, says = vendor.unreachable()
    model = vendor.build(url, None)

    with pytest.raises(ModelUnavailable, match=says):
        await answer(model, asked("Hello"))
    await model.aclose()
