from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. `session_id` is set for local tokens, which can be revoked."""

    user_id: str
    email: str | None = None
    is_admin: bool = False
    session_id: str | None = None


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """The token's principal; raises `Unauthorized` for anything not valid right now."""
        ...
