"""The stored shapes of chats and turns, as the API returns them."""

from __future__ import annotations

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
