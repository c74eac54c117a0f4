"""Turns waiting to be learned from: kept once per answer, read oldest first, forgotten once
learned, and given up after failing a set number of times."""

from __future__ import annotations

import uuid

import pytest

from allin.services import Services
from allin.storage.lessons import LessonStore


@pytest.fixture
def lessons(services: Services) -> LessonStore:
    return LessonStore(services.db)


async def test_a_turn_is_kept_once_and_forgotten_once_learned(
    lessons: LessonStore, user_id: str
) -> None:
    answer_id = uuid.uuid4().int % 2**62
    await lessons.add(user_id, "chat-a", "I use vim.", "ok", answer_id)
    await lessons.add(user_id, "chat-a", "I use vim.", "ok", answer_id)  # its job was retried
    await lessons.add(user_id, "chat-b", "My manager is Dana.", "ok", None)
    first, second = await lessons.oldest(user_id, 10)
    assert (first.said, first.answer_id, second.chat_id) == ("I use vim.", answer_id, "chat-b")
    await lessons.learned(user_id, first.id)
    assert await lessons.oldest(user_id, 10) == [second]


async def test_turns_that_keep_failing_are_given_up(lessons: LessonStore, user_id: str) -> None:
    for said in ("I use vim.", "I use Emacs.", "I use Helix."):
        await lessons.add(user_id, "chat-a", said, "ok", None)
    _, second, third = await lessons.oldest(user_id, 10)
    assert await lessons.failed(user_id, second.id, give_up_after=2) == 0
    # The first batch failed once more; the third turn came after it.
    assert await lessons.failed(user_id, second.id, give_up_after=2) == 2
    assert await lessons.oldest(user_id, 10) == [third]
