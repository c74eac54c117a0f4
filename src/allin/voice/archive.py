"""Keeps what was said aloud: the audio in the blob store (bucket `audio`), and a `voice_turns`
row linking it to its chat turn."""

from __future__ import annotations

import logging
import uuid

from allin.storage.blobs import BlobStore
from allin.storage.chat_records import Turn
from allin.storage.chats import PostgresChatStore
from allin.storage.db import Connection, Database
from allin.storage.voice import VoiceStore, VoiceTurn
from allin.voice.audio import duration_ms, to_wav

logger = logging.getLogger(__name__)

AUDIO_BUCKET = "audio"


def audio_path(user_id: str, chat_id: str, name: str) -> str:
    return f"{user_id}/{chat_id}/{name}.wav"


class VoiceArchive:
    """Writes spoken questions to Postgres directly, whatever `ALLIN_CHAT_STORE` says: a question
    and the link to its recording are one transaction, which Supabase's REST API cannot share.
    Voice is off when chats are stored through it (`voice/registry.py`)."""

    def __init__(self, db: Database, blobs: BlobStore) -> None:
        self._db = db
        self._blobs = blobs
        self.store = VoiceStore(db)
        self._questions = PostgresChatStore(db)

    async def ask(
        self, user_id: str, chat_id: str, text: str, pcm: bytes, sample_rate: int, engine: str
    ) -> Turn:
        """Store a spoken question whole or not at all: its recording, the question (with a
        message id of its own: every recording is a new question), and their link."""
        message_id = f"voice-{uuid.uuid4().hex}"
        path = audio_path(user_id, chat_id, message_id)
        await self.put_audio(path, pcm, sample_rate)
        try:
            async with self._db.transaction() as conn:
                question, _ = await self._questions.append_user_turn(
                    user_id, chat_id, message_id, text, within=conn
                )
                await self.link(question, path, pcm, sample_rate, engine, within=conn)
        except BaseException:
            await self.forget_audio(path)
            raise
        return question

    async def put_audio(self, path: str, pcm: bytes, sample_rate: int) -> None:
        await self._blobs.put(AUDIO_BUCKET, path, to_wav(pcm, sample_rate), "audio/wav")

    async def forget_audio(self, path: str) -> None:
        """Clean-up after a failure: never raises (the failure it follows is what matters)."""
        try:
            await self._blobs.delete(AUDIO_BUCKET, path)
        except Exception as exc:
            logger.warning("could not delete audio %s: %s", path, exc)

    async def link(
        self,
        turn: Turn,
        path: str,
        pcm: bytes,
        sample_rate: int,
        engine: str,
        *,
        within: Connection | None = None,
    ) -> VoiceTurn:
        return await self.store.add(
            turn_id=turn.id,
            user_id=turn.user_id,
            chat_id=turn.chat_id,
            audio_path=path,
            duration_ms=duration_ms(pcm, sample_rate),
            sample_rate=sample_rate,
            transcript=turn.content,
            engine=engine,
            within=within,
        )

    async def keep(self, turn: Turn, pcm: bytes, sample_rate: int, engine: str) -> VoiceTurn:
        """Store the audio of a turn that is stored already (an answer)."""
        path = audio_path(turn.user_id, turn.chat_id, f"turn-{turn.id}")
        await self.put_audio(path, pcm, sample_rate)
        try:
            return await self.link(turn, path, pcm, sample_rate, engine)
        except BaseException:
            await self.forget_audio(path)
            raise

    async def audio(self, voice_turn: VoiceTurn) -> bytes:
        return await self._blobs.get(AUDIO_BUCKET, voice_turn.audio_path)

    async def audio_paths(self, user_id: str, chat_id: str) -> list[str]:
        return [turn.audio_path for turn in await self.store.of_chat(user_id, chat_id)]
