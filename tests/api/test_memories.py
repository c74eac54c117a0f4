"""The memories API and memory across chats, through the live app over HTTP and WebSocket."""

from __future__ import annotations

import uuid

import httpx
from websockets.asyncio.client import connect

from allin.app import create_app
from allin.config import Settings
from allin.memory.pipeline import QUOTED_TITLE
from tests.conftest import ws_url
from tests.support.accounts import Account, sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import ask


async def say(base_url: str, account: Account, chat: str, text: str) -> str:
    """Send `text` in `chat`; returns the stored answer."""
    async with connect(ws_url(base_url, account, chat)) as socket:
        frames = await ask(socket, uuid.uuid4().hex, text)
    assert frames[-1]["type"] == "done", frames[-1]
    return str(frames[-1]["turn"]["content"])


def path(account: Account, memory_id: str | None = None) -> str:
    base = f"/api/v1/memories/{account.user_id}"
    return f"{base}/{memory_id}" if memory_id else base


async def test_a_fact_from_one_chat_is_recalled_in_another_for_that_user_only(
    live_server: str, account: Account
) -> None:
    await say(live_server, account, "chat-a", "Our team uses Flask. How do I start a project?")
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        listed = (await http.get(path(account))).json()["memories"]
    assert [(m["text"], m["chat_id"]) for m in listed] == [("User's team uses Flask", "chat-a")]
    assert set(listed[0]) == {"id", "text", "chat_id", "created_at", "updated_at"}

    # The offline answerer quotes the context it was given.
    answer = await say(live_server, account, "chat-b", "How do I add a route in Flask?")
    assert QUOTED_TITLE in answer and "User's team uses Flask" in answer

    stranger = await sign_up(live_server)
    answer = await say(live_server, stranger, "chat-a", "How do I add a route in Flask?")
    assert QUOTED_TITLE not in answer and "uses Flask" not in answer


async def test_edit_delete_and_forget_all(live_server: str, account: Account) -> None:
    await say(live_server, account, "c", "I'm new to Go. I prefer short answers.")
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        newest, oldest = (await http.get(path(account))).json()["memories"]
        assert (newest["text"], oldest["text"]) == (
            "User prefers short answers",
            "User is new to Go",
        )

        edited = await http.patch(path(account, oldest["id"]), json={"text": "  User knows Go  "})
        assert edited.status_code == 200, edited.text
        assert edited.json()["text"] == "User knows Go"
        assert edited.json()["updated_at"] > oldest["updated_at"]

        deleted = await http.delete(path(account, newest["id"]))
        assert deleted.status_code == 204
        assert (await http.delete(path(account, newest["id"]))).status_code == 404
        remaining = (await http.get(path(account))).json()["memories"]
        assert [m["text"] for m in remaining] == ["User knows Go"]

        assert (await http.delete(path(account))).status_code == 204
        assert (await http.get(path(account))).json()["memories"] == []


async def test_bad_input_and_other_users_memories_are_refused(
    live_server: str, account: Account
) -> None:
    other = await sign_up(live_server)
    await say(live_server, other, "c", "My manager is Dana.")
    async with httpx.AsyncClient(base_url=live_server) as http:
        (theirs,) = (await http.get(path(other), headers=other.headers)).json()["memories"]
        await say(live_server, account, "c", "My manager is Eve.")
        (mine,) = (await http.get(path(account), headers=account.headers)).json()["memories"]

        for text in ("", "   "):
            empty = await http.patch(
                path(account, mine["id"]), json={"text": text}, headers=account.headers
            )
            assert empty.status_code == 422 and empty.json()["error"] == "bad_request"
        malformed = await http.patch(
            path(account, "not-a-uuid"), json={"text": "x"}, headers=account.headers
        )
        assert malformed.status_code == 422
        # Another user's memory under one's own path is not found, neither readable nor writable.
        for method in ("PATCH", "DELETE"):
            response = await http.request(
                method,
                path(account, theirs["id"]),
                json={"text": "hacked"},
                headers=account.headers,
            )
            assert response.status_code == 404, response.text
            assert response.json()["error"] == "not_found"
            assert "Dana" not in response.text
        unchanged = (await http.get(path(other), headers=other.headers)).json()["memories"]
        assert unchanged == [theirs]


async def test_with_memory_off_turns_work_and_the_api_says_so(settings: Settings) -> None:
    with serve_ready(create_app(settings.model_copy(update={"memory": False}))) as url:
        account = await sign_up(url)
        answer = await say(url, account, "c", "Our team uses Flask. How do I add a route in Flask?")
        assert QUOTED_TITLE not in answer
        async with httpx.AsyncClient(base_url=url, headers=account.headers) as http:
            response = await http.get(path(account))
    assert response.status_code == 404
    assert "ALLIN_MEMORY=off" in response.json()["detail"]
