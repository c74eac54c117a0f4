"""The chat store over Supabase's REST API (PostgREST) with the service key, for deployments that
reach their Supabase database only over HTTPS. Single-statement operations use the table API;
the atomic ones call the functions of migration 0004 (`/rest/v1/rpc/<name>`)."""

from __future__ import annotations

import logging
from typing import Any

import httpx
from postgrest import APIError, AsyncQueryRequestBuilder, AsyncSingleRequestBuilder
from supabase import AsyncClient

from allin.errors import AllinError, BadRequest, Conflict, Internal, NotFound, Unavailable
from allin.storage.chat_records import Chat, ChatMatch, Turn, TurnMark
from allin.storage.chat_store import title_from

logger = logging.getLogger(__name__)

_TURN_COLUMNS = ",".join(Turn.model_fields)
# PostgREST's codes for a refused key; `401`/`403` when a gateway answered without its JSON.
_CREDENTIALS_REFUSED = {"PGRST301", "PGRST302", "42501", "401", "403"}


def _no_chat(chat_id: str) -> NotFound:
    return NotFound(f"chat {chat_id!r} does not exist")


def _as_allin_error(exc: APIError) -> AllinError:
    """PostgREST's error (a Postgres SQLSTATE, a `PGRST…` code, or the HTTP status when the
    body was not PostgREST's) as the error the Postgres store would raise in its place."""
    code = exc.code or ""
    message = exc.message or "the chat store refused the request"
    if code == "23505":
        return Conflict(message)
    if code.startswith("22") or code in ("23502", "23514"):
        return BadRequest(message)
    if code in _CREDENTIALS_REFUSED:
        logger.error("Supabase's REST API refused the service key: %s", message)
        return Unavailable("the chat store refused the server's credentials")
    # HTTP 5xx, and SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention).
    if code.startswith(("5", "08")) or code in ("PGRST000", "PGRST001", "PGRST002"):
        return Unavailable("the chat store is unavailable; try again shortly")
    logger.error("unexpected error from Supabase's REST API: %r", exc)
    return Internal("something went wrong on the server; it has been logged")


async def _execute(query: AsyncQueryRequestBuilder | AsyncSingleRequestBuilder) -> Any:
    """The response's data, or the request's failure as one of our errors."""
    try:
        response = await query.execute()
    except APIError as exc:
        raise _as_allin_error(exc) from exc
    except httpx.TransportError as exc:
        raise Unavailable("the chat store is unreachable; try again shortly") from exc
    return response.data


class SupabaseChatStore:
    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list_chats(self, user_id: str) -> list[Chat]:
        rows = await _execute(
            self._client.table("chats")
            .select("*")
            .eq("user_id", user_id)
            .order("updated_at", desc=True)
            .order("chat_id")
        )
        return [Chat(**row) for row in rows]

    async def get_chat(self, user_id: str, chat_id: str) -> Chat:
        rows = await _execute(
            self._client.table("chats")
            .select("*")
            .eq("user_id", user_id)
            .eq("chat_id", chat_id)
            .limit(1)
        )
        if not rows:
            raise _no_chat(chat_id)
        return Chat(**rows[0])

    async def create_chat(self, user_id: str, chat_id: str, title: str | None) -> Chat:
        try:
            rows = await _execute(
                self._client.table("chats").insert(
                    {"user_id": user_id, "chat_id": chat_id, "title": title}
                )
            )
        except Conflict:
            raise Conflict(f"chat {chat_id!r} already exists") from None
        return Chat(**rows[0])

    async def rename_chat(self, user_id: str, chat_id: str, title: str) -> Chat:
        rows = await _execute(
            self._client.table("chats")
            .update({"title": title})
            .eq("user_id", user_id)
            .eq("chat_id", chat_id)
        )
        if not rows:
            raise _no_chat(chat_id)
        return Chat(**rows[0])

    async def delete_chat(self, user_id: str, chat_id: str) -> None:
        # Returns the deleted rows, so a missing chat is told apart from a deleted one.
        rows = await _execute(
            self._client.table("chats").delete().eq("user_id", user_id).eq("chat_id", chat_id)
        )
        if not rows:
            raise _no_chat(chat_id)

    async def append_user_turn(
        self, user_id: str, chat_id: str, client_msg_id: str, content: str
    ) -> tuple[Turn, bool]:
        result = await _execute(
            self._client.rpc(
                "allin_append_user_turn",
                {
                    "p_user_id": user_id,
                    "p_chat_id": chat_id,
                    "p_client_msg_id": client_msg_id,
                    "p_content": content,
                    "p_title": title_from(content),
                },
            )
        )
        turn = Turn(**result["turn"])
        if not result["is_new"] and turn.content != content:
            raise BadRequest(
                f"message id {client_msg_id!r} was already used for a different message"
            )
        return turn, bool(result["is_new"])

    async def reserve_turn_id(self) -> int:
        return int(await _execute(self._client.rpc("allin_reserve_turn_id")))

    async def append_assistant_turn(
        self, turn_id: int, question: Turn, content: str, metadata: dict[str, Any]
    ) -> Turn:
        stored = await _execute(
            self._client.rpc(
                "allin_append_assistant_turn",
                {
                    "p_turn_id": turn_id,
                    "p_user_id": question.user_id,
                    "p_chat_id": question.chat_id,
                    "p_reply_to": question.id,
                    "p_content": content,
                    "p_metadata": metadata,
                },
            )
        )
        return Turn(**stored)

    async def answer_to(self, question: Turn) -> Turn | None:
        rows = await _execute(
            self._client.table("chat_turns")
            .select(_TURN_COLUMNS)
            .eq("reply_to", question.id)
            .limit(1)
        )
        return Turn(**rows[0]) if rows else None

    async def mark_turn(self, mark: TurnMark, relay: dict[str, Any] | None) -> int | None:
        seq = await _execute(
            self._client.rpc(
                "allin_mark_turn",
                {
                    "p_turn_id": mark.turn_id,
                    "p_key": mark.key,
                    "p_mark": mark.value,
                    "p_relay": relay,
                },
            )
        )
        return None if seq is None else int(seq)

    async def unmark_turn(self, turn_id: int, key: str) -> None:
        await _execute(self._client.rpc("allin_unmark_turn", {"p_turn_id": turn_id, "p_key": key}))

    async def turns_before(
        self, user_id: str, chat_id: str, before: int | None, limit: int
    ) -> list[Turn]:
        query = (
            self._client.table("chat_turns")
            .select(_TURN_COLUMNS)
            .eq("user_id", user_id)
            .eq("chat_id", chat_id)
        )
        if before is not None:
            query = query.lt("id", before)
        rows = await _execute(query.order("id", desc=True).limit(limit))
        return [Turn(**row) for row in reversed(rows)]

    async def search(self, user_id: str, query: str, limit: int) -> list[ChatMatch]:
        rows = await _execute(
            self._client.rpc(
                "allin_search_chats", {"p_user_id": user_id, "p_query": query, "p_limit": limit}
            )
        )
        return [ChatMatch.of_row(row) for row in rows]
