"""Local accounts (`ALLIN_AUTH_MODE=local`) and the client configuration the UI starts from."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from allin.api.deps import CurrentUser, ServicesDep
from allin.api.errors import AUTHENTICATED, error_responses
from allin.config import AuthMode
from allin.storage.text import StorableText

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Credentials(BaseModel):
    email: StorableText = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    user_id: str
    expires_at: datetime
    is_admin: bool


class Me(BaseModel):
    user_id: str
    email: str | None
    is_admin: bool


class ClientConfig(BaseModel):
    """What the browser needs before anyone logs in: how to log in, and whether to offer voice."""

    auth_mode: AuthMode
    voice: bool
    # The largest message (UTF-8 bytes) the chat accepts: the UI refuses a longer one before
    # sending it, and keeps it in the composer.
    max_message_bytes: int
    supabase_url: str | None = None
    supabase_anon_key: str | None = None


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    summary="Create a local account (the first one is admin) and log in",
    responses=error_responses(409, 422, 503),
)
async def signup(body: Credentials, services: ServicesDep) -> TokenResponse:
    user, token, expires = await services.auth.signup(body.email, body.password)
    return TokenResponse(
        access_token=token, user_id=user.id, expires_at=expires, is_admin=user.is_admin
    )


@router.post(
    "/auth/login",
    summary="Log in to a local account",
    responses=error_responses(*AUTHENTICATED),
)
async def login(body: Credentials, services: ServicesDep) -> TokenResponse:
    user, token, expires = await services.auth.login(body.email, body.password)
    return TokenResponse(
        access_token=token, user_id=user.id, expires_at=expires, is_admin=user.is_admin
    )


@router.post(
    "/auth/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this session: its token stops working",
    responses=error_responses(*AUTHENTICATED),
)
async def logout(principal: CurrentUser, services: ServicesDep) -> Response:
    await services.auth.logout(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/auth/me", summary="Who the token belongs to", responses=error_responses(*AUTHENTICATED)
)
async def me(principal: CurrentUser) -> Me:
    return Me(user_id=principal.user_id, email=principal.email, is_admin=principal.is_admin)


@router.get("/config", summary="How clients log in to this deployment, and whether it has voice")
async def client_config(services: ServicesDep) -> ClientConfig:
    settings = services.settings
    voice = services.voice is not None
    if settings.auth_mode is AuthMode.SUPABASE:
        return ClientConfig(
            auth_mode=settings.auth_mode,
            voice=voice,
            max_message_bytes=settings.max_message_bytes,
            supabase_url=settings.supabase_url,
            supabase_anon_key=settings.supabase_anon_key,
        )
    return ClientConfig(
        auth_mode=settings.auth_mode, voice=voice, max_message_bytes=settings.max_message_bytes
    )
