"""The app factory: builds the services once and wires the routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from allin import __version__
from allin.api import (
    auth,
    chats,
    documents,
    feedback,
    health,
    invites,
    memories,
    onboarding,
    repositories,
    tokens,
    trust,
    voice,
    ws,
)
from allin.api.access_log import redact_server_logs
from allin.api.body_limits import BodyLimits
from allin.api.errors import install_error_handlers
from allin.api.security_headers import SecurityHeaders, origin
from allin.config import AuthMode, Settings, configure_logging
from allin.mcp_server.http import mount_mcp
from allin.services import Services
from allin.web import mount_web

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
DESCRIPTION = """\
Every error has the body `{"error": "<code>", "detail": "<message>"}` (the `ErrorBody` schema);
each route lists the statuses it can answer with.

Answers stream over a WebSocket, `/ws/{user_id}/{chat_id}`: its frames, resumption and close
codes are described in [the chat protocol](/protocol).
"""


DOCS_URL, REDOC_URL = "/docs", "/redoc"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await Services.start(settings)
        app.state.services = services
        try:
            # Inside the services' lifetime: MCP calls in flight end before the services stop.
            async with mcp_running():
                yield
        finally:
            await services.stop()

    # /docs and /redoc load Swagger UI and ReDoc from the app itself: FastAPI's default pages load
    # them from a CDN, and show a blank page where it cannot be reached.
    app = FastAPIOffline(
        docs_url=DOCS_URL,
        redoc_url=REDOC_URL,
        title="Allin",
        summary="Allin, by Team 8: an assistant that helps new software engineers get productive.",
        description=DESCRIPTION,
        version=__version__,
        lifespan=lifespan,
    )
    # Whatever serves the app logs request targets, query strings (and tokens) included.
    redact_server_logs()
    install_error_handlers(app)
    app.add_middleware(
        BodyLimits,
        default=settings.max_request_bytes,
        by_route={("POST", documents.UPLOAD_PATH): settings.max_upload_bytes},
    )
    # FastAPIOffline serves the docs pages itself, leaving FastAPI's `docs_url` unset.
    docs = (DOCS_URL, REDOC_URL, app.swagger_ui_oauth2_redirect_url)
    supabase = settings.supabase_url if settings.auth_mode is AuthMode.SUPABASE else None
    app.add_middleware(
        SecurityHeaders,
        docs_paths={path for path in docs if path},
        connect_to=[origin(supabase)] if supabase else [],
    )
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(chats.router)
    app.include_router(documents.router)
    app.include_router(feedback.router)
    app.include_router(invites.router)
    app.include_router(memories.router)
    app.include_router(onboarding.router)
    app.include_router(repositories.router)
    app.include_router(tokens.router)
    app.include_router(trust.router)
    app.include_router(voice.router)
    app.include_router(ws.router)
    mcp_running = mount_mcp(app)
    mount_web(app)
    return app


def app_from_env() -> FastAPI:
    """Entry point for `uvicorn --factory` (each worker builds its app from the environment)."""
    settings = Settings()
    configure_logging(settings)
    return create_app(settings)
