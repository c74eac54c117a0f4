"""Every provider path through the whole app: WebSocket in, the real SDK out to a local server that
speaks the provider's wire format, the answer stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from tests.conftest import make_settings, ws_url
from tests.support.accounts import Account
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.llm_scripts import Failure, introduce
from tests.support.servers import serve_in_thread, serve_ready
from tests.support.wsclient import ask


@dataclass
class Provider:
    fake: Any
    app_url: str
    model_name: str


def provider_settings(kind: str, upstream: str, **common: Any) -> Settings:
    if kind == "gemini":
        return make_settings(
            llm="gemini", gemini_api_key="test-key", gemini_base_url=upstream, **common
        )
    return make_settings(llm="openai", openai_base_url=f"{upstream}/v1", openai_model="m", **common)


@pytest.fixture(scope="module", params=["gemini", "openai"])
def provider(
    request: pytest.FixtureRequest, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Provider]:
    fake = FakeGemini(api_key="test-key") if request.param == "gemini" else FakeOpenAI()
    with serve_in_thread(fake.app) as upstream:
        settings = provider_settings(
            request.param,
            upstream,
            database_url=database_url,
            data_dir=tmp_path_factory.mktemp("data"),
            llm_timeout_s=2,
        )
        name = "gemini:gemini-2.0-flash" if request.param == "gemini" else "openai:m"
        with serve_ready(create_app(settings)) as app_url:
            yield Provider(fake, app_url, name)


async def test_asked_who_it_is_every_provider_answers_as_allin(
    provider: Provider, account: Account
) -> None:
    async with connect(ws_url(provider.app_url, account, "c1")) as socket:
        frames = await ask(socket, "m1", "Who are you?")
    done = frames[-1]
    assert done["type"] == "done", done
    assert done["turn"]["content"] == "I'm Allin, made by Team 8."
    assert done["turn"]["metadata"]["model"] == provider.model_name
    assert [f["type"] for f in frames].count("token") > 1
    # Long-term memory may have sent its own request (fact extraction) since the answer.
    answered = [sent for sent in provider.fake.requests if sent.user == "Who are you?"]
    assert answered and "You are Allin" in answered[0].system


async def test_provider_failure_is_an_unavailable_frame_and_the_question_is_kept(
    provider: Provider, account: Account
) -> None:
    provider.fake.behaviour = Failure(503, "The model is overloaded. Please try again later.")
    try:
        async with connect(ws_url(provider.app_url, account, "c1")) as socket:
            frames = await ask(socket, "m1", "How do I deploy?")
    finally:
        provider.fake.behaviour = introduce
    error = frames[-1]
    assert error["type"] == "error" and error["code"] == "unavailable"
    assert "overloaded" in error["message"] and error["reply_to"] == "m1"
    async with httpx.AsyncClient(base_url=provider.app_url, headers=account.headers) as http:
        turns = (await http.get(f"/api/v1/chat/history/{account.user_id}/c1")).json()["turns"]
    assert [(t["role"], t["content"]) for t in turns] == [("user", "How do I deploy?")]
