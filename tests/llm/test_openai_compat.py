"""The OpenAI-compatible model (Ollama, llama.cpp, vLLM), through the real `openai` SDK, against the
local stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from openai import AsyncOpenAI

from allin.llm.openai_compat import OpenAICompatChatModel
from allin.llm.registry import build_chat_model
from tests.conftest import make_settings
from tests.support.fake_openai import FakeOpenAI
from tests.support.llm_scripts import Reply, answer, asked, introduce, newcomer_prompt
from tests.support.servers import serve_in_thread

KEY = "test-openai-key"
MODEL = "llama-test"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[FakeOpenAI, str]]:
    fake = FakeOpenAI(api_key=KEY)
    with serve_in_thread(fake.app) as url:
        yield fake, f"{url}/v1"


@pytest.fixture
def fake(server: tuple[FakeOpenAI, str]) -> FakeOpenAI:
    fake, _ = server
    fake.behaviour = introduce
    fake.requests.clear()
    return fake


@pytest.fixture
async def model(server: tuple[FakeOpenAI, str]) -> AsyncIterator[OpenAICompatChatModel]:
    _, url = server
    settings = make_settings(
        llm="openai", openai_base_url=url, openai_model=MODEL, openai_api_key=KEY, llm_timeout_s=1
    )
    chat_model = OpenAICompatChatModel.from_settings(settings)
    yield chat_model
    await chat_model.aclose()


async def test_sends_system_message_history_model_and_key(
    fake: FakeOpenAI, model: OpenAICompatChatModel
) -> None:
    prompt = newcomer_prompt()

    await answer(model, prompt)

    [sent] = fake.requests
    assert sent.body["model"] == MODEL
    assert sent.body["stream"] is True
    assert sent.headers["authorization"] == f"Bearer {KEY}"
    assert "Allin" in sent.system and "Team 8" in sent.system
    assert sent.messages == [
        ("system", prompt.system_text()),
        ("user", "I'm Sam, I joined the payments team."),
        ("assistant", "Hi!"),
        ("user", "What should I read first?"),
    ]
    assert "- Works on payments" in sent.system


async def test_a_keyless_local_server_works_without_a_key() -> None:
    keyless = FakeOpenAI()
    with serve_in_thread(keyless.app) as url:
        model = OpenAICompatChatModel.from_settings(
            make_settings(llm="openai", openai_base_url=f"{url}/v1", openai_api_key=None)
        )
        chunks = await answer(model, asked("Who are you?"))
        await model.aclose()

    assert "".join(chunks) == "I'm Allin, made by Team 8."


async def test_stand_in_also_answers_whole_responses(
    fake: FakeOpenAI, server: tuple[FakeOpenAI, str]
) -> None:
    _, url = server
    fake.behaviour = Reply("All in one go.")
    client = AsyncOpenAI(base_url=url, api_key=KEY, max_retries=0)

    completion = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Hi"}]
    )

    assert completion.choices[0].message.content == "All in one go."
    assert fake.requests[-1].body.get("stream") is not True
    await client.close()


async def test_registry_picks_the_openai_compatible_server_when_asked() -> None:
    model = build_chat_model(
        make_settings(llm="openai", openai_base_url="http://127.0.0.1:11434/v1", openai_model=MODEL)
    )

    assert isinstance(model, OpenAICompatChatModel)
    assert model.name == f"openai:{MODEL}"
    await model.aclose()
