"""Local accounts (`ALLIN_AUTH_MODE=local`) and the client configuration the UI starts from."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel, Field

from allin.api.deps import CurrentUser, ServicesDep
from allin.api.errors import AUTHENTICATED, error_responses
from allin.config import AuthMode, LLMProvider, SignupMode
from allin.storage.text import StorableText

router = APIRouter(prefix="/api/v1", tags=["auth"])


class Credentials(BaseModel):
    email: StorableText = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)


class SignUp(Credentials):
    invite: str | None = Field(
        None,
        max_length=200,
        description="An admin's invitation code, when sign-up is not open (`signup` in "
        "/api/v1/config).",
    )


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
    model: str = Field(
        description="The chat model answering on this server, as recorded in each answer's "
        "metadata (`gemini:gemini-2.0-flash`, `openai:llama3.1`, or `offline`)."
    )
    offline: bool = Field(
        description="No language model is configured: answers recap the conversation and quote "
        "what was found, but compose nothing new. The UI shows a setup banner."
    )
    # The largest message (UTF-8 bytes) the chat accepts: the UI refuses a longer one before
    # sending it, and keeps it in the composer.
    max_message_bytes: int
    # Who may sign up: `open`, or `invite` (the UI then asks for an invitation code); None in
    # Supabase mode, where Supabase Auth decides.
    signup: SignupMode | None = None
    signup_domains: list[str] = Field(default_factory=list)
    supabase_url: str | None = None
    supabase_anon_key: str | None = None


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    summary="Create a local account (the first one is admin) and log in",
    # 403: sign-up is closed to this address (by invitation, or other domains only); 429: too many
    # sign-ups from this address, or attempts for this e-mail (`Retry-After` says how long).
    responses=error_responses(403, 409, 422, 429, 503),
)
async def signup(body: SignUp, request: Request, services: ServicesDep) -> TokenResponse:
    user, token, expires = await services.auth.signup(
        body.email, body.password, address=client_address(request), invite=body.invite
    )
    return TokenResponse(
        access_token=token, user_id=user.id, expires_at=expires, is_admin=user.is_admin
    )


@router.post(
    "/auth/login",
    summary="Log in to a local account",
    # 429: too many failed log-ins for this account or from this address; even the right password
    # waits the `Retry-After` seconds.
    responses=error_responses(*AUTHENTICATED, 429),
)
async def login(body: Credentials, request: Request, services: ServicesDep) -> TokenResponse:
    user, token, expires = await services.auth.login(
        body.email, body.password, address=client_address(request)
    )
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


@router.get(
    "/config", summary="How clients log in to this deployment, its model, and whether it has voice"
)
async def client_config(services: ServicesDep) -> ClientConfig:
    settings = services.settings
    # Supabase Auth decides who may sign up; our own accounts need no Supabase keys.
    supabase = settings.auth_mode is AuthMode.SUPABASE
    return ClientConfig(
        auth_mode=settings.auth_mode,
        voice=services.voice is not None,
        model=services.model.name,
        offline=settings.llm_provider is LLMProvider.OFFLINE,
        max_message_bytes=settings.max_message_bytes,
        signup=None if supabase else settings.signup,
        signup_domains=[] if supabase else settings.signup_domains,
        supabase_url=settings.supabase_url if supabase else None,
        supabase_anon_key=settings.supabase_anon_key if supabase else None,
    )


def client_address(request: Request) -> str | None:
    """The client's IP address. Behind a reverse proxy it is the proxy's, unless the server
    trusts the proxy's `X-Forwarded-For` (uvicorn: `--forwarded-allow-ips`, 127.0.0.1 by
    default)."""
    return request.client.host if request.client else None
