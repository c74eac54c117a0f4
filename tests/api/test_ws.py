from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.conftest import ws_url
from tests.support.accounts import Account, sign_up
from tests.support.wsclient import ask, next_frame, send


async def history(live_server: str, account: Account, chat: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        response = await http.get(f"/api/v1/chat/history/{account.user_id}/{chat}")
    assert response.status_code == 200, response.text
    return list(response.json()["turns"])


async def test_message_is_acked_streamed_and_stored(live_server: str, account: Account) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        frames = await ask(socket, "m1", "Who are you?")
    kinds = [f["type"] for f in frames]
    assert kinds[0] == "ack" and kinds[-1] == "done"
    # More than one frame shows the answer streamed. How many depends on the machine's load: text
    # written while a frame is being published goes out joined (chat/publishing.py); one frame
    # per chunk on an idle server is tested deterministically in tests/chat/test_interaction.py.
    assert kinds.count("token") > 1 and set(kinds[1:-1]) == {"token"}
    done = frames[-1]["turn"]
    assert "".join(f["text"] for f in frames if f["type"] == "token") == done["content"]
    assert "Allin" in done["content"] and "Team 8" in done["content"]
    assert {f["turn_id"] for f in frames if f["type"] == "token"} == {done["id"]}
    assert done["reply_to"] == frames[0]["turn"]["id"] and done["metadata"]["model"] == "offline"
    turns = await history(live_server, account, "c1")
    assert [(t["role"], t["content"]) for t in turns] == [
        ("user", "Who are you?"),
        ("assistant", done["content"]),
    ]


async def test_retried_message_id_is_answered_once(live_server: str, account: Account) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        first = await ask(socket, "m1", "hello")
        again = await ask(socket, "m1", "hello")
    assert [f["type"] for f in again] == ["ack", "done"]
    assert again[-1]["turn"] == first[-1]["turn"]
    assert len(await history(live_server, account, "c1")) == 2


async def test_conversation_continues_across_connections(
    live_server: str, account: Account
) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        await ask(socket, "m1", "How do I run the tests?")
    async with connect(ws_url(live_server, account, "c1")) as socket:
        frames = await ask(socket, "m2", "What did I ask?")
    assert "How do I run the tests?" in frames[-1]["turn"]["content"]


@pytest.mark.parametrize(
    ("raw", "code", "message"),
    [
        ("{not json", "bad_request", "not valid JSON"),
        ('["a list"]', "bad_request", "JSON object with a 'type'"),
        ('{"content": "no type"}', "bad_request", "JSON object with a 'type'"),
        ('{"type": "dance"}', "bad_request", "unknown frame type 'dance'"),
        # This server runs with voice off (see tests/voice/ for voice on).
        ('{"type": "audio_end"}', "bad_request", "voice is turned off"),
        ('{"type": "message", "content": "no id"}', "bad_request", "id"),
        ('{"type": "message", "id": "m1"}', "bad_request", "content"),
        ('{"type": "message", "id": "", "content": "x"}', "bad_request", "id"),
        ('{"type": "message", "id": "m1", "content": 42}', "bad_request", "content"),
        ('{"type": "message", "id": "m1", "content": "  \\n "}', "bad_request", "empty"),
        (
            json.dumps({"type": "message", "id": "m1", "content": "x" * 40_000}),
            "too_large",
            "limit",
        ),
        (
            json.dumps({"type": "message", "id": "m1", "content": "é" * 20_000}),
            "too_large",
            "limit",
        ),
        ("x" * 300_000, "too_large", "frame is larger"),
    ],
    ids=[
        "invalid-json",
        "not-object",
        "no-type",
        "unknown-type",
        "not-yet",
        "no-id",
        "no-content",
        "empty-id",
        "content-not-text",
        "blank",
        "oversized",
        "oversized-multibyte",
        "huge-frame",
    ],
)
async def test_bad_frames_get_a_clear_error_and_store_nothing(
    live_server: str, account: Account, raw: str, code: str, message: str
) -> None:
    async with connect(ws_url(live_server, account, "c1"), max_size=None) as socket:
        await socket.send(raw)
        error = await next_frame(socket)
        assert error["type"] == "error" and error["code"] == code, error
        assert message in error["message"]
        # The socket stays usable.
        await send(socket, type="ping")
        assert await next_frame(socket) == {"type": "pong"}
    async with httpx.AsyncClient(base_url=live_server, headers=account.headers) as http:
        response = await http.get(f"/api/v1/chat/history/{account.user_id}/c1")
    assert response.status_code == 404  # the chat was never created


async def test_binary_frame_is_refused_when_voice_is_off(
    live_server: str, account: Account
) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        await socket.send(b"\x00\xffgarbage")
        error = await next_frame(socket)
        assert error["code"] == "bad_request" and "voice is turned off" in error["message"]
        frames = await ask(socket, "m1", "still there?")
        assert frames[-1]["type"] == "done"


async def test_message_id_reused_for_other_text_is_refused(
    live_server: str, account: Account
) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        await ask(socket, "m1", "first")
        frames = await ask(socket, "m1", "different")
    assert frames[-1] == {
        "type": "error",
        "code": "bad_request",
        "message": "message id 'm1' was already used for a different message",
        "reply_to": "m1",
    }
    assert (await history(live_server, account, "c1"))[0]["content"] == "first"


async def test_chat_ids_are_per_user(live_server: str, account: Account) -> None:
    other = await sign_up(live_server)
    async with connect(ws_url(live_server, account, "c1")) as socket:
        await ask(socket, "m1", "mine")
    async with connect(ws_url(live_server, other, "c1")) as socket:
        frames = await ask(socket, "m1", "theirs")
    assert frames[-1]["type"] == "done"
    assert (await history(live_server, account, "c1"))[0]["content"] == "mine"
    assert (await history(live_server, other, "c1"))[0]["content"] == "theirs"


async def closed_with(url: str, code: int, error: str, **options: Any) -> None:
    """The socket at `url` answers with an `error` frame then closes with `code`."""
    async with connect(url, **options) as socket:
        frame = await next_frame(socket)
        assert frame["type"] == "error" and frame["code"] == error, frame
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_invalid_ids_close_the_socket(live_server: str, account: Account) -> None:
    await closed_with(ws_url(live_server, account, "c1", user="bad%20user"), 4400, "bad_request")


async def test_no_token_or_a_bad_one_closes_with_4401(live_server: str, account: Account) -> None:
    base = f"{live_server.replace('http', 'ws', 1)}/ws/{account.user_id}/c1"
    await closed_with(base, 4401, "unauthorized")
    await closed_with(f"{base}?token=garbage", 4401, "unauthorized")
    await closed_with(f"{base}?token={account.token[:-3]}abc", 4401, "unauthorized")


async def test_another_users_socket_closes_with_4403_and_nothing_is_stored(
    live_server: str, account: Account
) -> None:
    victim = await sign_up(live_server)
    async with connect(ws_url(live_server, victim, "private")) as socket:
        await ask(socket, "m1", "my secret question")
    url = ws_url(live_server, account, "private", user=victim.user_id)
    await closed_with(url, 4403, "forbidden")
    turns = await history(live_server, victim, "private")
    assert [t["content"] for t in turns if t["role"] == "user"] == ["my secret question"]
    assert len(turns) == 2


async def test_token_as_subprotocol(live_server: str, account: Account) -> None:
    url = f"{live_server.replace('http', 'ws', 1)}/ws/{account.user_id}/c1"
    async with connect(url, subprotocols=["bearer", account.token]) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == "bearer"
        assert (await ask(socket, "m1", "hello"))[-1]["type"] == "done"


async def test_a_logged_out_token_no_longer_opens_sockets(live_server: str) -> None:
    leaving = await sign_up(live_server)
    async with httpx.AsyncClient(base_url=live_server, headers=leaving.headers) as http:
        assert (await http.post("/api/v1/auth/logout")).status_code == 204
    await closed_with(ws_url(live_server, leaving, "c1"), 4401, "unauthorized")


async def test_several_messages_in_a_row_are_each_answered_once(
    live_server: str, account: Account
) -> None:
    async with connect(ws_url(live_server, account, "c1")) as socket:
        for n in range(3):
            await send(socket, type="message", id=f"m{n}", content=f"question {n}")
        dones = []
        while len(dones) < 3:
            frame = await next_frame(socket)
            assert frame["type"] != "error", frame
            if frame["type"] == "done":
                dones.append(frame["turn"])
    turns = await history(live_server, account, "c1")
    questions = {t["id"] for t in turns if t["role"] == "user"}
    answered = [t["reply_to"] for t in turns if t["role"] == "assistant"]
    assert len(questions) == 3 and sorted(answered) == sorted(questions)
    assert {d["id"] for d in dones} == {t["id"] for t in turns if t["role"] == "assistant"}
