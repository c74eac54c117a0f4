"""A turn embeds its question once: memory search and retrieval share the vector, whichever asks
first (and memory starts it while the turn is acknowledged)."""

from __future__ import annotations

import pytest

from allin.chat.interaction import InteractionManager, TurnRequest
from allin.chat.runs import Runs
from allin.embeddings.minilm import MiniLMEmbedder
from allin.memory.manager import MemoryManager
from allin.memory.pipeline import MemoryContext
from allin.rag.retrieval import SOURCES_TITLE, KnowledgeSource
from allin.services import Services
from tests.chat.test_interaction import Collected, ScriptedModel


async def test_memory_and_retrieval_share_one_embedding_of_the_question(
    services: Services, memory: MemoryManager, user_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await services.ingestor.ingest(
        owner_id=user_id,
        name="deploy.md",
        data=b"# Deploying\n\nWe deploy the billing service with Helm, never on Fridays.\n",
    )
    await memory.learn(user_id, "chat-a", "Our team deploys with Helm.", "ok")
    assert isinstance(services.embedder, MiniLMEmbedder)
    encoder = services.embedder.encoder
    encoded: list[str] = []
    encode = encoder._encode

    def spy(texts: list[str]) -> list[object]:
        encoded.extend(texts)
        return encode(texts)  # type: ignore[return-value]

    monkeypatch.setattr(encoder, "_encode", spy)
    model = ScriptedModel(["ok"])
    manager = InteractionManager(
        services.settings,
        services.chats,
        model,
        Runs(services.runs.log),
        services.streams,
        sources=[KnowledgeSource(services.retriever), MemoryContext(memory, services.settings)],
    )
    question = "How does the billing service get deployed, and when not?"
    await manager.ask(TurnRequest(user_id, "chat-b", "m1", question), Collected())
    titles = [block.title for block in model.prompts[-1].context]
    assert SOURCES_TITLE in titles and "What you know about this user" in titles
    assert encoded.count(question) == 1, encoded
