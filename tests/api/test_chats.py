from __future__ import annotations

import httpx
import pytest

from allin.app import create_app
from allin.config import Settings
from tests.support.accounts import Account, sign_up
from tests.support.conversations import converse
from tests.support.servers import serve_ready


async def test_chats_are_listed_newest_activity_first(
    account_http: httpx.AsyncClient, live_server: str, account: Account
) -> None:
    await converse(live_server, account, "older", "Where is the deploy script?")
    await converse(live_server, account, "newer", "How do I get database access?")
    await converse(live_server, account, "older", "And the staging one?")
    response = await account_http.get(f"/api/v1/chat/chats/{account.user_id}")
    assert response.status_code == 200
    chats = response.json()["chats"]
    assert [c["chat_id"] for c in chats] == ["older", "newer"]
    assert chats[0]["title"] == "Where is the deploy script?"
    assert chats[0]["updated_at"] > chats[1]["updated_at"]
    stranger = await sign_up(live_server)
    other = await account_http.get(
        f"/api/v1/chat/chats/{stranger.user_id}", headers=stranger.headers
    )
    assert other.json() == {"chats": []}


async def test_history_pages_backwards(
    account_http: httpx.AsyncClient, live_server: str, account: Account
) -> None:
    await converse(live_server, account, "c1", "one", "two", "three")
    url = f"/api/v1/chat/history/{account.user_id}/c1"
    page = (await account_http.get(url, params={"limit": 4})).json()
    assert [t["role"] for t in page["turns"]] == ["user", "assistant", "user", "assistant"]
    assert [t["content"] for t in page["turns"] if t["role"] == "user"] == ["two", "three"]
    older = (await account_http.get(url, params={"limit": 4, "before": page["next_before"]})).json()
    assert [t["content"] for t in older["turns"] if t["role"] == "user"] == ["one"]
    assert older["next_before"] is None
    everything = (await account_http.get(url)).json()
    assert len(everything["turns"]) == 6 and everything["next_before"] is None


async def test_create_rename_delete(
    account_http: httpx.AsyncClient, live_server: str, account: Account
) -> None:
    created = await account_http.post(f"/api/v1/chat/chats/{account.user_id}", json={})
    assert created.status_code == 201
    chat_id = created.json()["chat_id"]
    assert created.json()["title"] is None
    named = await account_http.post(
        f"/api/v1/chat/chats/{account.user_id}", json={"chat_id": "x", "title": "T"}
    )
    assert named.status_code == 201 and named.json()["title"] == "T"
    dup = await account_http.post(f"/api/v1/chat/chats/{account.user_id}", json={"chat_id": "x"})
    assert dup.status_code == 409 and dup.json()["error"] == "conflict"

    renamed = await account_http.patch(
        f"/api/v1/chat/chats/{account.user_id}/{chat_id}", json={"title": "Setup"}
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Setup"

    await converse(live_server, account, chat_id, "hello")
    assert (await account_http.get(f"/api/v1/chat/chats/{account.user_id}")).json()["chats"][0][
        "title"
    ] == "Setup"
    deleted = await account_http.delete(f"/api/v1/chat/chats/{account.user_id}/{chat_id}")
    assert deleted.status_code == 204
    gone = await account_http.get(f"/api/v1/chat/history/{account.user_id}/{chat_id}")
    assert gone.status_code == 404 and gone.json()["error"] == "not_found"
    assert [
        c["chat_id"]
        for c in (await account_http.get(f"/api/v1/chat/chats/{account.user_id}")).json()["chats"]
    ] == ["x"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error", "detail"),
    [
        ("get", "/api/v1/chat/history/{u}/missing", None, 404, "not_found", "does not exist"),
        ("patch", "/api/v1/chat/chats/{u}/missing", {"title": "t"}, 404, "not_found", "missing"),
        ("delete", "/api/v1/chat/chats/{u}/missing", None, 404, "not_found", "missing"),
        ("get", "/api/v1/chat/history/{u}/c?limit=100000", None, 400, "bad_request", "at most 200"),
        ("get", "/api/v1/chat/history/{u}/c?limit=0", None, 422, "bad_request", "limit"),
        ("get", "/api/v1/chat/history/{u}/c?before=abc", None, 422, "bad_request", "before"),
        ("get", "/api/v1/chat/chats/bad%20id", None, 422, "bad_request", "user_id"),
        ("get", "/api/v1/chat/chats/someone-else", None, 403, "forbidden", "another user"),
        ("post", "/api/v1/chat/chats/{u}", {"chat_id": "no spaces"}, 422, "bad_request", "chat_id"),
        ("post", "/api/v1/chat/chats/{u}", {"title": ""}, 422, "bad_request", "title"),
        ("patch", "/api/v1/chat/chats/{u}/c", {}, 422, "bad_request", "title"),
        ("patch", "/api/v1/chat/chats/{u}/c", {"title": "x" * 201}, 422, "bad_request", "title"),
    ],
)
async def test_bad_requests_get_a_clear_4xx(
    account_http: httpx.AsyncClient,
    account: Account,
    method: str,
    path: str,
    body: object,
    status: int,
    error: str,
    detail: str,
) -> None:
    response = await account_http.request(method, path.format(u=account.user_id), json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and detail in response.json()["detail"]


async def test_health_and_docs(account_http: httpx.AsyncClient) -> None:
    assert (await account_http.get("/healthz")).json() == {"status": "ok"}
    assert (await account_http.get("/readyz")).json() == {"status": "ready"}
    assert (await account_http.get("/docs")).status_code == 200
    paths = (await account_http.get("/openapi.json")).json()["paths"]
    assert "/api/v1/chat/history/{user_id}/{chat_id}" in paths


def test_history_survives_a_restart(settings: Settings) -> None:
    """The done-when check: talk to a server, stop it, start another, read the history."""
    import asyncio

    with serve_ready(create_app(settings)) as url:
        alice = asyncio.run(sign_up(url))
        asyncio.run(converse(url, alice, "c1", "Who are you?"))
    with serve_ready(create_app(settings)) as url:
        history = f"{url}/api/v1/chat/history/{alice.user_id}/c1"
        turns = httpx.get(history, headers=alice.headers).json()["turns"]
        chats = httpx.get(f"{url}/api/v1/chat/chats/{alice.user_id}", headers=alice.headers)
    assert [t["role"] for t in turns] == ["user", "assistant"]
    assert "Team 8" in turns[1]["content"]
    assert [c["chat_id"] for c in chats.json()["chats"]] == ["c1"]
