"""The chat store on Postgres: all SQL about chats and their turns, scoped by the user's id."""

from __future__ import annotations

from typing import Any

from psycopg.errors import UniqueViolation
from psycopg.types.json import Jsonb

from allin.errors import BadRequest, Conflict, NotFound
from allin.storage.chat_records import Chat, ChatMatch, Turn, TurnMark
from allin.storage.chat_store import title_from
from allin.storage.db import Connection, Database

TURN_COLUMNS = (
    "id, user_id, chat_id, role, content, created_at, client_msg_id, reply_to, metadata, seq"
)


def _no_chat(chat_id: str) -> NotFound:
    return NotFound(f"chat {chat_id!r} does not exist")


class PostgresChatStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def list_chats(self, user_id: str) -> list[Chat]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from chats where user_id = %s order by updated_at desc, chat_id",
                (user_id,),
            )
            return [Chat(**row) for row in await cursor.fetchall()]

    async def get_chat(self, user_id: str, chat_id: str) -> Chat:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from chats where user_id = %s and chat_id = %s", (user_id, chat_id)
            )
            row = await cursor.fetchone()
        if row is None:
            raise _no_chat(chat_id)
        return Chat(**row)

    async def create_chat(self, user_id: str, chat_id: str, title: str | None) -> Chat:
        try:
            async with self._db.pool.connection() as conn:
                cursor = await conn.execute(
                    "insert into chats (user_id, chat_id, title) values (%s, %s, %s) returning *",
                    (user_id, chat_id, title),
                )
                row = await cursor.fetchone()
        except UniqueViolation:
            raise Conflict(f"chat {chat_id!r} already exists") from None
        assert row is not None
        return Chat(**row)

    async def rename_chat(self, user_id: str, chat_id: str, title: str) -> Chat:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "update chats set title = %s where user_id = %s and chat_id = %s returning *",
                (title, user_id, chat_id),
            )
            row = await cursor.fetchone()
        if row is None:
            raise _no_chat(chat_id)
        return Chat(**row)

    async def delete_chat(self, user_id: str, chat_id: str) -> None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "delete from chats where user_id = %s and chat_id = %s", (user_id, chat_id)
            )
        if cursor.rowcount == 0:
            raise _no_chat(chat_id)

    async def append_user_turn(
        self,
        user_id: str,
        chat_id: str,
        client_msg_id: str,
        content: str,
        *,
        within: Connection | None = None,
    ) -> tuple[Turn, bool]:
        """See `ChatStore`; `within`: a caller's transaction this write is part of."""
        async with self._db.transaction(within) as conn:
            await conn.execute(
                "insert into chats (user_id, chat_id, title) values (%s, %s, %s)"
                " on conflict (user_id, chat_id) do nothing",
                (user_id, chat_id, title_from(content)),
            )
            cursor = await conn.execute(
                "insert into chat_turns (user_id, chat_id, role, content, client_msg_id)"
                " values (%s, %s, 'user', %s, %s)"
                " on conflict (user_id, chat_id, client_msg_id) do nothing"
                f" returning {TURN_COLUMNS}",
                (user_id, chat_id, content, client_msg_id),
            )
            row = await cursor.fetchone()
            if row is None:
                cursor = await conn.execute(
                    f"select {TURN_COLUMNS} from chat_turns"
                    " where user_id = %s and chat_id = %s and client_msg_id = %s",
                    (user_id, chat_id, client_msg_id),
                )
                existing = Turn(**(await cursor.fetchone() or {}))
                if existing.content != content:
                    raise BadRequest(
                        f"message id {client_msg_id!r} was already used for a different message"
                    )
                return existing, False
            await conn.execute(
                "update chats set updated_at = now(), title = coalesce(title, %s)"
                " where user_id = %s and chat_id = %s",
                (title_from(content), user_id, chat_id),
            )
            return Turn(**row), True

    async def reserve_turn_id(self) -> int:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select nextval(pg_get_serial_sequence('chat_turns', 'id')) as id"
            )
            row = await cursor.fetchone()
        assert row is not None
        return int(row["id"])

    async def append_assistant_turn(
        self, turn_id: int, question: Turn, content: str, metadata: dict[str, Any]
    ) -> Turn:
        async with self._db.transaction() as conn:
            cursor = await conn.execute(
                "insert into chat_turns (id, user_id, chat_id, role, content, reply_to, metadata)"
                " values (%s, %s, %s, 'assistant', %s, %s, %s)"
                f" on conflict (reply_to) do nothing returning {TURN_COLUMNS}",
                (
                    turn_id,
                    question.user_id,
                    question.chat_id,
                    content,
                    question.id,
                    Jsonb(metadata),
                ),
            )
            row = await cursor.fetchone()
            if row is None:
                existing = await self.answer_to(question)
                assert existing is not None
                return existing
            await conn.execute(
                "update chats set updated_at = now() where user_id = %s and chat_id = %s",
                (question.user_id, question.chat_id),
            )
            return Turn(**row)

    async def answer_to(self, question: Turn) -> Turn | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {TURN_COLUMNS} from chat_turns where reply_to = %s", (question.id,)
            )
            row = await cursor.fetchone()
        return Turn(**row) if row else None

    async def mark_turn(self, mark: TurnMark, relay: dict[str, Any] | None) -> int | None:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select allin_mark_turn(%s, %s, %s, %s) as seq",
                (mark.turn_id, mark.key, Jsonb(mark.value), Jsonb(relay) if relay else None),
            )
            row = await cursor.fetchone()
        return None if row is None or row["seq"] is None else int(row["seq"])

    async def unmark_turn(self, turn_id: int, key: str) -> None:
        async with self._db.pool.connection() as conn:
            await conn.execute("select allin_unmark_turn(%s, %s)", (turn_id, key))

    async def turns_before(
        self, user_id: str, chat_id: str, before: int | None, limit: int
    ) -> list[Turn]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                f"select {TURN_COLUMNS} from chat_turns"
                " where user_id = %s and chat_id = %s and (%s::bigint is null or id < %s)"
                " order by id desc limit %s",
                (user_id, chat_id, before, before, limit),
            )
            rows = await cursor.fetchall()
        return [Turn(**row) for row in reversed(rows)]

    async def search(self, user_id: str, query: str, limit: int) -> list[ChatMatch]:
        async with self._db.pool.connection() as conn:
            cursor = await conn.execute(
                "select * from allin_search_chats(%s, %s, %s)", (user_id, query, limit)
            )
            return [ChatMatch.of_row(row) for row in await cursor.fetchall()]
