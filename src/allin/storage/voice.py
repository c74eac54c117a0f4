"""All SQL about voice: the audio of spoken turns, and each chat's Live resumption handle."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel

from allin.storage.db import Connection, Database

# Gemini Live keeps a session resumable for 2 hours after it ends.
LIVE_HANDLE_TTL = timedelta(hours=2)


class VoiceTurn(BaseModel):
    turn_id: int
    user_id: str
    chat_id: str
    audio_path: str
    duration_ms: int
    sample_rate: int
    transcript: str
    engine: str
    created_at: datetime


class VoiceStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self,
        *,
        turn_id: int,
        user_id: str,
        chat_id: str,
        audio_path: str,
        duration_ms: int,
        sample_rate: int,
        transcript: str,
        engine: str,
        within: Connection | None = None,
    ) -> VoiceTurn:
        async with self._db.connection(within) as conn:
            cursor = await conn.execute(
                "insert into voice_turns (turn_id, user_id, chat_id, audio_path, duration_ms,"
                " sample_rate, transcript, engine) values (%s, %s, %s, %s, %s, %s, %s, %s)"
                " on conflict (turn_id) do update set turn_id = excluded.turn_id returning *",
                (
                    turn_id,
                    user_id,
                    chat_id,
                    audio_path,
                    duration_ms,
                    sample_rate,
                    transcript,
                    engine,
                ),
            )
            row = await cursor.fetchone()
        assert row is not None
        return VoiceTurn(**row)

    async def of_chat(self, user_id: str, chat_id: str) -> list[VoiceTurn]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from voice_turns where user_id = %s and chat_id = %s order by turn_id",
                (user_id, chat_id),
            )
            return [VoiceTurn(**row) for row in await cursor.fetchall()]

    async def get(self, user_id: str, chat_id: str, turn_id: int) -> VoiceTurn | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from voice_turns where user_id = %s and chat_id = %s and turn_id = %s",
                (user_id, chat_id, turn_id),
            )
            row = await cursor.fetchone()
        return None if row is None else VoiceTurn(**row)

    async def live_handle(self, user_id: str, chat_id: str) -> str | None:
        """The chat's newest Live resumption handle, if it is still valid."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select handle from voice_sessions where user_id = %s and chat_id = %s"
                " and updated_at > now() - %s",
                (user_id, chat_id, LIVE_HANDLE_TTL),
            )
            row = await cursor.fetchone()
        return None if row is None else str(row["handle"])

    async def keep_live_handle(self, user_id: str, chat_id: str, handle: str) -> None:
        """Keep `handle` as the chat's newest; a chat deleted meanwhile keeps nothing."""
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "insert into voice_sessions (user_id, chat_id, handle)"
                " select %s, %s, %s where exists"
                " (select 1 from chats where user_id = %s and chat_id = %s)"
                " on conflict (user_id, chat_id)"
                " do update set handle = excluded.handle, updated_at = now()",
                (user_id, chat_id, handle, user_id, chat_id),
            )
