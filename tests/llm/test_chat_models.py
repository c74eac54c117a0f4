"""What every network chat model does, whichever vendor: each test runs against Gemini (the real
`google-genai` SDK and the local Gemini stand-in) and an OpenAI-compatible server (the real
`openai` SDK and its stand-in). What only one vendor has (its request's shape) is in
`test_gemini.py` and `test_openai_compat.py`."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass

import pytest

from allin.chat.prompt import system_prompt
from allin.llm.base import ChatModel, Message, ModelUnavailable, Prompt
from allin.llm.gemini import GeminiChatModel
from allin.llm.openai_compat import OpenAICompatChatModel
from allin.providers.google import GoogleProvider
from allin.providers.openai_compat import OpenAICompatProvider
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.llm_scripts import Failure, Refusal, Reply, Stall, introduce
from tests.support.servers import free_port, serve_in_thread

GEMINI_KEY = "test-gemini-key"
GEMINI_MODEL = "gemini-test-model"
OPENAI_KEY = "test-openai-key"
OPENAI_MODEL = "llama-test"


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
            fake, url, _gemini, "Gemini: ", "API key not valid", "SAFETY", _gemini_unreachable
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


def ask(user: str, history: tuple[Message, ...] = ()) -> Prompt:
    return Prompt(system=system_prompt(), user=user, history=history)


async def answer(model: ChatModel, prompt: Prompt) -> list[str]:
    return [chunk async for chunk in model.stream(prompt)]


async def test_streams_the_reply_chunk_by_chunk(vendor: Vendor, model: ChatModel) -> None:
    reply = Reply("Run `make check` before you push: it runs the linters and the tests.", pieces=4)
    vendor.fake.behaviour = reply

    chunks = await answer(model, ask("How do I check my change?"))

    assert len(chunks) > 1
    assert chunks == reply.chunks


async def test_says_who_it_is_from_the_system_prompt(model: ChatModel) -> None:
    chunks = await answer(model, ask("Who are you?"))

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
        await answer(model, ask("Hello"))
    await model.aclose()

    assert message in raised.value.message
    assert str(status) in raised.value.message
    assert raised.value.message.startswith(vendor.prefix)


async def test_wrong_key_is_unavailable(vendor: Vendor) -> None:
    model = vendor.build(vendor.url, "wrong")

    with pytest.raises(ModelUnavailable, match=vendor.wrong_key):
        await answer(model, ask("Hello"))
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
        async for chunk in model.stream(ask("Hello")):
            received.append(chunk)

    assert time.monotonic() - started < 5
    assert received == list(stall.first)


async def test_refusal_is_unavailable_not_an_empty_answer(vendor: Vendor, model: ChatModel) -> None:
    vendor.fake.behaviour = Refusal()

    with pytest.raises(ModelUnavailable, match=vendor.refusal):
        await answer(model, ask("Hello"))


async def test_unreachable_server_is_unavailable(vendor: Vendor) -> None:
    url, says = vendor.unreachable()
    model = vendor.build(url, None)

    with pytest.raises(ModelUnavailable, match=says):
        await answer(model, ask("Hello"))
    await model.aclose()
