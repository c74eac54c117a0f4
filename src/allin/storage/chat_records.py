"""The stored shapes of chats and turns, as the API returns them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Chat(BaseModel):
    chat_id: str
    user_id: str
    title: str | None
    created_at: datetime
    updated_at: datetime


class Turn(BaseModel):
    id: int
    user_id: str
    chat_id: str
    role: Literal["user", "assistant"]
    content: str
    created_at: datetime
    client_msg_id: str | None = None
    reply_to: int | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    # The `seq` of the frame that announced the turn on the chat socket (`ack` for a question,
    # `done` for an answer); None before it was announced, or for turns older than resumption.
    seq: int | None = None


@dataclass(frozen=True)
class TurnMark:
    """What a frame says about a turn, kept in its metadata under `key` with the frame's seq, so
    that a client resuming from the database learns it too: a question that could not be
    answered (`failed`: the error), an answer whose turn taught memories (`memory_updated`: the
    memories)."""

    turn_id: int
    key: Literal["failed", "memory_updated"]
    value: dict[str, Any]


class ChatMatch(BaseModel):
    """A chat found by a search of the user's chats: its best matching turn (none when only the
    title matched), with an excerpt and where the matched words are in it."""

    chat_id: str
    title: str | None
    updated_at: datetime
    turn_id: int | None = None
    role: Literal["user", "assistant"] | None = None
    turn_created_at: datetime | None = None
    excerpt: str | None = None
    highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="[start, end) character ranges of `excerpt` matched."
    )

    @classmethod
    def of_row(cls, row: dict[str, Any]) -> ChatMatch:
        """From a row of `allin_search_chats`, whose excerpt marks matches with U+0002/U+0003."""
        excerpt, highlights = _unmark(row["excerpt"]) if row["excerpt"] else (None, [])
        return cls(
            chat_id=row["chat_id"],
            title=row["title"],
            updated_at=row["updated_at"],
            turn_id=row["turn_id"],
            role=row["role"],
            turn_created_at=row["turn_created_at"],
            excerpt=excerpt,
            highlights=highlights,
        )


# The Markdown an answer is stored in, which an excerpt shown as plain text must not show: emphasis
# and code marks, backslash escapes, and quote and heading marks at the start of a line. The match
# marks (U+0002/U+0003) are left where they are, so the highlights stay on the matched words.
_MARKUP = re.compile(
    r"\*\*(?=\S)|(?<=\S)\*\*|`|\\(?=[!-/:-@\[-`{-~])|(?m:^[ \t]*(?:>[ \t]?)+|^#{1,6}[ \t])"
)


def _unmark(marked: str) -> tuple[str, list[tuple[int, int]]]:
    marked = _MARKUP.sub("", marked)
    text: list[str] = []
    highlights: list[tuple[int, int]] = []
    length = 0
    start: int | None = None
    for char in marked:
        if char == "\x02":
            start = length
        elif char == "\x03":
            if start is not None and length > start:
                highlights.append((start, length))
            start = None
        else:
            text.append(char)
            length += 1
    return "".join(text), highlights
