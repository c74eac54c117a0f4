"""The contract for storing chats and their turns, whatever holds them: Postgres directly
(`PostgresChatStore`, the default) or Supabase's REST API where there is no database access."""

from __future__ import annotations

from typing import Any, Protocol

from allin.storage.chat_records import Chat, ChatMatch, Turn, TurnMark

TITLE_CHARS = 60


def title_from(message: str) -> str:
    """A chat's title: the start of its first message, on one line."""
    flat = " ".join(message.split())
    return flat if len(flat) <= TITLE_CHARS else flat[: TITLE_CHARS - 1].rstrip() + "…"


class ChatStore(Protocol):
    """Every operation is scoped by the user's id; a chat id names a chat within its user's chats.
    Missing chats raise `NotFound`; a taken chat id `Conflict`."""

    async def list_chats(self, user_id: str) -> list[Chat]:
        """The user's chats, newest activity first."""
        ...

    async def get_chat(self, user_id: str, chat_id: str) -> Chat: ...

    async def create_chat(self, user_id: str, chat_id: str, title: str | None) -> Chat: ...

    async def rename_chat(self, user_id: str, chat_id: str, title: str) -> Chat: ...

    async def delete_chat(self, user_id: str, chat_id: str) -> None:
        """Delete the chat and all its turns."""
        ...

    async def append_user_turn(
        self, user_id: str, chat_id: str, client_msg_id: str, content: str
    ) -> tuple[Turn, bool]:
        """Store a user message, creating its chat (titled from the message) if needed.

        Returns the stored turn and whether it is new: a retry with the same `client_msg_id`
        gets the turn stored the first time; the same id with other content is a `BadRequest`.
        """
        ...

    async def reserve_turn_id(self) -> int:
        """An id for an answer not yet written, so streamed tokens can name the turn they build."""
        ...

    async def append_assistant_turn(
        self, turn_id: int, question: Turn, content: str, metadata: dict[str, Any]
    ) -> Turn:
        """Store the answer to `question`; if one is stored already, keep and return that one."""
        ...

    async def answer_to(self, question: Turn) -> Turn | None: ...

    async def mark_turn(self, mark: TurnMark, relay: dict[str, Any] | None) -> int | None:
        """Publish a frame about a turn on its chat (`relay`: the frame for other processes, when
        relaying) and keep `mark` on the turn with the frame's seq, both or neither. The seq;
        None if the turn or its chat is gone."""
        ...

    async def unmark_turn(self, turn_id: int, key: str) -> None:
        """Drop what a frame said about the turn (a question answered after all)."""
        ...

    async def turns_before(
        self, user_id: str, chat_id: str, before: int | None, limit: int
    ) -> list[Turn]:
        """Up to `limit` turns older than turn id `before` (newest when None), oldest first."""
        ...

    async def search(self, user_id: str, query: str, limit: int) -> list[ChatMatch]:
        """The user's chats whose turns or title match `query` (web-search syntax), best first."""
        ...
