from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from allin.errors import Forbidden

# What a personal access token may be used for: `read` (search, open sources, recall memories),
# `ask` (ask questions, stored in the user's chats), `remember` (add memories). A login session
# may do all of it.
TokenScope = Literal["read", "ask", "remember"]
ALL_SCOPES: frozenset[str] = frozenset(get_args(TokenScope))


@dataclass(frozen=True, slots=True)
class Principal:
    """The verified caller. `session_id` is set for local tokens, which can be revoked;
    `personal_token_id` for a personal access token, limited to its `scopes`."""

    user_id: str
    email: str | None = None
    is_admin: bool = False
    session_id: str | None = None
    scopes: frozenset[str] = ALL_SCOPES
    personal_token_id: str | None = None

    def require(self, scope: TokenScope) -> None:
        if scope not in self.scopes:
            raise Forbidden(
                f"this token lacks the {scope!r} scope; create a token with it in /api/v1/tokens"
            )


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> Principal:
        """The token's principal; raises `Unauthorized` for anything not valid right now."""
        ...
