"""What resumption keeps in Postgres (migration 0007): per-chat frame seqs and the turns they
announced; with the answers being written (`chat_runs`, written by `storage.runs`), what a
resuming client missed.

These go straight to the database even when chats are stored through Supabase's REST API: they
are written on every streamed token, and the relay between processes needs `LISTEN/NOTIFY`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from allin.storage.chat_records import Turn
from allin.storage.chats import TURN_COLUMNS
from allin.storage.db import Database
from allin.storage.runs import RUN_COLUMNS, RunRow

# The channel `allin_publish` notifies; every process listens to it when relaying is on.
FRAMES_CHANNEL = "allin_frames"


@dataclass(frozen=True)
class Snapshot:
    """A chat's stream after some seq, read at one instant: what a resuming client missed."""

    # The chat's newest seq: everything up to it is reflected in `turns` and `runs`.
    last_seq: int
    turns: list[Turn]
    runs: list[RunRow]


class FrameLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def publish(
        self,
        user_id: str,
        chat_id: str,
        *,
        turn_id: int | None = None,
        run: int | None = None,
        text: str = "",
        relay: dict[str, Any] | None = None,
    ) -> int | None:
        """The seq for one frame of the chat (see `allin_publish`); None if the chat is gone. A
        frame that is also kept on a turn (a question's failure, what an answer taught memory)
        is published by the chat store (`ChatStore.mark_turn`), in the mark's transaction."""
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "select allin_publish(%s, %s, %s, %s, %s, %s) as seq",
                (user_id, chat_id, turn_id, run, text, Jsonb(relay) if relay else None),
            )
            row = await cursor.fetchone()
        return None if row is None or row["seq"] is None else int(row["seq"])

    async def snapshot_after(self, user_id: str, chat_id: str, seq: int) -> Snapshot:
        """The turns announced after frame `seq` (in announcement order) and the chat's answers
        being written, from one snapshot so that no frame falls between the two reads."""
        async with self._db.transaction() as conn:
            await conn.execute("set transaction isolation level repeatable read")
            cursor = await conn.execute(
                "select last_seq from chats where user_id = %s and chat_id = %s",
                (user_id, chat_id),
            )
            chat = await cursor.fetchone()
            cursor = await conn.execute(
                f"select {TURN_COLUMNS} from chat_turns where user_id = %s and chat_id = %s"
                " and (seq > %s or (metadata->'failed'->>'seq')::bigint > %s"
                " or (metadata->'memory_updated'->>'seq')::bigint > %s) order by seq",
                (user_id, chat_id, seq, seq, seq),
            )
            turns = [Turn(**row) for row in await cursor.fetchall()]
            cursor = await conn.execute(
                f"select {RUN_COLUMNS} from chat_runs"
                " where user_id = %s and chat_id = %s order by question_id",
                (user_id, chat_id),
            )
            runs = [RunRow(**row) for row in await cursor.fetchall()]
        return Snapshot(int(chat["last_seq"]) if chat else 0, turns, runs)

    async def answer_text(self, question_id: int, answer_id: int, offset: int, length: int) -> str:
        """Part of an answer: from the run writing it, or from the answer once it is stored."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select coalesce("
                " (select partial from chat_runs where question_id = %s),"
                " (select content from chat_turns where id = %s), '') as text",
                (question_id, answer_id),
            )
            row = await cursor.fetchone()
        text = str(row["text"]) if row else ""
        return text[offset : offset + length]

    async def turn(self, turn_id: int) -> Turn | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {TURN_COLUMNS} from chat_turns where id = %s", (turn_id,)
            )
            row = await cursor.fetchone()
        return Turn(**row) if row else None
