"""`/mcp`: the MCP server over Streamable HTTP, inside the app.

The bearer token is checked here, before the SDK sees the request, exactly as `CurrentUser`
checks it for REST: a missing, expired or revoked token is a 401 with the usual
`{"error", "detail"}` body (and `WWW-Authenticate`, which MCP clients look for). The server runs
stateless with JSON responses: every POST stands alone, so any worker of `allin serve --workers N`
can answer any call, with no session to lose on a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from allin.api.errors import error_response
from allin.errors import Unauthorized, as_allin_error
from allin.mcp_server.tools import PRINCIPAL_KEY, AllinTools, Backend

MCP_PATH = "/mcp"


class _Authenticated:
    """The SDK's ASGI handler behind our own token check."""

    def __init__(self, manager: StreamableHTTPSessionManager) -> None:
        self._manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        services = scope["app"].state.services
        scheme, _, token = (Headers(scope=scope).get("authorization") or "").partition(" ")
        try:
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized("log in first: send 'Authorization: Bearer <access token>'")
            principal = await services.tokens.verify(token.strip())
        except Exception as exc:
            response = error_response(as_allin_error(exc))
            if response.status_code == 401:
                response.headers["WWW-Authenticate"] = "Bearer"
            await response(scope, receive, send)
            return
        if scope["method"] == "GET":
            # A GET opens a stream for messages the server starts; a stateless server has none to
            # send, and the SDK would hold the stream open, idle, until the client gives up.
            # 405 is how the protocol says "no such stream here"; clients carry on without one.
            refusal = JSONResponse(
                {"error": "method_not_allowed", "detail": "POST JSON-RPC messages to /mcp"},
                status_code=405,
                headers={"Allow": "POST"},
            )
            await refusal(scope, receive, send)
            return
        await self._manager.handle_request({**scope, PRINCIPAL_KEY: principal}, receive, send)


def mount_mcp(app: FastAPI) -> Callable[[], AbstractAsyncContextManager[None]]:
    """Add `/mcp` to `app`; returns what the app's lifespan must run while it serves."""

    def backend() -> Backend:
        return Backend(app.state.services)

    server = AllinTools(backend).server()
    # Only to build the session manager; `/mcp` is routed to it below, in our own app.
    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        # DNS-rebinding protection guards servers that trust whoever reaches them (a cookie, a
        # loopback port); every call here carries a bearer token a rebound page cannot know, and
        # the SDK's default would refuse every Host but localhost.
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager
    app.router.routes.append(Route(MCP_PATH, endpoint=_Authenticated(manager)))
    return manager.run
