"""Clients that misbehave: a flood of messages meets the per-user rate limit and delays no other
user, even one with a chat of the same id; a client that never reads is closed instead of making
the server buffer without limit. Nothing accepted is lost."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from websockets.asyncio.client import connect
from websockets.client import ClientProtocol
from websockets.uri import parse_uri

from allin.app import create_app
from tests.conftest import make_settings, ws_url
from tests.support.accounts import sign_up
from tests.support.servers import serve_ready
from tests.support.wsclient import frames_until, next_frame, send, until_done


@pytest.fixture(scope="module")
def strict_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("strict"),
        # A burst of 5 messages, then one every 2 s.
        rate_limit_per_minute=20,
        socket_queue_frames=64,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_a_flood_of_messages_is_rate_limited_and_the_accepted_ones_answered(
    strict_server: str,
) -> None:
    ann = await sign_up(strict_server)
    async with connect(ws_url(strict_server, ann, "c1")) as socket:
        for n in range(30):
            await send(socket, type="message", id=f"m{n}", content=f"question {n}")
        refused: list[str] = []
        answered: set[str] = set()
        while len(refused) + len(answered) < 30:
            frame = await next_frame(socket)
            if frame["type"] == "error":
                assert frame["code"] == "rate_limited", frame
                refused.append(frame["reply_to"])
            elif frame["type"] == "done":
                answered.add(frame["turn"]["content"].split("question ")[1].split('"')[0])
    assert len(refused) == 25 and len(answered) == 5
    async with httpx.AsyncClient(base_url=strict_server, headers=ann.headers) as http:
        turns = (await http.get(f"/api/v1/chat/history/{ann.user_id}/c1")).json()["turns"]
    assert sorted(t["client_msg_id"] for t in turns if t["role"] == "user") == sorted(
        f"m{n}" for n in range(30) if f"m{n}" not in refused
    )


@pytest.fixture(scope="module")
def small_queue_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    settings = make_settings(
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("small-queue"),
        rate_limit_per_minute=0,
        socket_queue_frames=64,
        memory=False,
    )
    with serve_ready(create_app(settings)) as url:
        yield url


async def test_a_client_that_never_reads_is_closed_not_buffered(
    small_queue_server: str, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = small_queue_server
    ann = await sign_up(url)
    # Acks carry the question: 6 MB in all, more than the kernel buffers for one connection.
    messages, question = 200, "x" * 30_000
    with StalledClient(ws_url(url, ann, "c1")) as client:
        for n in range(messages):
            frame = {"type": "message", "id": f"m{n}", "content": f"{n} {question}"}
            client.send_text(json.dumps(frame))
        # Every message is stored and answered although the client reads nothing...
        for _ in range(240):
            stored = await stored_turns(database_url, ann.user_id)
            if stored == 2 * messages:
                break
            await asyncio.sleep(0.25)
        assert stored == 2 * messages
        # ...and the server gave up on it instead of holding its frames.
        assert any("left 64 frames unread" in record.message for record in caplog.records)
        code = client.read_until_closed()
    # "Try again later" (1013) when the close frame got through, else the connection dropped
    # at the close timeout: a client that does not read cannot read the close frame either.
    assert code in (1013, None)
    # The client can come back for what it missed.
    async with connect(ws_url(url, ann, "c1")) as ws:
        await send(ws, type="resume", last_seq=0)
        replayed = [json.loads(await ws.recv()) for _ in range(2 * messages)]
    kinds = [frame["type"] for frame in replayed]
    assert kinds.count("ack") == kinds.count("done") == messages
    assert [frame["seq"] for frame in replayed] == sorted({frame["seq"] for frame in replayed})


class StalledClient:
    """A WebSocket client that sends but does not read, with a tiny receive window: what a
    frozen browser tab looks like to the server. Sans-I/O, so no library reads on its behalf."""

    def __init__(self, url: str) -> None:
        uri = parse_uri(url)
        self._protocol = ClientProtocol(uri)
        self._socket = socket.socket()
        # Before connecting, so the window the client advertises stays small.
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self._socket.settimeout(30)
        self._socket.connect((uri.host, uri.port))
        self._protocol.send_request(self._protocol.connect())
        self._flush()
        while self._protocol.handshake_exc is None and not self._protocol.events_received():
            self._protocol.receive_data(self._socket.recv(4096))
        if self._protocol.handshake_exc is not None:
            raise self._protocol.handshake_exc

    def __enter__(self) -> StalledClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._socket.close()

    def send_text(self, text: str) -> None:
        self._protocol.send_text(text.encode())
        self._flush()

    def read_until_closed(self) -> int | None:
        """Read everything now; the close code the server sent, or None if it just hung up."""
        while True:
            try:
                data = self._socket.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                return None
            self._protocol.receive_data(data)
            if self._protocol.close_rcvd is not None:
                return int(self._protocol.close_rcvd.code)

    def _flush(self) -> None:
        for data in self._protocol.data_to_send():
            self._socket.sendall(data)


async def stored_turns(database_url: str, user_id: str) -> int:
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        cursor = await conn.execute(
            "select count(*) from chat_turns where user_id = %s", (user_id,)
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def test_a_flood_in_one_users_chat_does_not_delay_another_user_with_the_same_chat_id(
    slow_server: str, database_url: str
) -> None:
    mallory, bob = await sign_up(slow_server), await sign_up(slow_server)
    chat, flood = "team-standup", 6
    async with (
        connect(ws_url(slow_server, mallory, chat)) as hers,
        connect(ws_url(slow_server, bob, chat)) as his,
    ):
        for n in range(flood):
            await send(hers, type="message", id=f"m{n}", content="Who are you?")
        # Her first answer is being written and the rest wait for it, in her chat only.
        her_frames = await frames_until(hers, "token")
        await send(his, type="message", id="b1", content="Who are you?")
        his_frames = await until_done(his)
        assert his_frames[-1]["type"] == "done", his_frames[-1]
        # Answered while most of hers still wait: each answer takes the same time.
        assert await stored_turns(database_url, mallory.user_id) < 2 * flood
        her_frames += await frames_until(hers, "done", flood)
    # Neither sees the other's frames.
    his_turns = {his_frames[0]["turn"]["id"], his_frames[-1]["turn"]["id"]}
    her_turns = {f["turn"]["id"] for f in her_frames if f["type"] in ("ack", "done")}
    assert {f["turn_id"] for f in his_frames if f["type"] == "token"} <= his_turns
    assert {f["turn_id"] for f in her_frames if f["type"] == "token"} <= her_turns
    assert all(f["turn"]["user_id"] == bob.user_id for f in his_frames if "turn" in f)
    assert all(f["turn"]["user_id"] == mallory.user_id for f in her_frames if "turn" in f)
