"""Memory in the turn pipeline: a fact said in one chat reaches the prompt in another chat of the
same user, never another user's; a broken memory store never costs an answer."""

from __future__ import annotations

import logging

import pytest

from allin.chat.frames import Ack, Done, Token
from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.memory.build import start_memory
from allin.memory.manager import MemoryManager
from allin.memory.pipeline import TITLE, MemoryContext, MemoryListener
from allin.services import Services
from tests.chat.test_interaction import Collected, ScriptedModel


def with_memory(
    services: Services, model: ScriptedModel, memory: MemoryManager
) -> InteractionManager:
    settings = services.settings
    return InteractionManager(
        settings,
        services.chats,
        model,
        Runs(services.runs.log),
        services.streams,
        sources=[MemoryContext(memory, settings)],
        listeners=[MemoryListener(memory)],
    )


async def test_a_fact_from_one_chat_is_in_the_prompt_of_another(
    services: Services, memory: MemoryManager, user_id: str
) -> None:
    model = ScriptedModel(["ok"])
    manager = with_memory(services, model, memory)
    await manager.ask(
        TurnRequest(user_id, "chat-a", "m1", "Our team uses Flask. How do I start?"), Collected()
    )
    await memory.settled(user_id)

    await manager.ask(
        TurnRequest(user_id, "chat-b", "m1", "How do I add a route in Flask?"), Collected()
    )
    (block,) = model.prompts[-1].context
    assert (block.title, block.items) == (TITLE, ("User's team uses Flask",))

    stranger = f"{user_id}-stranger"
    await manager.ask(
        TurnRequest(stranger, "chat-c", "m1", "How do I add a route in Flask?"), Collected()
    )
    assert model.prompts[-1].context == ()


async def test_asked_by_kind_the_memory_that_names_the_thing_is_found(
    services: Services, memory: MemoryManager, user_id: str
) -> None:
    """Issue 4's scenario: the question says "framework", the memory says "Flask"."""
    model = ScriptedModel(["ok"])
    manager = with_memory(services, model, memory)
    await manager.ask(
        TurnRequest(
            user_id, "chat-a", "m1", "I'm a new backend engineer and our services use Flask"
        ),
        Collected(),
    )
    await manager.ask(TurnRequest(user_id, "chat-a", "m2", "We deploy on Kubernetes."), Collected())
    await memory.settled(user_id)

    await manager.ask(
        TurnRequest(user_id, "chat-b", "m1", "what framework do we use?"), Collected()
    )
    (block,) = model.prompts[-1].context
    assert block.items[0] == "User's team's services use Flask", block.items
    await manager.ask(TurnRequest(user_id, "chat-b", "m2", "Where do we deploy?"), Collected())
    (block,) = model.prompts[-1].context
    assert block.items[0] == "User's team deploys on Kubernetes", block.items
    # Nothing about the user bears on this, so nothing is put in.
    await manager.ask(TurnRequest(user_id, "chat-b", "m3", "What is a monad?"), Collected())
    assert model.prompts[-1].context == ()


async def test_asked_what_it_knows_about_the_user_allin_recalls_everything(
    services: Services, memory: MemoryManager, user_id: str
) -> None:
    model = ScriptedModel(["ok"])
    manager = with_memory(services, model, memory)
    await manager.ask(TurnRequest(user_id, "chat-a", "m1", "I prefer short answers."), Collected())
    await manager.ask(TurnRequest(user_id, "chat-a", "m2", "My manager is Dana."), Collected())
    await memory.settled(user_id)
    await manager.ask(
        TurnRequest(user_id, "chat-b", "m1", "What do you know about me?"), Collected()
    )
    (block,) = model.prompts[-1].context
    assert set(block.items) == {"User prefers short answers", "User's manager is Dana"}


async def test_a_broken_memory_store_still_gets_an_answer(
    services: Services, user_id: str, caplog: pytest.LogCaptureFixture
) -> None:
    broken = start_memory(services.settings, services.db, services.embedder)
    await broken.ready()
    await broken.aclose()  # its connection pool is gone: every search and add now fails
    model = ScriptedModel(["still ", "here"])
    manager = with_memory(services, model, broken)
    sink = Collected()
    with caplog.at_level(logging.ERROR, logger="allin.chat.interaction"):
        await manager.ask(
            TurnRequest(user_id, "chat-a", "m1", "I'm new to Go. What is a slice?"), sink
        )
        await manager._runs.drain(10)
    assert [type(f) for f in sink.frames] == [Ack, Token, Done]
    assert sink.frames[-1].turn.content == "still here"  # type: ignore[union-attr]
    assert model.prompts[0].context == ()
    assert any("memory failed for turn" in r.getMessage() for r in caplog.records)
    assert any("memory failed after turn" in r.getMessage() for r in caplog.records)
