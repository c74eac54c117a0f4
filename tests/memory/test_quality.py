"""Memory quality on the offline path: a 30-turn conversation mixing facts (some repeated or
paraphrased) with questions and small talk leaves exactly the facts, once each."""

from __future__ import annotations

from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.memory.manager import MemoryManager
from allin.memory.pipeline import MemoryContext, MemoryListener
from allin.services import Services
from tests.chat.test_interaction import Collected, ScriptedModel

CONVERSATION = [
    "Hi!",
    "I'm new to Kubernetes.",
    "What is a pod?",
    "Thanks, that helps.",
    "Our team uses Flask.",
    "How do I add a route?",
    "I prefer short answers.",
    "Can you explain blueprints?",
    "My manager is Dana.",
    "ok",
    "We use Flask, by the way.",  # the same fact, other words
    "I am new to Kubernetes",  # repeated
    "Explain the difference between a deployment and a statefulset",
    "I'm a backend engineer.",
    "lol",
    "I really prefer short answers!",  # repeated, with a filler
    "Where are the logs stored?",
    "I work on the billing service.",
    "Good morning",
    "I'm a backend developer",  # paraphrase
    "I want to learn Go.",
    "Do you know Go?",
    "btw my manager is Dana",  # repeated
    "Show me an example",
    "I'm not sure I understand.",
    "We deploy on Fridays.",
    "Cool, thanks!",
    "I'm stuck on this error",
    "Hi again, I'm new to Kubernetes, how do I see pod logs?",  # repeated, inside a question
    "I mostly use vim.",
]

FACTS = {
    "User is new to Kubernetes",
    "User's team uses Flask",
    "User prefers short answers",
    "User's manager is Dana",
    "User is a backend engineer",
    "User works on the billing service",
    "User wants to learn Go",
    "User's team deploys on Fridays",
    "User mostly uses vim",
}


async def test_thirty_turns_leave_exactly_the_facts_once(
    services: Services, memory: MemoryManager, user_id: str
) -> None:
    assert len(CONVERSATION) == 30
    manager = InteractionManager(
        services.settings,
        services.chats,
        ScriptedModel(["ok"]),
        Runs(services.runs.log),
        services.streams,
        sources=[MemoryContext(memory, services.settings)],
        listeners=[MemoryListener(memory)],
    )
    for n, said in enumerate(CONVERSATION):
        # Two chats, as a user would over a week.
        await manager.ask(TurnRequest(user_id, f"chat-{n % 2}", f"m{n}", said), Collected())
        await memory.settled(user_id)
    stored = [m.text for m in await memory.list_all(user_id)]
    assert sorted(stored) == sorted(FACTS)
