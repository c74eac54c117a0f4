"""The answers being written, one row per question in `chat_runs` (migration 0007): which process
writes each, its text so far (written with each token by `allin_publish`), and the heartbeats that
tell a live run from one whose process died."""

from __future__ import annotations

from dataclasses import dataclass

from allin.storage.chat_records import Turn
from allin.storage.db import Database

# Requests to another process, such as "cancel the run you own".
CONTROL_CHANNEL = "allin_control"

RUN_COLUMNS = "question_id, user_id, chat_id, answer_id, partial, partial_seq, worker"


@dataclass(frozen=True)
class RunRow:
    question_id: int
    user_id: str
    chat_id: str
    answer_id: int
    partial: str
    partial_seq: int | None
    worker: str


class RunLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def claim(self, question: Turn, answer_id: int, worker: str) -> bool:
        """Become the one process answering `question`; False if another live one is."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "insert into chat_runs (question_id, user_id, chat_id, answer_id, worker)"
                " values (%s, %s, %s, %s, %s) on conflict (question_id) do nothing"
                " returning question_id",
                (question.id, question.user_id, question.chat_id, answer_id, worker),
            )
            return await cursor.fetchone() is not None

    async def end(self, question_id: int) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute("delete from chat_runs where question_id = %s", (question_id,))

    async def find(self, question_id: int) -> RunRow | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {RUN_COLUMNS} from chat_runs where question_id = %s", (question_id,)
            )
            row = await cursor.fetchone()
        return RunRow(**row) if row else None

    async def of_chat(self, user_id: str, chat_id: str) -> list[RunRow]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {RUN_COLUMNS} from chat_runs where user_id = %s and chat_id = %s"
                " order by question_id",
                (user_id, chat_id),
            )
            return [RunRow(**row) for row in await cursor.fetchall()]

    async def heartbeat(self, question_ids: list[int]) -> None:
        """This process is still answering these questions."""
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "update chat_runs set heartbeat_at = now() where question_id = any(%s)",
                (question_ids,),
            )

    async def abandoned(self, stale_after_s: float) -> list[RunRow]:
        """Runs whose process stopped sending heartbeats: it died or lost the database."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {RUN_COLUMNS} from chat_runs"
                " where heartbeat_at < now() - make_interval(secs => %s) order by question_id",
                (stale_after_s,),
            )
            return [RunRow(**row) for row in await cursor.fetchall()]

    async def take_over(self, question_id: int, worker: str, stale_after_s: float) -> bool:
        """Take an abandoned run, so that one process alone stores what it wrote."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "update chat_runs set worker = %s, heartbeat_at = now()"
                " where question_id = %s and heartbeat_at < now() - make_interval(secs => %s)"
                " returning question_id",
                (worker, question_id, stale_after_s),
            )
            return await cursor.fetchone() is not None

    async def ask_owner_to_cancel(self, question_id: int) -> None:
        """Ask the process writing the answer to `question_id` to stop (its relay listens)."""
        async with self._db.pool.connection() as conn:
            await conn.execute(
                "select pg_notify(%s, %s)", (CONTROL_CHANNEL, f"cancel {question_id}")
            )
