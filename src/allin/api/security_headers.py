"""Browser security headers on every HTTP response.

The UI (web/static/) loads only its own files: no inline scripts or styles, no CDN, so a strict
Content-Security-Policy costs nothing and stops injected markup (a model's answer is rendered as
Markdown) from running script, loading remote images or posting elsewhere. Spoken answers play
from `blob:` URLs; the favicon is a `data:` image; in Supabase mode the browser logs in with
Supabase Auth directly. FastAPI's generated API docs carry an inline script, so their pages alone
get a policy that allows it. No page may be framed (clickjacking), sniffed or sent as a referrer.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from allin.api.scopes import route_path

_COMMON = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def app_policy(connect_to: Collection[str] = ()) -> str:
    connect = " ".join(["'self'", *connect_to])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:;"
        f" media-src 'self' blob:; connect-src {connect}; base-uri 'none'; form-action 'self';"
        " frame-ancestors 'none'"
    )


# Swagger UI and ReDoc come from the app too; ReDoc runs a worker from a blob: URL and shows a
# "powered by" logo from its own site (an image: nothing runs from there).
DOCS_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline';"
    " img-src 'self' data: https://cdn.redoc.ly; worker-src 'self' blob:; connect-src 'self';"
    " base-uri 'none'; frame-ancestors 'none'"
)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SecurityHeaders:
    """Pure ASGI (not `BaseHTTPMiddleware`), so streamed responses and sockets pass untouched.
    A header a route sets itself is kept."""

    def __init__(
        self, app: ASGIApp, *, docs_paths: Collection[str], connect_to: Collection[str] = ()
    ) -> None:
        self._app = app
        self._docs_paths = frozenset(docs_paths)
        self._app_headers = {**_COMMON, "Content-Security-Policy": app_policy(connect_to)}
        self._docs_headers = {**_COMMON, "Content-Security-Policy": DOCS_POLICY}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        docs = route_path(scope) in self._docs_paths
        added = self._docs_headers if docs else self._app_headers

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in added.items():
                    headers.setdefault(name, value)
            await send(message)

        await self._app(scope, receive, send_with_headers)
