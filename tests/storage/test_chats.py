from __future__ import annotations

import pytest

from allin.errors import BadRequest, Conflict, NotFound
from allin.services import Services
from allin.storage.chat_store import title_from


async def test_first_message_creates_the_chat_with_a_title(
    services: Services, user_id: str
) -> None:
    turn, is_new = await services.chats.append_user_turn(
        user_id, f"{user_id}-c", "m1", "How do I\n run tests?"
    )
    assert is_new and turn.role == "user" and turn.client_msg_id == "m1"
    chat = await services.chats.get_chat(user_id, f"{user_id}-c")
    assert chat.title == "How do I run tests?"


async def test_retried_message_is_stored_once(services: Services, user_id: str) -> None:
    chat = f"{user_id}-c"
    first, _ = await services.chats.append_user_turn(user_id, chat, "m1", "hello")
    again, is_new = await services.chats.append_user_turn(user_id, chat, "m1", "hello")
    assert not is_new and again.id == first.id
    assert len(await services.chats.turns_before(user_id, chat, None, 10)) == 1


async def test_reusing_a_message_id_for_other_text_is_refused(
    services: Services, user_id: str
) -> None:
    chat = f"{user_id}-c"
    await services.chats.append_user_turn(user_id, chat, "m1", "hello")
    with pytest.raises(BadRequest, match="already used"):
        await services.chats.append_user_turn(user_id, chat, "m1", "something else")


async def test_chat_ids_belong_to_their_user(services: Services, user_id: str) -> None:
    chat = "same-name"
    await services.chats.append_user_turn(user_id, chat, "m1", "mine")
    await services.chats.append_user_turn(f"{user_id}-other", chat, "m1", "theirs")
    with pytest.raises(NotFound):
        await services.chats.delete_chat("nobody", chat)
    assert [t.content for t in await services.chats.turns_before(user_id, chat, None, 10)] == [
        "mine"
    ]
    other = await services.chats.turns_before(f"{user_id}-other", chat, None, 10)
    assert [t.content for t in other] == ["theirs"]


async def test_one_answer_per_question(services: Services, user_id: str) -> None:
    question, _ = await services.chats.append_user_turn(user_id, f"{user_id}-c", "m1", "q")
    first_id = await services.chats.reserve_turn_id()
    first = await services.chats.append_assistant_turn(first_id, question, "a1", {"model": "x"})
    second_id = await services.chats.reserve_turn_id()
    second = await services.chats.append_assistant_turn(second_id, question, "a2", {})
    assert second == first and first.reply_to == question.id and first.id == first_id
    assert await services.chats.answer_to(question) == first


async def test_turns_page_backwards_oldest_first(services: Services, user_id: str) -> None:
    chat = f"{user_id}-c"
    for n in range(5):
        await services.chats.append_user_turn(user_id, chat, f"m{n}", f"message {n}")
    newest = await services.chats.turns_before(user_id, chat, None, 2)
    assert [t.content for t in newest] == ["message 3", "message 4"]
    older = await services.chats.turns_before(user_id, chat, newest[0].id, 10)
    assert [t.content for t in older] == ["message 0", "message 1", "message 2"]


async def test_create_rename_delete(services: Services, user_id: str) -> None:
    chat = f"{user_id}-c"
    created = await services.chats.create_chat(user_id, chat, None)
    assert created.title is None
    with pytest.raises(Conflict):
        await services.chats.create_chat(user_id, chat, None)
    assert (await services.chats.rename_chat(user_id, chat, "Renamed")).title == "Renamed"
    await services.chats.append_user_turn(user_id, chat, "m1", "first words")
    assert (await services.chats.get_chat(user_id, chat)).title == "Renamed"
    await services.chats.delete_chat(user_id, chat)
    with pytest.raises(NotFound):
        await services.chats.get_chat(user_id, chat)
    assert await services.chats.turns_before(user_id, chat, None, 10) == []


def test_title_is_one_short_line() -> None:
    assert title_from("  a\n\tb  ") == "a b"
    long = title_from("word " * 40)
    assert len(long) == 60 and long.endswith("…")
