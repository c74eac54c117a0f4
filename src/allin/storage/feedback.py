"""All SQL about feedback on answers (`turn_feedback`): a user's rating of their own answers, and
every user's feedback for admins."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from allin.errors import BadRequest, NotFound
from allin.storage.db import Database

Rating = Literal["up", "down"]
_SCORES: dict[str, int] = {"up": 1, "down": -1}
_RATINGS: dict[int, Rating] = {1: "up", -1: "down"}


class TurnRating(BaseModel):
    """The feedback shown with a turn in its chat's history."""

    rating: Rating
    comment: str | None


class Feedback(TurnRating):
    turn_id: int
    chat_id: str
    created_at: datetime
    updated_at: datetime


class FeedbackEntry(Feedback):
    """One user's feedback with the answer it rates and the question before it (for admins)."""

    user_id: str
    answer: str
    question: str | None


def _rated(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "rating": _RATINGS[int(row["rating"])]}


class FeedbackStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def rate(
        self, user_id: str, chat_id: str, turn_id: int, rating: Rating, comment: str | None
    ) -> Feedback:
        """Set the user's feedback on an answer of theirs in that chat, replacing any before."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "insert into turn_feedback (turn_id, user_id, rating, comment)"
                " select id, user_id, %s, %s from chat_turns"
                " where id = %s and user_id = %s and chat_id = %s and role = 'assistant'"
                " on conflict (turn_id, user_id) do update"
                " set rating = excluded.rating, comment = excluded.comment, updated_at = now()"
                " returning turn_id, rating, comment, created_at, updated_at",
                (_SCORES[rating], comment, turn_id, user_id, chat_id),
            )
            row = await cursor.fetchone()
        if row is None:
            await self._refuse(user_id, chat_id, turn_id)
        assert row is not None
        return Feedback(**_rated(row), chat_id=chat_id)

    async def withdraw(self, user_id: str, chat_id: str, turn_id: int) -> None:
        """Delete the user's feedback on an answer of theirs; nothing to delete is no error."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "delete from turn_feedback f using chat_turns t"
                " where f.turn_id = %s and f.user_id = %s"
                " and t.id = f.turn_id and t.user_id = %s and t.chat_id = %s",
                (turn_id, user_id, user_id, chat_id),
            )
        if cursor.rowcount == 0:
            await self._refuse(user_id, chat_id, turn_id, allow_answer=True)

    async def _refuse(
        self, user_id: str, chat_id: str, turn_id: int, *, allow_answer: bool = False
    ) -> None:
        """Why feedback on this turn was not written: another user's turn is as missing as a
        turn that does not exist."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select role from chat_turns where id = %s and user_id = %s and chat_id = %s",
                (turn_id, user_id, chat_id),
            )
            row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"turn {turn_id} is not an answer in chat {chat_id!r}")
        if row["role"] != "assistant":
            raise BadRequest(f"turn {turn_id} is a question: feedback is given on answers")
        if not allow_answer:
            raise NotFound(f"turn {turn_id} is not an answer in chat {chat_id!r}")

    async def of_turns(self, user_id: str, turn_ids: Iterable[int]) -> dict[int, TurnRating]:
        """The user's feedback on these turns, by turn id (turns without any are left out)."""
        ids = list(turn_ids)
        if not ids:
            return {}
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select turn_id, rating, comment from turn_feedback"
                " where user_id = %s and turn_id = any(%s)",
                (user_id, ids),
            )
            rows = await cursor.fetchall()
        return {row["turn_id"]: TurnRating(**_rated(row)) for row in rows}

    async def all(
        self, *, since: datetime | None, rating: Rating | None, limit: int
    ) -> list[FeedbackEntry]:
        """Every user's feedback, newest first, with the answer and its question."""
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select f.turn_id, f.user_id, a.chat_id, f.rating, f.comment, f.created_at,"
                " f.updated_at, a.content as answer, q.content as question"
                " from turn_feedback f"
                " join chat_turns a on a.id = f.turn_id"
                " left join chat_turns q on q.id = a.reply_to"
                " where (%s::timestamptz is null or f.updated_at >= %s)"
                " and (%s::smallint is null or f.rating = %s)"
                " order by f.updated_at desc, f.turn_id desc limit %s",
                (since, since, _SCORES.get(rating or ""), _SCORES.get(rating or ""), limit),
            )
            rows = await cursor.fetchall()
        return [FeedbackEntry(**_rated(row)) for row in rows]
