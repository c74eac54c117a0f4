"""A user's chats as the API offers them: work that spans several stores (a chat's turns, their
feedback, the audio of its spoken turns) done in one place rather than in the routes."""

from __future__ import annotations

from dataclasses import dataclass

from allin.errors import BadRequest
from allin.storage.chat_records import Turn
from allin.storage.chat_store import ChatStore
from allin.storage.feedback import FeedbackStore, TurnRating
from allin.voice.archive import VoiceArchive


@dataclass(frozen=True, slots=True)
class HistoryPage:
    turns: list[Turn]  # oldest first
    ratings: dict[int, TurnRating]  # the user's feedback, by answer id
    next_before: int | None  # the id to page back from; None at the chat's start


class ChatService:
    def __init__(
        self, chats: ChatStore, archive: VoiceArchive, feedback: FeedbackStore, page_max: int
    ) -> None:
        self._chats = chats
        self._archive = archive
        self._feedback = feedback
        self._page_max = page_max

    async def history(
        self, user_id: str, chat_id: str, before: int | None, limit: int
    ) -> HistoryPage:
        if limit > self._page_max:
            raise BadRequest(f"limit must be at most {self._page_max}")
        await self._chats.get_chat(user_id, chat_id)
        # One extra row tells whether an older page exists without a second query.
        turns = await self._chats.turns_before(user_id, chat_id, before, limit + 1)
        has_more = len(turns) > limit
        page = turns[1:] if has_more else turns
        ratings = await self._feedback.of_turns(
            user_id, [turn.id for turn in page if turn.role == "assistant"]
        )
        return HistoryPage(page, ratings, page[0].id if has_more else None)

    async def delete(self, user_id: str, chat_id: str) -> None:
        """The chat, its turns, and the audio of its spoken turns (deleted after the rows, which
        go with the chat: a failure then leaves unreachable files, never a turn without audio)."""
        audio = await self._archive.audio_paths(user_id, chat_id)
        await self._chats.delete_chat(user_id, chat_id)
        for path in audio:
            await self._archive.forget_audio(path)
