"""What is kept of a spoken turn: its question and its recording together, or neither."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import psycopg
import pytest

from allin.errors import NotFound
from allin.services import Services

# A tenth of a second of silence at 16 kHz.
PCM = bytes(3200)


@pytest.fixture
async def refused_engine(services: Services) -> AsyncIterator[str]:
    """An engine name the database refuses to link a recording to: a real failure of the
    `voice_turns` insert, after the question's own insert has succeeded."""
    engine = f"refused-{uuid.uuid4().hex[:8]}"
    function = f"refuse_{engine.replace('-', '_')}"
    with psycopg.connect(services.db.url, autocommit=True) as conn:
        conn.execute(
            f"create function {function}() returns trigger language plpgsql as $$"
            f" begin if new.engine = '{engine}' then raise exception 'refused'; end if;"
            " return new; end $$"
        )
        conn.execute(
            f"create trigger {function} before insert on voice_turns"
            f" for each row execute function {function}()"
        )
    yield engine
    with psycopg.connect(services.db.url, autocommit=True) as conn:
        conn.execute(f"drop trigger {function} on voice_turns")
        conn.execute(f"drop function {function}()")


async def test_a_question_is_stored_with_its_recording(services: Services, user_id: str) -> None:
    chat = f"{user_id}-c"
    question = await services.archive.ask(user_id, chat, "hello", PCM, 16000, "test")
    [voice_turn] = await services.archive.store.of_chat(user_id, chat)
    assert voice_turn.turn_id == question.id and voice_turn.transcript == "hello"
    assert await services.archive.audio(voice_turn)


async def test_a_question_whose_recording_cannot_be_linked_is_not_stored(
    services: Services, user_id: str, refused_engine: str
) -> None:
    chat = f"{user_id}-c"
    with pytest.raises(psycopg.Error, match="refused"):
        await services.archive.ask(user_id, chat, "hello", PCM, 16000, refused_engine)
    assert await services.chats.turns_before(user_id, chat, None, 10) == []
    with pytest.raises(NotFound):
        await services.chats.get_chat(user_id, chat)
    audio = services.settings.data_dir / "blobs" / "audio" / user_id
    assert not any(path.is_file() for path in audio.rglob("*"))
