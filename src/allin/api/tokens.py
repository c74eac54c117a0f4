"""Personal access tokens over REST: create (shown once), list, revoke. For editors' MCP clients
and scripts; see README "Allin in your editor (MCP)"."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field

from allin.api.deps import CurrentUser, ServicesDep
from allin.api.errors import AUTHENTICATED, error_responses
from allin.auth.principal import TokenScope
from allin.storage.personal_tokens import PersonalToken
from allin.storage.text import StorableText

# 403: a personal access token tried to change tokens (that takes a login session).
router = APIRouter(
    prefix="/api/v1/tokens", tags=["tokens"], responses=error_responses(*AUTHENTICATED, 403)
)

TokenId = Annotated[str, Path(pattern=r"^[0-9a-f-]{1,64}$", description="The token's id.")]


def _read_only() -> list[TokenScope]:
    return ["read"]


class NewToken(BaseModel):
    name: StorableText = Field(
        min_length=1, max_length=100, description="What it is for, e.g. 'laptop: Claude Code'."
    )
    scopes: list[TokenScope] = Field(
        default_factory=_read_only,
        min_length=1,
        description="read: search, open sources, recall memories; ask: ask questions (stored in "
        "your chats); remember: add memories. Read-only by default.",
    )
    expires_in_days: int = Field(90, ge=1, le=365)


class CreatedToken(BaseModel):
    token: str = Field(description="The token itself: shown this once, never again.")
    details: PersonalToken


class TokenList(BaseModel):
    tokens: list[PersonalToken] = Field(description="Newest first, revoked ones included.")


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal access token (its value is shown only in this response)",
)
async def create_token(
    body: NewToken, principal: CurrentUser, services: ServicesDep
) -> CreatedToken:
    details, token = await services.personal_tokens.create(
        principal, body.name, body.scopes, body.expires_in_days
    )
    return CreatedToken(token=token, details=details)


@router.get("", summary="Your personal access tokens (never their values)")
async def list_tokens(principal: CurrentUser, services: ServicesDep) -> TokenList:
    return TokenList(tokens=await services.personal_tokens.list(principal))


@router.delete(
    "/{token_id}",
    summary="Revoke a token: it stops working at once",
    responses=error_responses(404),
)
async def revoke_token(
    token_id: TokenId, principal: CurrentUser, services: ServicesDep
) -> PersonalToken:
    return await services.personal_tokens.revoke(principal, token_id)
