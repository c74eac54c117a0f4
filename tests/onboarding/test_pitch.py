"""Answers pitched at the person: the profile block (from the user's memories and their stage)
reaches the prompt of a stand-in model and follows memory edits; a chat switched off gets none;
with the offline model the profile line and the next step are in the answer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from allin.chat.interaction import TurnRequest
from allin.memory.manager import MemoryManager
from allin.onboarding.pitch import GUIDANCE, QUOTED_TITLE, TITLE, PitchContext
from allin.services import Services
from tests.chat.test_interaction import Collected, ScriptedModel, pipeline
from tests.conftest import services_of_their_own
from tests.onboarding.test_service import small_repo


@pytest.fixture(scope="module")
async def services(
    postgres: Any, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Services]:
    async with services_of_their_own(postgres, tmp_path_factory.mktemp("data")) as started:
        await small_repo(started, tmp_path_factory.mktemp("repos") / "shop", "shop")
        yield started


@pytest.fixture
def memory(services: Services) -> MemoryManager:
    assert services.memory is not None
    return services.memory


async def test_the_profile_reaches_the_prompt_and_follows_memory_edits(
    services: Services, memory: MemoryManager, user_id: str
) -> None:
    await memory.remember(user_id, "intro", "User is a new backend engineer")
    await memory.remember(user_id, "intro", "User knows Python, not Flask")
    await memory.remember(user_id, "intro", "User likes green tea")
    model = ScriptedModel(["ok"])
    manager = pipeline(services, model, sources=(PitchContext(services.onboarding, memory, 5),))

    await manager.ask(TurnRequest(user_id, "c1", "m1", "How do I add a route?"), Collected())
    (block,) = model.prompts[-1].context
    assert block.title == TITLE
    profile, stage = block.items
    assert profile == (
        "Profile (from what they told you): User is a new backend engineer · "
        "User knows Python, not Flask"
    )
    assert stage == (
        "Onboarding: stage 1 of 2 (“First week”) of “Team path”, 0 of 4 steps done; "
        "next step: “Read the README” (owner: Ada)."
    )
    assert block.note == GUIDANCE
    pitches = await services.onboarding.store.pitches(user_id, "c1")
    (pitch,) = pitches.values()
    assert pitch.line() == "Answered for: backend, Python, new to Flask; stage 1 of 2"

    # The user corrects a memory: the next answer is pitched at who they are now.
    (knows,) = [m for m in await memory.list_all(user_id) if "Python" in m.text]
    await memory.update(user_id, knows.id, "User knows Python and Flask well")
    await manager.ask(TurnRequest(user_id, "c1", "m2", "How do I add a route?"), Collected())
    (block,) = model.prompts[-1].context
    assert "User knows Python and Flask well" in block.items[0]
    assert "not Flask" not in block.items[0]
    latest = max((await services.onboarding.store.pitches(user_id, "c1")).items())[1]
    assert latest.answered_for == "backend, Python, Flask"

    # Switched off for this chat: nothing about the person, and nothing recorded.
    await services.onboarding.store.set_pitched(user_id, "c1", False)
    await manager.ask(TurnRequest(user_id, "c1", "m3", "How do I add a route?"), Collected())
    assert model.prompts[-1].context == ()
    assert len(await services.onboarding.store.pitches(user_id, "c1")) == 2
    # Other chats still are.
    await manager.ask(TurnRequest(user_id, "c2", "m1", "How do I add a route?"), Collected())
    assert model.prompts[-1].context[0].title == TITLE


async def test_the_offline_model_shows_the_profile_line_and_the_next_step(
    services: Services, memory: MemoryManager, user_id: str, tmp_path: Path
) -> None:
    await memory.remember(user_id, "intro", "User is a new backend engineer")
    sink = Collected()
    await services.interaction.ask(
        TurnRequest(user_id, "c1", "m1", "What should I do first?"), sink
    )
    answer = (await services.chats.turns_before(user_id, "c1", None, 10))[-1]
    assert QUOTED_TITLE in answer.content and GUIDANCE not in answer.content
    assert "User is a new backend engineer" in answer.content
    assert "next step: “Read the README” \\(owner: Ada\\)" in answer.content
    (pitch,) = (await services.onboarding.store.pitches(user_id, "c1")).values()
    assert pitch.line() == "Answered for: backend; stage 1 of 2"
