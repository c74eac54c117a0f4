"""The memory manager over real mem0, the test Postgres and the MiniLM embedder."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest

from allin.errors import NotFound
from allin.memory.build import collection_name
from allin.memory.manager import MemoryManager
from allin.memory.memory_records import Memory
from allin.services import Services


def texts(memories: list[Memory]) -> list[str]:
    return [memory.text for memory in memories]


async def test_learns_facts_from_a_message_with_their_chat(
    memory: MemoryManager, user_id: str
) -> None:
    added = await memory.learn(
        user_id, "chat-a", "Hi! I'm new to Kubernetes. Our team uses Flask. How do I deploy?", "ok"
    )
    assert added == ["User is new to Kubernetes", "User's team uses Flask"]
    listed = await memory.list_all(user_id)
    assert texts(listed) == ["User's team uses Flask", "User is new to Kubernetes"]  # newest first
    assert {m.chat_id for m in listed} == {"chat-a"}
    assert all(m.created_at == m.updated_at for m in listed)


async def test_a_fact_already_known_is_not_added_again(memory: MemoryManager, user_id: str) -> None:
    await memory.learn(user_id, "a", "I'm a backend engineer. We use Flask.", "ok")
    # Same words, other case and punctuation; then a paraphrase close enough in meaning.
    assert (
        await memory.learn(user_id, "b", "i am a backend engineer!! our team uses flask", "") == []
    )
    assert await memory.learn(user_id, "b", "I'm a backend developer", "") == []
    # Close in words, different in fact: kept.
    assert await memory.learn(user_id, "b", "We use Django too", "") == ["User's team uses Django"]
    assert len(await memory.list_all(user_id)) == 3


async def test_search_finds_the_users_own_memories_by_meaning(
    memory: MemoryManager, user_id: str
) -> None:
    other = f"{user_id}-other"
    await memory.learn(user_id, "a", "Our team uses Flask. My manager is Dana.", "")
    await memory.learn(other, "a", "Our team uses Flask.", "")
    found = await memory.search(user_id, "How do I add a route in Flask?", top_k=5, threshold=0.25)
    assert texts(found) == ["User's team uses Flask"]
    assert {m.id for m in found}.isdisjoint({m.id for m in await memory.list_all(other)})
    assert (
        await memory.search(user_id, "How do I add a route in Flask?", top_k=5, threshold=0.9) == []
    )
    assert await memory.search(f"{user_id}-nobody", "Flask", top_k=5, threshold=0) == []


async def test_update_replaces_text_and_embedding(memory: MemoryManager, user_id: str) -> None:
    await memory.learn(user_id, "a", "I mostly use vim.", "")
    (before,) = await memory.list_all(user_id)
    after = await memory.update(user_id, before.id, "User mostly uses Emacs")
    assert (after.id, after.text, after.chat_id) == (before.id, "User mostly uses Emacs", "a")
    assert after.updated_at > before.updated_at and after.created_at == before.created_at
    found = await memory.search(user_id, "Which editor, Emacs?", top_k=1, threshold=0.3)
    assert texts(found) == ["User mostly uses Emacs"]
    # The edited text is what a repeat is compared with from now on.
    assert await memory.learn(user_id, "b", "I mostly use Emacs", "") == []


async def test_another_users_memory_is_not_found(memory: MemoryManager, user_id: str) -> None:
    await memory.learn(user_id, "a", "My manager is Dana.", "")
    (mine,) = await memory.list_all(user_id)
    intruder = f"{user_id}-intruder"
    for attempt in (
        memory.get(intruder, mine.id),
        memory.update(intruder, mine.id, "User's manager is Eve"),
        memory.delete(intruder, mine.id),
    ):
        with pytest.raises(NotFound):
            await attempt
    for missing in (str(uuid.uuid4()), "not-a-uuid"):
        with pytest.raises(NotFound):
            await memory.get(user_id, missing)
    assert texts(await memory.list_all(user_id)) == ["User's manager is Dana"]


async def test_delete_one_and_delete_all_touch_only_that_user(
    memory: MemoryManager, user_id: str
) -> None:
    other = f"{user_id}-other"
    await memory.learn(user_id, "a", "I'm new to Go. I prefer short answers.", "")
    await memory.learn(other, "a", "I'm new to Go.", "")
    first, second = await memory.list_all(user_id)
    await memory.delete(user_id, first.id)
    assert texts(await memory.list_all(user_id)) == [second.text]
    await memory.delete_all(user_id)
    assert await memory.list_all(user_id) == []
    assert texts(await memory.list_all(other)) == ["User is new to Go"]


async def test_collection_is_named_after_the_embedder_and_indexed_by_user(
    services: Services,
) -> None:
    table = collection_name(services.embedder)
    assert table == "mem0_minilm_all_minilm_l6_v2_384"
    with psycopg.connect(services.db.url) as conn:
        indexes = conn.execute(
            "select indexname from pg_indexes where tablename = %s", (table,)
        ).fetchall()
        dimension = conn.execute(
            "select format_type(atttypid, atttypmod) from pg_attribute"
            " where attrelid = %s::regclass and attname = 'vector'",
            (table,),
        ).fetchone()
    assert f"{table}_user_idx" in {row[0] for row in indexes}
    assert dimension == ("vector(384)",)


async def test_mem0_stays_local(services: Services) -> None:
    """Telemetry off, mem0's files under the data dir, no key left in the environment."""
    from mem0.memory import telemetry

    assert telemetry.MEM0_TELEMETRY is False
    assert (services.settings.data_dir / "mem0" / "history.db").exists()
    assert not {"OPENAI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY"} & set(os.environ)
