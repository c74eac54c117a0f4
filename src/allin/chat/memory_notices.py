"""Tells a chat that an answer's turn taught Allin something about the user: a `memory_updated`
frame on the chat's stream, so every page on the chat (in any process, through the relay) shows
"Memory updated" under that answer, and one that resumes or loads the chat later does too."""

from __future__ import annotations

from allin.chat.frames import MemoryUpdated
from allin.chat.streams import Streams


class MemoryNotices:
    """A `LearningListener` (`allin.memory.manager`)."""

    def __init__(self, streams: Streams) -> None:
        self._streams = streams

    async def learned(
        self, user_id: str, chat_id: str, answer_id: int, memories: list[str]
    ) -> None:
        async with self._streams.using(user_id, chat_id) as stream:
            await stream.publish(MemoryUpdated(turn_id=answer_id, memories=memories))
