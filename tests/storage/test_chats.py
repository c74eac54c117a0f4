"""The chat store contract, run against every implementation."""

from __future__ import annotations

import httpx
import pytest

from allin.errors import BadRequest, Conflict, NotFound, Unavailable
from allin.services import Services
from allin.storage.chat_records import TurnMark
from allin.storage.chat_store import ChatStore, title_from
from allin.storage.supabase_chats import SupabaseChatStore
from allin.storage.supabase_client import SupabaseConnection
from tests.support.fake_supabase_storage import SERVICE_KEY


@pytest.fixture(params=["postgres", "supabase"])
def chat_store(request: pytest.FixtureRequest, services: Services) -> ChatStore:
    """The same contract over Postgres directly and over Supabase's REST API (the real supabase-py
    client against `tests/support/fake_postgrest.py`, on the same migrated test database)."""
    if request.param == "postgres":
        return services.chats
    supabase: SupabaseConnection = request.getfixturevalue("supabase")
    return SupabaseChatStore(supabase.client)


async def test_first_message_creates_the_chat_with_a_title(
    chat_store: ChatStore, user_id: str
) -> None:
    turn, is_new = await chat_store.append_user_turn(
        user_id, f"{user_id}-c", "m1", "How do I\n run tests?"
    )
    assert is_new and turn.role == "user" and turn.client_msg_id == "m1"
    chat = await chat_store.get_chat(user_id, f"{user_id}-c")
    assert chat.title == "How do I run tests?"


async def test_retried_message_is_stored_once(chat_store: ChatStore, user_id: str) -> None:
    chat = f"{user_id}-c"
    first, _ = await chat_store.append_user_turn(user_id, chat, "m1", "hello")
    again, is_new = await chat_store.append_user_turn(user_id, chat, "m1", "hello")
    assert not is_new and again.id == first.id
    assert len(await chat_store.turns_before(user_id, chat, None, 10)) == 1


async def test_reusing_a_message_id_for_other_text_is_refused(
    chat_store: ChatStore, user_id: str
) -> None:
    chat = f"{user_id}-c"
    await chat_store.append_user_turn(user_id, chat, "m1", "hello")
    with pytest.raises(BadRequest, match="already used"):
        await chat_store.append_user_turn(user_id, chat, "m1", "something else")


async def test_chat_ids_belong_to_their_user(chat_store: ChatStore, user_id: str) -> None:
    chat = "same-name"
    await chat_store.append_user_turn(user_id, chat, "m1", "mine")
    await chat_store.append_user_turn(f"{user_id}-other", chat, "m1", "theirs")
    with pytest.raises(NotFound):
        await chat_store.delete_chat("nobody", chat)
    assert [t.content for t in await chat_store.turns_before(user_id, chat, None, 10)] == ["mine"]
    other = await chat_store.turns_before(f"{user_id}-other", chat, None, 10)
    assert [t.content for t in other] == ["theirs"]


async def test_one_answer_per_question(chat_store: ChatStore, user_id: str) -> None:
    question, _ = await chat_store.append_user_turn(user_id, f"{user_id}-c", "m1", "q")
    first_id = await chat_store.reserve_turn_id()
    first = await chat_store.append_assistant_turn(first_id, question, "a1", {"model": "x"})
    second_id = await chat_store.reserve_turn_id()
    second = await chat_store.append_assistant_turn(second_id, question, "a2", {})
    assert second == first and first.reply_to == question.id and first.id == first_id
    assert await chat_store.answer_to(question) == first


async def test_a_turn_s_mark_is_published_and_kept_together(
    chat_store: ChatStore, user_id: str
) -> None:
    chat = f"{user_id}-c"
    question, _ = await chat_store.append_user_turn(user_id, chat, "m1", "q")
    error = {"code": "unavailable", "message": "the model is down"}
    failed = TurnMark(question.id, "failed", error)
    seq = await chat_store.mark_turn(failed, None)
    assert seq is not None and seq > 0
    (stored,) = await chat_store.turns_before(user_id, chat, None, 10)
    assert stored.metadata["failed"] == {**error, "seq": seq}
    assert await chat_store.mark_turn(failed, None) == seq + 1
    await chat_store.unmark_turn(question.id, "failed")
    (stored,) = await chat_store.turns_before(user_id, chat, None, 10)
    assert "failed" not in stored.metadata
    await chat_store.delete_chat(user_id, chat)
    assert await chat_store.mark_turn(failed, None) is None


async def test_turns_page_backwards_oldest_first(chat_store: ChatStore, user_id: str) -> None:
    chat = f"{user_id}-c"
    for n in range(5):
        await chat_store.append_user_turn(user_id, chat, f"m{n}", f"message {n}")
    newest = await chat_store.turns_before(user_id, chat, None, 2)
    assert [t.content for t in newest] == ["message 3", "message 4"]
    older = await chat_store.turns_before(user_id, chat, newest[0].id, 10)
    assert [t.content for t in older] == ["message 0", "message 1", "message 2"]


async def test_create_rename_delete(chat_store: ChatStore, user_id: str) -> None:
    chat = f"{user_id}-c"
    created = await chat_store.create_chat(user_id, chat, None)
    assert created.title is None
    with pytest.raises(Conflict):
        await chat_store.create_chat(user_id, chat, None)
    assert (await chat_store.rename_chat(user_id, chat, "Renamed")).title == "Renamed"
    await chat_store.append_user_turn(user_id, chat, "m1", "first words")
    assert (await chat_store.get_chat(user_id, chat)).title == "Renamed"
    await chat_store.delete_chat(user_id, chat)
    with pytest.raises(NotFound):
        await chat_store.get_chat(user_id, chat)
    assert await chat_store.turns_before(user_id, chat, None, 10) == []


async def test_search_finds_what_was_said_and_titles_best_first(
    chat_store: ChatStore, user_id: str
) -> None:
    await chat_store.create_chat(user_id, f"{user_id}-a", "Ops questions")
    await chat_store.append_user_turn(user_id, f"{user_id}-a", "m1", "Where are the staging logs?")
    await chat_store.append_user_turn(user_id, f"{user_id}-b", "m1", "Logs rotate nightly")
    await chat_store.rename_chat(user_id, f"{user_id}-b", "Staging logs")
    await chat_store.append_user_turn(f"{user_id}-other", f"{user_id}-a", "m1", "staging logs")

    found = await chat_store.search(user_id, "staging logs", 10)
    # Both words said in chat a; in chat b, only one said but both in its title: a title that
    # matches ranks above a turn that does (it names what the whole chat is about).
    assert [match.chat_id for match in found] == [f"{user_id}-b", f"{user_id}-a"]
    said = found[1]
    assert said.turn_id is not None and said.role == "user"
    assert said.excerpt and said.excerpt.startswith("Where are the staging logs")
    assert [said.excerpt[start:end] for start, end in said.highlights] == ["staging", "logs"]
    assert await chat_store.search(user_id, "kubernetes", 10) == []
    assert len(await chat_store.search(user_id, "logs", 1)) == 1


def test_title_is_one_short_line() -> None:
    assert title_from("  a\n\tb  ") == "a b"
    long = title_from("word " * 40)
    assert len(long) == 60 and long.endswith("…")


async def test_supabase_with_a_wrong_key_is_unavailable(supabase_url: str, user_id: str) -> None:
    connection = await SupabaseConnection.open(supabase_url, "not-the-service-key")
    try:
        with pytest.raises(Unavailable, match="credentials"):
            await SupabaseChatStore(connection.client).list_chats(user_id)
    finally:
        await connection.aclose()


@pytest.mark.parametrize(
    "query",
    [
        "/rest/v1/chats?select=*&user_id;drop table chats=eq.x",
        "/rest/v1/chats?select=title,(select 1)",
        "/rest/v1/chats?order=chat_id.desc;drop table chats",
        "/rest/v1/schema_migrations?select=*",
    ],
)
async def test_the_rest_stand_in_refuses_what_it_does_not_know(
    supabase_url: str, query: str
) -> None:
    headers = {"apikey": SERVICE_KEY, "Authorization": f"Bearer {SERVICE_KEY}"}
    async with httpx.AsyncClient(base_url=supabase_url, headers=headers) as http:
        response = await http.get(query)
    assert response.status_code in (400, 404)
    assert set(response.json()) == {"code", "message", "details", "hint"}
