"""Every route, walked from the app's own route table: no token → 401, another user's token → 403
(and nothing read or written), the owner's token → allowed. A route added later is walked too."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, iter_route_contexts
from starlette.routing import Mount
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from allin.app import create_app
from allin.config import Settings
from tests.conftest import ws_url
from tests.support.accounts import Account, sign_up
from tests.support.wsclient import ask, next_frame

# Open to anyone, by design: health checks, logging in, the UI's files and the API docs.
PUBLIC = {
    "/healthz",
    "/readyz",
    "/api/v1/auth/signup",
    "/api/v1/auth/login",
    "/api/v1/config",
    # A signed link: its HMAC signature is the credential (a browser tab cannot send a token).
    "/api/v1/blobs/{bucket}/{path:path}",
    "/",
    "/static",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
    "/openapi.json",
    # The chat protocol's reference page, linked from the API docs.
    "/protocol",
}
# A plausible body per method, so that an allowed request reaches the handler.
# Team-wide reads for admins only: a signed-in member is refused (403), an admin allowed.
ADMIN_ONLY = {
    ("GET", "/api/v1/feedback"),
    ("GET", "/api/v1/onboarding/overview"),
    ("GET", "/api/v1/gaps"),
    # Invitations to sign up (ALLIN_SIGNUP=invite).
    ("POST", "/api/v1/invites"),
    ("GET", "/api/v1/invites"),
    ("DELETE", "/api/v1/invites/{invite_id}"),
}
BODIES: dict[str, Any] = {
    "POST": {"title": "walked"},
    "PATCH": {"title": "walked", "text": "walked"},
}
# A well-formed id that names nothing, so that an allowed request gets as far as "not found".
UNKNOWN_MEMORY_ID = "00000000-0000-4000-8000-000000000000"


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every HTTP route, ("WS", path) of every WebSocket route and ("MOUNT",
    path) of mounted apps, including those of included routers, with their full paths."""
    found = []
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, str(context.path)
        if isinstance(route, APIWebSocketRoute):
            found.append(("WS", path))
        elif isinstance(route, Mount):
            found.append(("MOUNT", path))
        else:
            methods = getattr(route, "methods", None) or {"GET"}
            found += [(method, path) for method in sorted(methods)]
    return found


def fill(path: str, owner: Account, chat: str) -> str:
    values = {
        "user_id": owner.user_id,
        "chat_id": chat,
        "memory_id": UNKNOWN_MEMORY_ID,
        "invite_id": UNKNOWN_MEMORY_ID,
    }
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m[1], "x"), path)


@pytest.fixture(scope="module")
def app_routes(settings: Settings) -> list[tuple[str, str]]:
    return routes(create_app(settings))


def test_the_walk_covers_every_route(app_routes: list[tuple[str, str]]) -> None:
    walked = {path for _, path in app_routes if path not in PUBLIC}
    assert "/ws/{user_id}/{chat_id}" in walked
    assert "/api/v1/chat/history/{user_id}/{chat_id}" in walked
    assert "/api/v1/memories/{user_id}/{memory_id}" in walked
    assert "/api/v1/onboarding/{user_id}/paths/{path_id}/steps/{slug}/done" in walked
    assert "/api/v1/onboarding/{user_id}/chats/{chat_id}/pitch" in walked
    # Nothing is public by accident: each public path is named above, on purpose.
    assert {path for _, path in app_routes} >= PUBLIC - {"/docs/oauth2-redirect", "/redoc"}


async def test_every_http_route_authorizes(
    live_server: str, app_routes: list[tuple[str, str]]
) -> None:
    owner, intruder = await sign_up(live_server), await sign_up(live_server)
    async with connect(ws_url(live_server, owner, "walk")) as socket:
        await ask(socket, "m1", "I'm new to Kubernetes. A private question?")

    async with httpx.AsyncClient(base_url=live_server) as http:
        before = await snapshot(http, owner)
        for method, path in app_routes:
            if path in PUBLIC or method in ("WS", "MOUNT", "HEAD"):
                continue
            url = fill(path, owner, "walk")
            body = BODIES.get(method)
            anonymous = await http.request(method, url, json=body)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.json()["error"] == "unauthorized"
            if "{user_id}" in path:
                other = await http.request(method, url, json=body, headers=intruder.headers)
                assert other.status_code == 403, (method, path, other.text)
                assert other.json()["error"] == "forbidden"
        assert await snapshot(http, owner) == before, "a refused request changed something"
        me = await http.get("/api/v1/auth/me", headers=owner.headers)
        # The first account of the test database is its admin: it may or may not be this one.
        owner_is_admin = bool(me.json()["is_admin"])

        for method, path in app_routes:
            if path in PUBLIC or method in ("WS", "MOUNT", "HEAD"):
                continue
            if method == "POST" and path.endswith("/auth/logout"):
                continue  # would end the session the rest of the walk uses
            url = fill(path, owner, "walk")
            allowed = await http.request(
                method, url, json=BODIES.get(method), headers=owner.headers
            )
            if (method, path) in ADMIN_ONLY and not owner_is_admin:
                assert allowed.status_code == 403, (method, path, allowed.text)
                continue
            assert allowed.status_code not in (401, 403), (method, path, allowed.text)
            assert allowed.status_code < 500, (method, path, allowed.text)


async def snapshot(http: httpx.AsyncClient, owner: Account) -> Any:
    # Memories first: listing them waits for learning from the last turn, which also marks its
    # answer ("Memory updated"), so the history read next is the settled one.
    memories = await http.get(f"/api/v1/memories/{owner.user_id}", headers=owner.headers)
    chats = await http.get(f"/api/v1/chat/chats/{owner.user_id}", headers=owner.headers)
    history = await http.get(f"/api/v1/chat/history/{owner.user_id}/walk", headers=owner.headers)
    assert memories.json()["memories"], "the owner has a memory for refused requests to touch"
    return chats.json(), history.json(), memories.json()


async def test_the_websocket_route_authorizes(live_server: str) -> None:
    owner, intruder = await sign_up(live_server), await sign_up(live_server)
    base = f"{live_server.replace('http', 'ws', 1)}/ws/{owner.user_id}/walk"
    for url, code in [
        (base, 4401),
        (ws_url(live_server, intruder, "walk", user=owner.user_id), 4403),
    ]:
        async with connect(url) as socket:
            assert (await next_frame(socket))["type"] == "error"
            with pytest.raises(ConnectionClosed) as closed:
                await socket.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == code
    async with connect(ws_url(live_server, owner, "walk")) as socket:
        assert (await ask(socket, "m1", "hello"))[-1]["type"] == "done"
