"""A stored memory, as the API returns it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class Memory(BaseModel):
    id: str
    text: str
    chat_id: str | None = Field(description="The chat the memory was learned in.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_mem0(cls, item: dict[str, Any]) -> Memory:
        metadata = item.get("metadata") or {}
        created = item["created_at"]
        return cls(
            id=str(item["id"]),
            text=item["memory"],
            chat_id=metadata.get("chat_id"),
            created_at=created,
            updated_at=item.get("updated_at") or created,
        )

    @classmethod
    def from_payload(cls, memory_id: str, payload: dict[str, Any]) -> Memory:
        """From a row of mem0's table: mem0 stores the text as `data` and the metadata it was
        given beside it, in the same payload."""
        created = payload["created_at"]
        return cls(
            id=memory_id,
            text=payload["data"],
            chat_id=payload.get("chat_id"),
            created_at=created,
            updated_at=payload.get("updated_at") or created,
        )


@dataclass(frozen=True, slots=True)
class Lesson:
    """A finished turn waiting to be learned from: what the user said and the answer (whose id,
    when known, is the one its "Memory updated" notice goes under)."""

    # Its place in the user's queue of turns to learn from (`allin.storage.lessons`).
    id: int
    chat_id: str
    said: str
    answer: str
    answer_id: int | None
