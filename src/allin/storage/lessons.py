"""All SQL about turns waiting to be learned from (`memory_lessons`): the learning job's queue
of work, per user, in the order the turns ended."""

from __future__ import annotations

from allin.memory.memory_records import Lesson
from allin.storage.db import Database


class LessonStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, user_id: str, chat_id: str, said: str, answer: str, answer_id: int | None
    ) -> None:
        """Keep a finished turn until it is learned from (once: a turn already kept is not kept
        again)."""
        async with self._db.connection() as conn:
            await conn.execute(
                "insert into memory_lessons (user_id, chat_id, said, answer, answer_id)"
                " values (%s, %s, %s, %s, %s) on conflict (answer_id) do nothing",
                (user_id, chat_id, said, answer, answer_id),
            )

    async def oldest(self, user_id: str, limit: int) -> list[Lesson]:
        """The user's first `limit` lessons, oldest first."""
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "select id, chat_id, said, answer, answer_id from memory_lessons"
                " where user_id = %s order by id limit %s",
                (user_id, limit),
            )
            return [Lesson(**row) for row in await cursor.fetchall()]

    async def learned(self, user_id: str, through_id: int) -> None:
        """The user's lessons up to `through_id` are learned: they wait no more."""
        async with self._db.connection() as conn:
            await conn.execute(
                "delete from memory_lessons where user_id = %s and id <= %s",
                (user_id, through_id),
            )

    async def failed(self, user_id: str, through_id: int, give_up_after: int) -> int:
        """Learning the user's lessons up to `through_id` failed once more: those that failed
        `give_up_after` times are dropped. Returns how many were."""
        async with self._db.transaction() as conn:
            await conn.execute(
                "update memory_lessons set attempts = attempts + 1 where user_id = %s and id <= %s",
                (user_id, through_id),
            )
            cursor = await conn.execute(
                "delete from memory_lessons where user_id = %s and id <= %s and attempts >= %s",
                (user_id, through_id, give_up_after),
            )
            return cursor.rowcount

    async def users_waiting(self, older_than_s: float) -> list[str]:
        """Users with a lesson kept more than `older_than_s` ago (whose job may be lost)."""
        async with self._db.connection() as conn:
            cursor = await conn.execute(
                "select distinct user_id from memory_lessons"
                " where created_at < now() - make_interval(secs => %s)",
                (older_than_s,),
            )
            return [row["user_id"] for row in await cursor.fetchall()]
