"""The LLM path: mem0's real `openai` and `gemini` providers extract memories through local servers
speaking the Chat Completions and Gemini wire formats, with mem0's own extraction prompt and JSON
reply."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator

import pytest

from allin.memory.build import start_memory
from allin.memory.manager import MemoryManager
from allin.memory.memory_records import Lesson
from allin.services import Services
from tests.conftest import make_settings
from tests.memory.test_memory_notices import Told
from tests.support.fake_gemini import FakeGemini
from tests.support.fake_openai import FakeOpenAI
from tests.support.llm_scripts import Failure, Reply, Script
from tests.support.servers import serve_in_thread

MODEL = "memory-extractor"


def extractor(system: str, user: str) -> Script:
    """A model following mem0's additive extraction prompt: it reads the new messages and answers
    `{"memory": [{"id", "text", "attributed_to", "linked_memory_ids"}]}`."""
    assert "Memory Extractor" in system
    new_messages = user.split("## New Messages", 1)[1].split("## Observation Date", 1)[0]
    memories = []
    if "Kubernetes" in new_messages:
        memories.append("User is new to Kubernetes and finds pods confusing")
    if "Dana" in new_messages:
        memories.append("User's manager is Dana")
    reply = {
        "memory": [
            {"id": str(n), "text": text, "attributed_to": "user", "linked_memory_ids": []}
            for n, text in enumerate(memories)
        ]
    }
    return Reply(json.dumps(reply))


Fake = FakeOpenAI | FakeGemini


@pytest.fixture(scope="module", params=["openai", "gemini"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[Fake, dict[str, object]]]:
    fake: Fake = FakeOpenAI(behaviour=extractor)
    if request.param == "gemini":
        fake = FakeGemini(behaviour=extractor)
    with serve_in_thread(fake.app) as url:
        if isinstance(fake, FakeGemini):
            yield fake, {"llm": "gemini", "gemini_api_key": fake.api_key, "gemini_base_url": url}
        else:
            yield fake, {"llm": "openai", "openai_base_url": f"{url}/v1", "openai_model": MODEL}


@pytest.fixture
async def llm_memory(
    services: Services, server: tuple[Fake, dict[str, object]]
) -> AsyncIterator[tuple[Fake, MemoryManager]]:
    fake, provider = server
    fake.behaviour = extractor
    fake.requests.clear()
    settings = make_settings(
        **provider,
        llm_timeout_s=5,
        embedder="minilm",
        database_url=services.settings.database_url,
        data_dir=services.settings.data_dir,
    )
    memory = start_memory(settings, services.db, services.embedder)
    await memory.ready()
    assert not {"OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY"} & set(os.environ)
    yield fake, memory
    await memory.aclose()


async def test_memories_extracted_by_the_llm_are_stored_and_searchable(
    llm_memory: tuple[Fake, MemoryManager], user_id: str
) -> None:
    fake, memory = llm_memory
    said = "I'm new to Kubernetes and pods confuse me. My manager is Dana."
    added = await memory.learn(user_id, "chat-a", said, "Welcome! A pod is…")
    assert added == ["User is new to Kubernetes and finds pods confusing", "User's manager is Dana"]

    (request,) = fake.requests
    if isinstance(fake, FakeOpenAI):
        assert request.body["model"] == MODEL
        assert request.body["response_format"] == {"type": "json_object"}
    assert said in request.user and "Welcome! A pod is" in request.user

    listed = await memory.list_all(user_id)
    assert {m.chat_id for m in listed} == {"chat-a"}
    found = await memory.search(user_id, "What is a Kubernetes pod?", top_k=5, threshold=0.25)
    assert found[0].text == "User is new to Kubernetes and finds pods confusing"

    # The next extraction sees what is already known, and an exact repeat is not stored twice.
    await memory.learn(user_id, "chat-b", "As I said, my manager is Dana.", "Noted.")
    assert "User's manager is Dana" in fake.requests[-1].user.split("## New Messages")[0]
    assert len(await memory.list_all(user_id)) == 2


async def test_a_failing_llm_falls_back_to_the_offline_rules(
    llm_memory: tuple[Fake, MemoryManager], user_id: str
) -> None:
    fake, memory = llm_memory
    fake.behaviour = Failure(500, "model crashed")
    assert await memory.learn(user_id, "chat-a", "I prefer short answers.", "OK.") == [
        "User prefers short answers"
    ]
    assert len(fake.requests) == 1


async def test_a_chats_turns_are_learned_in_one_extraction_told_to_its_last_answer(
    llm_memory: tuple[Fake, MemoryManager], user_id: str
) -> None:
    fake, memory = llm_memory
    told = Told()
    memory.announce_through(told)
    kubernetes = "I'm new to Kubernetes and pods confuse me."
    lessons = [
        Lesson(1, "chat-a", kubernetes, "A pod is…", 11),
        Lesson(2, "chat-a", "My manager is Dana.", "Noted.", 12),
        Lesson(3, "chat-b", "How do I deploy?", "Like so.", 13),
    ]
    added = await memory.learn_batch(user_id, lessons)
    assert added == ["User is new to Kubernetes and finds pods confusing", "User's manager is Dana"]

    # chat-a's two turns in one call (a memory is stored with its chat), chat-b's in another.
    first, second = fake.requests
    assert kubernetes in first.user and "My manager is Dana." in first.user
    assert "How do I deploy?" in second.user.split("## New Messages", 1)[1]
    assert told.calls == [(user_id, "chat-a", 12, added)]
    assert {m.chat_id for m in await memory.list_all(user_id)} == {"chat-a"}
