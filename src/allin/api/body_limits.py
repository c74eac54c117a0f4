"""A cap on every request body, applied before the route reads any of it: a declared
`Content-Length` over the cap is refused at once, and a streamed body is counted as it arrives.
Uploads have their own, larger cap; every other route takes small JSON. Either way the client
gets a 413 `too_large` that names the limit."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allin.api.errors import error_response
from allin.api.scopes import route_path
from allin.errors import TooLarge


class BodyLimits:
    """Pure ASGI, around the whole app. When a streamed body goes over, reading it fails; the
    route (or FastAPI, which turns a failed read into a 400) may still answer, so the first
    response after that is replaced by the 413."""

    def __init__(
        self, app: ASGIApp, *, default: int, by_route: Mapping[tuple[str, str], int]
    ) -> None:
        self._app = app
        self._default = default
        self._by_route = dict(by_route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        limit = self._by_route.get((scope["method"], route_path(scope)), self._default)
        too_large = TooLarge(f"the request body is larger than the {limit}-byte limit")
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await error_response(too_large)(scope, receive, send)
            return
        received = 0
        over = responded = False

        async def counted() -> Message:
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    over = True
                    raise too_large
            return message

        async def replying(message: Message) -> None:
            nonlocal responded
            if over:
                if message["type"] == "http.response.start" and not responded:
                    responded = True
                    await error_response(too_large)(scope, receive, send)
                return
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self._app(scope, counted, replying)
        except TooLarge:
            if not over:
                raise
            if not responded:
                await error_response(too_large)(scope, receive, send)
